//! The filter stage: a verdict for every message before it costs anyone time.
//!
//! Verdicts are `pass`, `spam`, `blank`, `test`, `autoreply`, `bounce`, `bulk` and
//! `duplicate`, each with reasons a person can read. The rules run in a fixed order, and the
//! order is the policy: a human decision first (a rescue is final), then resends, the allow
//! list, the block list, a trusted upstream filter, delivery reports, loops and automatic
//! replies, test and blank mail, the statistical spam model, and last the bulk markers. The
//! worst thing this stage can do is drop a customer, so every rule that could catch one
//! leans towards `pass`: the spam threshold is high, a reply to our own mail or a sender we
//! have answered before is never spam, and list headers do not hide a customer's question.

pub mod bayes;
pub mod blank;
pub mod bounce;
pub mod bulk;
pub mod headers;
pub mod history;
pub mod lists;
pub mod ooo;
pub mod testmail;
pub mod tokens;
pub mod train;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use anyhow::{Context, Result};
use regex::Regex;
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::ConfigError;
use crate::ledger::Ledger;
use crate::mail::parse::Headers;
use crate::record::{FilterResult, Record, Verdict};

pub use bayes::SpamModel;

/// Bumped when the rules change meaning, so a re-filter can be told apart in the ledger.
pub const RULES_VERSION: &str = "1";

/// The spam model shipped in the binary (see `train` and scripts/train-spam-model.sh).
static EMBEDDED_MODEL: &[u8] = include_bytes!("spam_model.bin");

pub fn embedded_model() -> Result<SpamModel> {
    SpamModel::from_bytes(EMBEDDED_MODEL).context("the embedded spam model is unreadable")
}

/// Where a retrained model lives: `[filter] model_path`, or next to the ledger (by default
/// `$XDG_DATA_HOME/mailroom/spam-model.bin`), so each ledger has the model of its own labels.
pub fn model_path(config: &Config, ledger: &Path) -> PathBuf {
    match &config.filter.model_path {
        Some(p) => config.resolve_path(p),
        None => ledger.with_file_name("spam-model.bin"),
    }
}

