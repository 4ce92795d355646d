//! The JSON Lines record: mailroom's wire format.
//!
//! One JSON object per line. Fixed keys (SPEC section 2):
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `v` | int | record format version, currently 1; a missing `v` is read as 1 |
//! | `id` | string | stable ledger key: the same message has the same id on every machine |
//! | `account`, `mailbox` | string | where the message came from (`files` for imports) |
//! | `uid`, `uidvalidity` | int | IMAP identity, absent for file imports |
//! | `message_id`, `in_reply_to`, `references`, `thread` | | threading |
//! | `date` | string | RFC 3339 |
//! | `from` | `{name, address}` | `to`, `cc`, `reply_to` are lists of the same |
//! | `subject`, `text`, `text_new` | string | body as readable text, and only its new part |
//! | `attachments` | `[{filename, content_type, size}]` | |
//! | `flags` | `[string]` | conditions found while reading the message, e.g. `huge`, `charset_lossy` |
//! | `filter`, `triage`, `draft` | object | one key per stage; each stage writes only its own |
//!
//! `triage` = `{category, priority, sentiment, language, confidence, escalate, reasons[],
//! entities{order_ids[], tracking_numbers[], emails[], phones[]}, backend, model, prompt_version,
//! review_required}`.
//!
//! Keys a stage does not know (added by a user's `jq`, say) are passed through unchanged and in
//! order. Adding an optional key does not change `v`; changing a key's type or meaning does.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const RECORD_VERSION: u32 = 1;

fn version_one() -> u32 {
    1
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub address: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub content_type: String,
    #[serde(default)]
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Spam,
    Blank,
    Test,
    Autoreply,
    Bounce,
    Bulk,
    Duplicate,
}

impl Verdict {
    pub const ALL: [Verdict; 8] = [
        Verdict::Pass,
        Verdict::Spam,
        Verdict::Blank,
        Verdict::Test,
        Verdict::Autoreply,
        Verdict::Bounce,
        Verdict::Bulk,
        Verdict::Duplicate,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Spam => "spam",
            Verdict::Blank => "blank",
            Verdict::Test => "test",
            Verdict::Autoreply => "autoreply",
            Verdict::Bounce => "bounce",
            Verdict::Bulk => "bulk",
            Verdict::Duplicate => "duplicate",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterResult {
    pub verdict: Verdict,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entities {
    #[serde(default)]
    pub order_ids: Vec<String>,
    #[serde(default)]
    pub tracking_numbers: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Triage {
    pub category: String,
    pub priority: String,
    pub sentiment: String,
    pub language: String,
    pub confidence: f64,
    #[serde(default)]
    pub escalate: bool,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub entities: Entities,
    #[serde(default)]
    pub backend: String,
    #[serde(default)]
    pub model: String,
    /// Version of the prompt (LLM) or of the rules and features (embedded): with `backend` and
    /// `model` it tells one classification run from another.
    #[serde(default)]
    pub prompt_version: String,
    /// The classifier was not sure (or fell back): a human should check the category.
    #[serde(default)]
    pub review_required: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftResult {
    pub id: String,
    pub subject: String,
    pub body: String,
    #[serde(default)]
    pub missing_info: Vec<String>,
    pub risk: String,
    #[serde(default)]
    pub review_required: bool,
    #[serde(default)]
    pub backend: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One message as it travels between stages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    #[serde(default = "version_one")]
    pub v: u32,
    pub id: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub mailbox: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uidvalidity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Address>,
    #[serde(default)]
    pub to: Vec<Address>,
    #[serde(default)]
    pub cc: Vec<Address>,
    #[serde(default)]
    pub reply_to: Vec<Address>,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub text_new: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<Triage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<DraftResult>,
    /// Keys this version does not know, passed through untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Record {
    /// An empty record with only an id, the starting point for parsers and tests.
    pub fn new(id: impl Into<String>) -> Record {
        Record {
            v: RECORD_VERSION,
            id: id.into(),
            account: String::new(),
            mailbox: String::new(),
            uid: None,
            uidvalidity: None,
            message_id: None,
            in_reply_to: None,
            references: Vec::new(),
            thread: None,
            date: None,
            from: None,
            to: Vec::new(),
            cc: Vec::new(),
            reply_to: Vec::new(),
            subject: String::new(),
            text: String::new(),
            text_new: String::new(),
            attachments: Vec::new(),
            flags: Vec::new(),
            filter: None,
            triage: None,
            draft: None,
            extra: Map::new(),
        }
    }

    pub fn sender_address(&self) -> &str {
        self.from.as_ref().map(|a| a.address.as_str()).unwrap_or("")
    }

    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// The body a stage should read first: the new part, or the whole text when the
    /// new part is empty (a forwarded message, say).
    pub fn best_text(&self) -> &str {
        if self.text_new.trim().is_empty() { &self.text } else { &self.text_new }
    }
}

/// Never-failing serialization for a record (all fields are plain data).
pub fn to_json_line(record: &Record) -> String {
    serde_json::to_string(record).unwrap_or_else(|e| format!("{{\"v\":1,\"error\":\"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_survive_a_round_trip_in_order() {
        let line = r#"{"id":"m1","subject":"Hi","zz_user":{"a":1},"aa_user":[1,2]}"#;
        let rec: Record = serde_json::from_str(line).unwrap();
        assert_eq!(rec.v, 1);
        let out = serde_json::to_string(&rec).unwrap();
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["zz_user"]["a"], 1);
        assert_eq!(back["aa_user"][1], 2);
        assert!(out.find("zz_user").unwrap() < out.find("aa_user").unwrap());
        assert_eq!(back["v"], 1);
    }

    #[test]
    fn stage_keys_keep_their_own_unknown_fields() {
        let line = r#"{"id":"m1","triage":{"category":"refund","priority":"P2","sentiment":"neutral","language":"en","confidence":0.9,"custom":true}}"#;
        let rec: Record = serde_json::from_str(line).unwrap();
        let triage = rec.triage.as_ref().unwrap();
        assert_eq!(triage.category, "refund");
        assert_eq!(triage.extra["custom"], true);
        let out: Value = serde_json::from_str(&to_json_line(&rec)).unwrap();
        assert_eq!(out["triage"]["custom"], true);
    }

    #[test]
    fn verdicts_serialize_snake_case() {
        assert_eq!(serde_json::to_string(&Verdict::Autoreply).unwrap(), "\"autoreply\"");
        for v in Verdict::ALL {
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{}\"", v.as_str()));
        }
    }

    #[test]
    fn missing_id_is_an_error() {
        let err = serde_json::from_str::<Record>(r#"{"subject":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `id`"));
    }
}
