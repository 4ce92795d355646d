//! Which case a message belongs to, and who wrote it.
//!
//! As helpdesks do: first the threading headers (In-Reply-To, then References from the
//! nearest ancestor back), matched against the Message-IDs of every message in a case and of
//! every reply we sent (`drafts.out_message_id`); then, for mail without usable headers, the
//! same customer address with the same subject (Re:/AW:/Fwd:/回复: removed) within
//! `thread_window_days`.
//!
//! Who wrote it decides what it does to the case:
//! - `ours`: a reply mailroom sent, read back from the Sent folder or a Bcc copy (its
//!   Message-ID is a draft's `out_message_id`). It joins the case and changes nothing.
//! - `team`: a person of the team, from their own mail client (a Sent folder, a team address,
//!   or a reply in a case's thread written *to* the customer by someone else). It joins the
//!   case, marks its open drafts `handled` (nobody answers twice) and records who answered.
//!   Team mail outside any case opens no case.
//! - `customer`: everyone else. It joins its case (which now waits on us again) or opens one.

use std::sync::LazyLock;

use anyhow::Result;
use regex::Regex;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::record::Record;

/// Thread ids looked up per message at most (long References chains keep their ends).
const MAX_REFS: usize = 30;

/// Names of Sent folders in common mail servers and clients (compared case-insensitively,
/// on the last path segment: "INBOX.Sent", "[Gmail]/Sent Mail" and ".Sent" all count).
const SENT_NAMES: &[&str] = &[
    "sent",
    "sent items",
    "sent messages",
    "sent mail",
    "outbox",
    "gesendet",
    "gesendete elemente",
    "gesendete objekte",
    "envoyés",
    "messages envoyés",
    "éléments envoyés",
    "enviados",
    "elementos enviados",
    "posta inviata",
    "inviata",
    "inviati",
    "verzonden",
    "verzonden items",
    "已发送",
    "已发送邮件",
    "寄件備份",
];

/// What decides who wrote a message, from the config.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The thread window of the subject fallback, in days.
    pub window_days: u32,
    /// The team's own addresses (accounts' IMAP users and SMTP From), lower case.
    pub team_addresses: Vec<String>,
    /// The team's mail domains (`[team] domains`), lower case.
    pub team_domains: Vec<String>,
    /// Configured Sent folders (`imap.sent_mailbox`), besides the common names.
    pub sent_mailboxes: Vec<String>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { window_days: 14, team_addresses: Vec::new(), team_domains: Vec::new(), sent_mailboxes: Vec::new() }
    }
}

impl Rules {
    pub fn from_config(config: &Config) -> Rules {
        let mut team_addresses = Vec::new();
        let mut sent_mailboxes = Vec::new();
        for account in config.accounts.values() {
            if let Some(imap) = &account.imap {
                if imap.user.contains('@') {
                    team_addresses.push(imap.user.to_lowercase());
                }
                sent_mailboxes.extend(imap.sent_mailbox.clone());
            }
            if let Some(smtp) = &account.smtp
                && let Some(address) = angle_address(&smtp.from)
            {
                team_addresses.push(address);
            }
        }
        Rules {
            window_days: config.cases.thread_window_days,
            team_addresses,
            team_domains: config.team.domains.iter().map(|d| d.trim_start_matches('@').to_lowercase()).collect(),
            sent_mailboxes,
        }
    }

    /// The address belongs to the team.
    pub fn is_team_address(&self, address: &str) -> bool {
        let address = address.to_lowercase();
        let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        !address.is_empty() && (self.team_addresses.contains(&address) || self.team_domains.iter().any(|d| d == domain))
    }

    /// The mailbox is a Sent folder: configured, or by one of the common names.
    pub fn is_sent_mailbox(&self, mailbox: &str) -> bool {
        if self.sent_mailboxes.iter().any(|m| m.eq_ignore_ascii_case(mailbox)) {
            return true;
        }
        let last = mailbox.rsplit(['/', '.']).find(|s| !s.is_empty()).unwrap_or(mailbox).to_lowercase();
        SENT_NAMES.contains(&last.as_str())
    }
}

/// `Support <support@example.com>` → `support@example.com`.
fn angle_address(from: &str) -> Option<String> {
    let inner = match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => &from[a + 1..b],
        _ => from,
    };
    let inner = inner.trim().to_lowercase();
    inner.contains('@').then_some(inner)
}

/// Who wrote a message of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Team,
    Ours,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Team => "team",
            Role::Ours => "ours",
        }
    }

    pub fn parse(s: &str) -> Role {
        match s {
            "team" => Role::Team,
            "ours" => Role::Ours,
            _ => Role::Customer,
        }
    }
}