/// The retrained model if there is one, else the embedded one; with the name the ledger
/// records for its verdicts.
pub fn load_model(config: &Config, ledger: &Path) -> Result<(SpamModel, String)> {
    let path = model_path(config, ledger);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let model = SpamModel::from_bytes(&bytes).map_err(|e| {
                ConfigError::with_hint(
                    format!("spam model {}: {e}", path.display()),
                    "run `mailroom filter --train` to rewrite it, or remove it to use the embedded model",
                )
            })?;
            Ok((model, format!("spam-bayes:{}", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && config.filter.model_path.is_none() => {
            Ok((embedded_model()?, "spam-bayes:embedded".into()))
        }
        Err(e) => Err(ConfigError::with_hint(
            format!("cannot read the spam model {}: {e}", path.display()),
            "run `mailroom filter --train`, or remove `model_path` from [filter]",
        )
        .into()),
    }
}

/// One record through the stage: kept in the ledger if it was not (hand-made JSONL),
/// judged with its raw headers, and the verdict stored as the next filter result version.
pub struct Filtered {
    pub result: FilterResult,
    /// The record was not in the ledger and was stored from itself.
    pub rebuilt: bool,
}

pub fn filter_record(
    ledger: &mut Ledger,
    record: &Record,
    ctx: &FilterContext<'_>,
    model_name: &str,
    run_id: Option<i64>,
) -> Result<Filtered> {
    let raw = ledger.raw(&record.id)?;
    let rebuilt = raw.is_none() && history::keep_record(ledger, record, run_id)?;
    // A source rebuilt from a record carries no real headers to judge.
    let headers = raw.as_deref().map(Headers::parse).filter(|h| !h.has(history::REBUILT_HEADER));
    let result = verdict(record, headers.as_ref(), ctx, Some(&*ledger))?;
    history::record_verdict(ledger, &record.id, &result, model_name, run_id)?;
    Ok(Filtered { result, rebuilt })
}

/// What the ledger knows that the rules ask about. `None` for records judged without a
/// ledger (evaluation, tests).
pub trait History {
    /// The latest human decision on this message (a rescue, a confirmation, a spam mark).
    fn human_decision(&self, id: &str) -> Result<Option<HumanDecision>>;
    /// The first other message with this Message-ID, if this one is a later copy.
    fn earlier_copy(&self, message_id: &str, id: &str) -> Result<Option<EarlierCopy>>;
    /// The first of `message_ids` that is a message we sent ourselves.
    fn our_sent_message(&self, message_ids: &[&str]) -> Result<Option<String>>;
    /// We have answered this sender before, or a human said their mail is not spam.
    fn known_correspondent(&self, address: &str) -> Result<bool>;
}

/// The message a possible duplicate repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierCopy {
    pub id: String,
    pub from: String,
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HumanDecision {
    pub verdict: Verdict,
    pub actor: String,
    pub source: String,
    pub at: String,
}

/// Everything the rules need besides the message.
pub struct FilterContext<'a> {
    pub allow: &'a [String],
    pub block: &'a [String],
    pub trust_upstream: bool,
    pub spam_threshold: f64,
    /// Our own mail domains, lower case (from `[team] domains` and the accounts).
    pub team_domains: Vec<String>,
    /// Our own mailbox addresses, lower case.
    pub own_addresses: Vec<String>,
    /// VIP senders (`[team] vip`): addresses or `@domain`s, never spam.
    pub vip: &'a [String],
    pub model: &'a SpamModel,
}

impl<'a> FilterContext<'a> {
    pub fn new(config: &'a Config, model: &'a SpamModel) -> FilterContext<'a> {
        let mut own_addresses: Vec<String> = Vec::new();
        for account in config.accounts.values() {
            if let Some(imap) = &account.imap {
                own_addresses.push(imap.user.to_lowercase());
            }
            if let Some(smtp) = &account.smtp {
                own_addresses.push(bare_address(&smtp.from));
                if let Some(u) = &smtp.user {
                    own_addresses.push(u.to_lowercase());
                }
            }
        }
        own_addresses.retain(|a| a.contains('@'));
        own_addresses.sort();
        own_addresses.dedup();
        let mut team_domains: Vec<String> =
            config.team.domains.iter().map(|d| d.trim().trim_start_matches('@').to_lowercase()).collect();
        team_domains.extend(own_addresses.iter().filter_map(|a| a.rsplit_once('@').map(|(_, d)| d.to_string())));
        team_domains.retain(|d| !d.is_empty());
        team_domains.sort();
        team_domains.dedup();
        FilterContext {
            allow: &config.filter.allow,
            block: &config.filter.block,
            trust_upstream: config.filter.trust_upstream_spam_headers,
            spam_threshold: config.filter.spam_threshold,
            team_domains,
            own_addresses,
            vip: &config.team.vip,
            model,
        }
    }

    fn is_team_address(&self, address: &str) -> bool {
        let domain = address.rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default();
        self.team_domains.iter().any(|d| lists::domain_matches(&domain, d))
    }
}

/// `"Support <support@shop.example>"` → `support@shop.example`.
fn bare_address(s: &str) -> String {
    let s = s.trim();
    let inner = match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        _ => s,
    };
    inner.trim().to_lowercase()
}

fn result(verdict: Verdict, reasons: Vec<String>, extra: Map<String, Value>) -> FilterResult {
    FilterResult { verdict, reasons, extra }
}