static SUBJECT_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(?:
            (?:re|aw|wg|fwd?|fw|tr|rv|sv|vs|antw|antwort|odp|rif|r|res|ref|réf|enc|i)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]
          | 回复\s*[:：]? | 答复\s*[:：]? | 转发\s*[:：]? | 回覆\s*[:：]? | 轉寄\s*[:：]? | 转\s*[:：]
          | \[(?:external|extern|ext|spam|suspicious)\]
        )\s*",
    )
    .expect("subject prefix regex")
});

/// The subject without reply and forward prefixes, however many ("Re: AW: Fwd: x" → "x").
pub fn clean_subject(subject: &str) -> String {
    let mut s: String = subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    // Most subjects have no prefix: skip the regex unless the start looks like one.
    let head: String = s.trim_start().chars().take(24).collect();
    if !head.contains([':', '：', ']', '复', '覆', '发', '寄']) {
        return s.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    while let Some(m) = SUBJECT_PREFIX.find(&s) {
        if m.end() == 0 {
            break;
        }
        s = s[m.end()..].to_string();
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The key the subject fallback compares: the clean subject in lower case, without edge
/// punctuation; `None` when nothing is left (an empty subject matches nothing).
pub fn subject_key(subject: &str) -> Option<String> {
    key_of_clean(&clean_subject(subject))
}

/// [`subject_key`] of a subject already cleaned.
pub fn key_of_clean(clean: &str) -> Option<String> {
    let s = clean.to_lowercase();
    let s = s.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
    (!s.is_empty()).then_some(s)
}

/// A Message-ID without angle brackets or blanks.
pub fn bare_id(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim()
}

/// The ids a message refers to, nearest first: In-Reply-To, then References from the last.
pub fn thread_ids(record: &Record) -> Vec<String> {
    let own = record.message_id.as_deref().map(bare_id);
    let mut out: Vec<String> = Vec::new();
    let candidates = record.in_reply_to.iter().chain(record.references.iter().rev());
    for id in candidates.map(|s| bare_id(s)).filter(|s| !s.is_empty()) {
        if Some(id) != own && !out.iter().any(|x| x == id) {
            out.push(id.to_string());
        }
    }
    // A very long chain: the nearest ids and the root are what matter.
    if out.len() > MAX_REFS {
        let root = out.pop();
        out.truncate(MAX_REFS - 1);
        out.extend(root);
    }
    out
}

/// A stable case id from the message that opened it: `c` and ten hex digits.
pub fn case_id_for(first_message: &str) -> String {
    let hex = format!("{:x}", Sha256::digest(first_message.as_bytes()));
    format!("c{}", &hex[..10])
}

/// The case holding a message, if any.
pub fn case_of_message(conn: &Connection, message: &str) -> Result<Option<String>> {
    // Cached: classify asks this for every reply.
    Ok(conn
        .prepare_cached("SELECT case_id FROM case_messages WHERE message = ?1 LIMIT 1")?
        .query_row([message], |r| r.get(0))
        .optional()?)
}

/// What the ledger knows about a new message's Message-ID and the ids it refers to.
#[derive(Debug, Default)]
pub struct Known {
    /// The message is a reply we sent (its Message-ID is a draft's): (draft, the message it answers).
    pub sent_as: Option<(String, String)>,
    /// A message from the same sender with the same Message-ID is already in a case: (case, role).
    pub copy_of: Option<(String, Role)>,
    /// The case of the nearest referenced message, or of the reply of ours it answers.
    pub by_thread: Option<String>,
}

/// Looks up a message's own Message-ID and its thread ids in two indexed queries (this runs
/// for every message of a history import).
pub fn lookup(conn: &Connection, record: &Record) -> Result<Known> {
    let own = record.message_id.as_deref().map(bare_id).filter(|s| !s.is_empty());
    let refs = thread_ids(record);
    let mut known = Known::default();
    if own.is_none() && refs.is_empty() {
        return Ok(known);
    }
    let ids: Vec<&str> = own.into_iter().chain(refs.iter().map(String::as_str)).collect();
    let sender = record.sender_address().to_lowercase();
    // Messages in a case with one of the ids.
    let mut in_cases: Vec<(String, String, Role, Option<String>)> = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT j.value, cm.case_id, cm.role, m.from_addr FROM json_each(?1) j \
         JOIN messages m ON m.message_id = j.value JOIN case_messages cm ON cm.message = m.id",
    )?;
    let rows = stmt.query_map([serde_json::to_string(&ids)?], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, Role::parse(&r.get::<_, String>(2)?), r.get(3)?))
    })?;
    for row in rows {
        in_cases.push(row?);
    }
    // Replies we sent with one of the ids (stored with angle brackets).
    let bracketed: Vec<String> = ids.iter().map(|i| format!("<{i}>")).collect();
    let mut replies: Vec<(String, String, String)> = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT j.value, d.id, d.message FROM json_each(?1) j JOIN drafts d ON d.out_message_id = j.value",
    )?;
    let rows = stmt.query_map([serde_json::to_string(&bracketed)?], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    for row in rows {
        let (value, draft, message): (String, String, String) = row?;
        replies.push((bare_id(&value).to_string(), draft, message));
    }
    if let Some(own) = own {
        known.sent_as = replies.iter().find(|r| r.0 == own).map(|r| (r.1.clone(), r.2.clone()));
        known.copy_of =
            in_cases.iter().find(|m| m.0 == own && m.3.as_deref() == Some(sender.as_str())).map(|m| (m.1.clone(), m.2));
    }
    for id in &refs {
        if let Some(m) = in_cases.iter().find(|m| m.0 == *id) {
            known.by_thread = Some(m.1.clone());
            break;
        }
        if let Some(r) = replies.iter().find(|r| r.0 == *id)
            && let Some(case) = case_of_message(conn, &r.2)?
        {
            known.by_thread = Some(case);
            break;
        }
    }
    Ok(known)
}

/// The newest case of `address` with the same subject key and a message since `since`.
pub fn case_by_subject(conn: &Connection, address: &str, key: &str, since: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM cases WHERE customer_address = ?1 AND subject_key = ?2 AND last_message_at >= ?3 \
             ORDER BY last_message_at DESC LIMIT 1",
        )?
        .query_row(params![address.to_lowercase(), key, since], |r| r.get(0))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_in_many_languages_are_removed() {
        assert_eq!(clean_subject("Re: AW: Fwd: Parcel hasn't arrived"), "Parcel hasn't arrived");
        assert_eq!(clean_subject("RE[2]: WG: Bestellung"), "Bestellung");
        assert_eq!(clean_subject("回复：无法登录账户"), "无法登录账户");
        assert_eq!(clean_subject("TR: RV: Demande d'échange"), "Demande d'échange");
        assert_eq!(clean_subject("[EXTERNAL] Re:  Where  is my order?"), "Where is my order?");
        // A word that merely starts like a prefix stays.
        assert_eq!(clean_subject("Return label"), "Return label");
        assert_eq!(clean_subject("Refund please"), "Refund please");
        assert_eq!(subject_key("Re: Where is my order??"), Some("where is my order".into()));
        assert_eq!(subject_key("Re:"), None);
        assert_eq!(subject_key(""), None);
    }

    #[test]
    fn thread_ids_are_nearest_first_without_brackets_or_the_own_id() {
        let mut r = Record::new("m");
        r.message_id = Some("own@x".into());
        r.in_reply_to = Some("<b@x>".into());
        r.references = vec!["a@x".into(), "b@x".into(), "own@x".into()];
        assert_eq!(thread_ids(&r), ["b@x", "a@x"]);
    }

    #[test]
    fn sent_folders_are_recognised_by_name() {
        let rules = Rules { sent_mailboxes: vec!["Outgoing-Archive".into()], ..Rules::default() };
        for m in ["Sent", "INBOX.Sent", ".Sent", "[Gmail]/Sent Mail", "Sent Items", "Gesendet", "Outgoing-Archive"] {
            assert!(rules.is_sent_mailbox(m), "{m}");
        }
        for m in ["INBOX", "eml", "sample.mbox", "Maildir", "Sentiment"] {
            assert!(!rules.is_sent_mailbox(m), "{m}");
        }
    }

    #[test]
    fn team_addresses_and_domains() {
        let rules = Rules {
            team_addresses: vec!["support@shop.example".into()],
            team_domains: vec!["team.example".into()],
            ..Rules::default()
        };
        assert!(rules.is_team_address("Support@Shop.example"));
        assert!(rules.is_team_address("maria@team.example"));
        assert!(!rules.is_team_address("maria@shop.example.evil"));
        assert!(!rules.is_team_address(""));
        assert_eq!(angle_address("Support <Support@Shop.example>").as_deref(), Some("support@shop.example"));
        assert_eq!(angle_address("support@shop.example").as_deref(), Some("support@shop.example"));
    }
}