/// Gives `record` its verdict. `headers` are the message's own headers when the ledger has
/// its raw source; without them the header rules cannot run, and the reasons say so.
/// `history` is the ledger, for duplicates, loops, known senders and human decisions.
pub fn verdict(
    record: &Record,
    headers: Option<&Headers>,
    ctx: &FilterContext<'_>,
    history: Option<&dyn History>,
) -> Result<FilterResult> {
    let mut notes: Vec<String> = Vec::new();
    let mut extra = Map::new();
    if headers.is_none() {
        notes.push("no raw message in the ledger: judged on the record alone, without headers".into());
    }
    let sender = record.sender_address().trim().to_lowercase();

    // 1. A person's decision is final.
    if let Some(history) = history {
        if let Some(d) = history.human_decision(&record.id)? {
            let what = if d.verdict == Verdict::Pass { "not spam" } else { "spam" };
            return Ok(result(d.verdict, vec![format!("{} marked this {what} ({}, {})", d.actor, d.source, d.at)], extra));
        }
    }
    // 2. A resend of a message that is already in the pipeline.
    if let (Some(history), Some(mid)) = (history, record.message_id.as_deref().filter(|m| !m.trim().is_empty())) {
        if let Some(first) = history.earlier_copy(mid, &record.id)? {
            // Some mailers reuse Message-IDs; only the same sender and subject make a resend.
            let same_sender = first.from.eq_ignore_ascii_case(record.sender_address().trim());
            let same_subject = testmail::bare_subject(&first.subject) == testmail::bare_subject(&record.subject);
            if same_sender && same_subject {
                return Ok(result(
                    Verdict::Duplicate,
                    vec![format!("same Message-ID <{mid}>, sender and subject as message {}, already in the ledger", first.id)],
                    extra,
                ));
            }
            notes.push(format!("shares its Message-ID with message {} but not its sender and subject: not a duplicate", first.id));
        }
    }
    // 3-4. The team's own lists.
    if let Some(entry) = lists::matching(ctx.allow, &sender) {
        notes.insert(0, format!("sender {sender} is on the allow list ({entry})"));
        return Ok(result(Verdict::Pass, notes, extra));
    }
    if let Some(entry) = lists::matching(ctx.block, &sender) {
        return Ok(result(Verdict::Spam, vec![format!("sender {sender} is on the block list ({entry})")], extra));
    }
    // 5. An upstream filter the team trusts.
    if let Some(h) = headers {
        if ctx.trust_upstream {
            if let Some(why) = headers::upstream_spam(h) {
                return Ok(result(Verdict::Spam, vec![format!("the upstream spam filter says spam ({why})")], extra));
            }
        }
    }
    // 6. Delivery reports.
    match bounce::report(record, headers) {
        Some(bounce::Report::Bounce(why)) => return Ok(result(Verdict::Bounce, vec![why], extra)),
        Some(bounce::Report::Autoreply(why)) => return Ok(result(Verdict::Autoreply, vec![why], extra)),
        None => {}
    }
    // 7-8. Our own mail coming back, and automatic replies.
    if let Some(why) = mail_loop(record, headers, ctx, history)? {
        return Ok(result(Verdict::Autoreply, vec![why], extra));
    }
    if let Some(why) = automatic_reply(record, headers) {
        return Ok(result(Verdict::Autoreply, vec![why], extra));
    }
    // 9-10. Test and blank mail.
    let has_attachments = !record.attachments.is_empty();
    if let Some(why) = testmail::test_reason(&record.subject, &record.text_new, ctx.is_team_address(&sender), has_attachments) {
        return Ok(result(Verdict::Test, vec![why], extra));
    }
    if let Some(why) = blank::blank_reason(&record.subject, &record.text, &record.text_new, record.attachments.len()) {
        return Ok(result(Verdict::Blank, vec![why], extra));
    }
    // 11. Mailing lists, mass mail and machine notices, unless a customer is writing through one.
    if let Some(h) = headers {
        let markers = headers::bulk_markers(h);
        if !markers.is_empty() {
            match customer_evidence(record, ctx, history, false)? {
                Some(evidence) => notes.insert(0, format!("{} but {evidence}: kept for a human", markers.join(", "))),
                None => return Ok(result(Verdict::Bulk, markers, extra)),
            }
        } else if let Some(kind) = headers::auto_submitted(h) {
            let why = format!("sent by a machine (Auto-Submitted: {kind})");
            match customer_evidence(record, ctx, history, true)? {
                Some(evidence) => notes.insert(0, format!("{why} but {evidence}: kept for a human")),
                None => return Ok(result(Verdict::Autoreply, vec![why], extra)),
            }
        }
    }
    // 12. Mass mail without list headers, known by its footer: mass mail is bulk, whether
    //     or not its reader once asked for it.
    if let Some(why) = bulk::footer(&record.text_new) {
        match customer_evidence(record, ctx, history, true)? {
            Some(evidence) => notes.insert(0, format!("{why} but {evidence}: kept for a human")),
            None => return Ok(result(Verdict::Bulk, vec![why], extra)),
        }
    }
    // 13. The spam model.
    let text = model_text(record);
    let features = tokens::features(&record.subject, text);
    let language = tokens::language(text);
    let score = ctx.model.score(&features, language);
    match score.probability {
        Some(p) => {
            extra.insert("spam_score".into(), Value::from((p * 1000.0).round() / 1000.0));
            if p >= ctx.spam_threshold {
                let words = score.spam_tokens.iter().map(|t| display_token(t)).collect::<Vec<_>>().join(", ");
                let why = format!("spam model: {:.3} ≥ {} (spam words: {words})", p, ctx.spam_threshold);
                let talks_like_a_customer = FIRST_PERSON_ORDER
                    .find(text)
                    .or_else(|| FIRST_PERSON_ORDER.find(&record.subject))
                    .or_else(|| PURCHASE_INTEREST.find(text))
                    .map(|m| format!("it talks about \"{}\" like a customer", m.as_str()))
                    .or_else(|| first_person_voice(text));
                match customer_guard(record, ctx, history)?.or(talks_like_a_customer) {
                    Some(guard) => notes.push(format!("{why}, but {guard}: kept for a human")),
                    None => return Ok(result(Verdict::Spam, vec![why], extra)),
                }
            } else {
                notes.push(format!("spam model: {p:.3} (below {})", ctx.spam_threshold));
            }
        }
        None => notes.push(format!("spam model did not judge: {}", score.abstained.unwrap_or_default())),
    }
    if !notes.iter().any(|n| n.ends_with("kept for a human") || n.contains("allow list")) {
        notes.insert(0, "no rule matched".into());
    }
    Ok(result(Verdict::Pass, notes, extra))
}

/// What the spam model reads: the sender's own new text (a customer's reply quotes our
/// mail, and company disclaimers read like spam), or all of it when nothing new was found.
pub fn model_text(record: &Record) -> &str {
    record.best_text()
}

fn display_token(t: &str) -> String {
    match t.split_once(':') {
        Some(("s", "ALLCAPS")) => "a subject in capitals".into(),
        Some(("s", w)) => format!("{} in the subject", display_token(w)),
        Some(("u", "link")) => "links".into(),
        Some(("u", "many")) => "many links".into(),
        Some(("u", "ip")) => "a link to a bare IP address".into(),
        Some(("u", _)) => "odd links".into(),
        Some(("p", "money")) | Some(("p", "price")) => "money amounts".into(),
        Some(("p", _)) => "!!".into(),
        Some(("e", _)) => "e-mail addresses in the text".into(),
        Some(("n", n)) => format!("{n}-digit numbers"),
        _ => format!("\"{t}\""),
    }
}

/// Our own sent mail coming back to the inbox.
fn mail_loop(
    record: &Record,
    headers: Option<&Headers>,
    ctx: &FilterContext<'_>,
    history: Option<&dyn History>,
) -> Result<Option<String>> {
    if let Some(why) = headers.and_then(|h| headers::x_loop(h, &ctx.own_addresses)) {
        return Ok(Some(format!("mail loop: {why}")));
    }
    if let (Some(history), Some(mid)) = (history, record.message_id.as_deref()) {
        if history.our_sent_message(&[mid])?.is_some() {
            return Ok(Some(format!("mail loop: <{mid}> is a message we sent")));
        }
    }
    let sender = record.sender_address().to_lowercase();
    let forwarded = testmail::bare_subject(&record.subject).len() < record.subject.trim().len();
    if !sender.is_empty() && ctx.own_addresses.contains(&sender) && !forwarded && !record.subject.is_empty() {
        let automatic = headers.is_some_and(|h| headers::auto_submitted(h).is_some() || headers::null_return_path(h));
        if automatic {
            return Ok(Some(format!("mail loop: sent automatically from our own address {sender}")));
        }
    }
    Ok(None)
}

/// RFC 3834 and vendor auto-reply markers, and out-of-office wording.
fn automatic_reply(record: &Record, headers: Option<&Headers>) -> Option<String> {
    let text = record.best_text();
    if let Some(h) = headers {
        if let Some(kind) = headers::auto_submitted(h) {
            if kind == "auto-replied" {
                return Some("automatic reply (Auto-Submitted: auto-replied, RFC 3834)".into());
            }
            if ooo::subject_is_autoreply(&record.subject) || ooo::body_says_away(text) {
                return Some(format!("automatic reply (Auto-Submitted: {kind} and out-of-office wording)"));
            }
        }
        if let Some(marker) = headers::autoreply_marker(h) {
            return Some(format!("automatic reply ({marker})"));
        }
        let hinted = headers::auto_response_suppress(h)
            .or_else(|| headers::precedence(h).filter(|p| p == "junk").map(|_| "Precedence: junk".to_string()))
            .or_else(|| headers::null_return_path(h).then(|| "Return-Path: <>".to_string()));
        if let Some(hint) = hinted {
            if ooo::body_says_away(text) {
                return Some(format!("out-of-office reply ({hint} and out-of-office wording)"));
            }
        }
    }
    if ooo::subject_is_autoreply(&record.subject) {
        return Some(format!("out-of-office subject \"{}\"", headers::clip(&record.subject)));
    }
    if ooo::body_says_automatic(text) {
        return Some("the text says it is an automatic reply".into());
    }
    None
}

static ORDER_TALK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?-u:\b)(?:my|our)\s+(?:order|package|parcel|refund|purchase|delivery|shipment|item|account|invoice)
      | (?-u:\b)order\s*(?:\#|no\.?|nr\.?|number|id)\s*:?\s*[a-z0-9-]*[0-9０-９]
      | (?-u:\b)(?:meine[rn]?|unsere)\s+(?:bestellung|lieferung|paket|sendung|rückerstattung|erstattung|rechnung)
      | (?-u:\b)(?:ma|mon|mes|notre)\s+(?:commande|colis|remboursement|livraison|facture)
      | (?-u:\b)(?:mi|mis|nuestro)\s+(?:pedido|paquete|reembolso|envío|envio|factura)
      | (?-u:\b)(?:il\s+mio|la\s+mia|mio|mia)\s+(?:ordine|pacco|rimborso|spedizione)
      | (?-u:\b)(?:mijn|onze)\s+(?:bestelling|pakket|terugbetaling)
      | (?-u:\b)(?:meu|minha)\s+(?:pedido|encomenda|reembolso)
      | 我的订单 | 订单号 | 我的包裹 | 退款 | 注文番号",
    )
    .expect("order talk regex")
});

/// A customer writing about their own order, in the first person: phishing and scams
/// say "your order", customers say "my order".
static FIRST_PERSON_ORDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?-u:\b)(?:my|our)\s+(?:[a-z]+\s+)?(?:order|orders|package|parcel|refund|purchase|delivery|shipment|return)(?-u:\b) | (?-u:\b)my\s+account(?-u:\b)
      | (?-u:\b)(?:i|we)\s+(?:have\s+|had\s+)?(?:ordered|purchased)(?-u:\b)
      | (?-u:\b)(?:meine[rn]?|unsere)\s+(?:bestellung|lieferung|paket|sendung|rücksendung|erstattung)(?-u:\b) | (?-u:\b)ich\s+habe\s+.{0,40}bestellt
      | (?-u:\b)(?:ma|mon|notre)\s+(?:commande|colis|remboursement|livraison)(?-u:\b) | (?-u:\b)j'ai\s+command[ée]
      | (?-u:\b)(?:mi|nuestro)\s+(?:pedido|paquete|reembolso|envío|envio)(?-u:\b) | (?-u:\b)(?:il\s+mio|la\s+mia)\s+(?:ordine|pacco|rimborso|spedizione)(?-u:\b)
      | (?-u:\b)(?:mijn|onze)\s+(?:bestelling|pakket)(?-u:\b) | (?-u:\b)(?:meu|minha)\s+(?:pedido|encomenda)(?-u:\b)
      | 我的订单 | 我的包裹 | 我订购",
    )
    .expect("first-person order regex")
});

/// A buyer asking us for prices: spam sells, a wholesale lead wants to buy.
static PURCHASE_INTEREST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        interested\s+in\s+(?:purchasing|buying|ordering|your\s+products)
      | (?:send|share|quote)\s+(?:us\s+|me\s+)?(?:your\s+|a\s+|the\s+)?(?:latest\s+|best\s+)?(?:catalog(?:ue)?|price\s*list|wholesale\s+prices?|quotation|quote|best\s+price|pricing)
      | request\s+for\s+(?:a\s+)?quot(?:e|ation) | (?-u:\b)rfq(?-u:\b)",
    )
    .expect("purchase interest regex")
});

/// Spam sells to "you"; a customer writes about "I" and "my". A text that says "I" far more
/// often than "you" reads like a customer, whatever its words.
fn first_person_voice(text: &str) -> Option<String> {
    let (mut first, mut second) = (0usize, 0usize);
    for w in text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’')) {
        match w.to_lowercase().replace('’', "'").as_str() {
            "i" | "i'm" | "i've" | "i'd" | "i'll" | "my" | "me" | "mine" | "myself" => first += 1,
            "you" | "your" | "you're" | "yours" | "yourself" | "you'll" | "you've" | "you'd" => second += 1,
            _ => {}
        }
    }
    (first >= 3 && first >= 2 * second)
        .then(|| format!("it is written in the first person like a customer ({first}× I/my, {second}× you)"))
}

/// Signs that a person with a real matter is writing, for the rules that might drop them.
/// `relays` counts a personal Reply-To as evidence (form and marketplace relays); newsletters
/// often have a Reply-To of their own, so for list mail it does not count.
fn customer_evidence(
    record: &Record,
    ctx: &FilterContext<'_>,
    history: Option<&dyn History>,
    relays: bool,
) -> Result<Option<String>> {
    if let Some(guard) = customer_guard(record, ctx, history)? {
        return Ok(Some(guard));
    }
    let text = record.best_text();
    if let Some(m) = ORDER_TALK.find(&format!("{}\n{}", record.subject, text)) {
        return Ok(Some(format!("it talks about \"{}\" like a customer", m.as_str().trim())));
    }
    if relays {
        if let Some(relay) = relayed_person(record) {
            return Ok(Some(format!("it relays a message from {relay}")));
        }
    }
    Ok(None)
}

/// Strong signs that this is no spam: a reply to our own mail, or a known correspondent.
fn customer_guard(record: &Record, ctx: &FilterContext<'_>, history: Option<&dyn History>) -> Result<Option<String>> {
    let mut refs: Vec<&str> = record.references.iter().map(String::as_str).collect();
    if let Some(r) = record.in_reply_to.as_deref() {
        refs.push(r);
    }
    let sender = record.sender_address().trim().to_lowercase();
    if let Some(entry) = lists::matching(ctx.vip, &sender) {
        return Ok(Some(format!("{sender} is a VIP ({entry})")));
    }
    if let Some(history) = history {
        if !refs.is_empty() {
            if let Some(m) = history.our_sent_message(&refs)? {
                return Ok(Some(format!("it replies to our message <{m}>")));
            }
        }
        if !sender.is_empty() && history.known_correspondent(&sender)? {
            return Ok(Some(format!("we have corresponded with {sender} before")));
        }
    }
    if let Some(r) = refs.iter().find(|r| {
        let domain = r.trim_matches(|c| c == '<' || c == '>').rsplit_once('@').map(|(_, d)| d.to_lowercase());
        domain.is_some_and(|d| ctx.team_domains.iter().any(|t| lists::domain_matches(&d, t)))
    }) {
        return Ok(Some(format!("it replies to our message <{}>", r.trim_matches(|c| c == '<' || c == '>'))));
    }
    Ok(None)
}

/// A form or marketplace relay: machine-sent, but Reply-To is a different, personal address.
fn relayed_person(record: &Record) -> Option<String> {
    let from = record.sender_address().to_lowercase();
    let from_domain = from.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default();
    record.reply_to.iter().map(|a| a.address.to_lowercase()).find(|r| {
        let domain = r.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        !r.is_empty()
            && domain != from_domain
            && !r.starts_with("no-reply")
            && !r.starts_with("noreply")
            && !r.starts_with("donotreply")
            && !r.contains("unsubscribe")
    })
}

#[cfg(test)]
mod tests;
