//! The draft stage: an English reply a human can approve in seconds.
//!
//! For each record: the missing-information checklist for its category (`checklist`), the
//! order facts the sender may see (`lookup`, identity before context), the knowledge passages
//! that ground the answer (`knowledge`), the answer itself (knowledge excerpts, or a checked
//! model answer: `model`), the reply from the category's template (`templates`), and the risk
//! (`risk`). `store` puts the result in the ledger.
//!
//! Choices worth knowing:
//! - A record without `triage` is drafted as category `other`, high risk, review required,
//!   with the reason "not classified" (so `mailroom draft` works without `classify`, but never
//!   quietly).
//! - Customer text never reaches the body: the body is built from the template, the checked
//!   first name, order ids that match the id patterns, the hook's facts and knowledge passages.
//!   Paragraphs that address an AI are also dropped before retrieval and before the model.
//! - The draft is in English. When the customer wrote in another language, `draft.
//!   customer_language` says so, and a fixed line in their language (for de, fr, es, it, pt,
//!   zh) says we reply in English; other languages get review required.
//! - Draft ids are content-addressed per message (see `draft_id` and `store` for what a rerun
//!   does). Records whose filter verdict is not `pass` are not drafted (the command passes
//!   them through untouched).
//!
//! Besides the fixed keys of SPEC §2, `draft` carries: `category` (the one drafted for), `case`
//! (the message's service case), `customer_language` (when not English), `risk_reasons`,
//! `notes` (for the reviewer: no policy source, lookup failures, identity mismatches, a
//! rejected model answer), `template`, `prompt_version` (model backend), and `state` when the
//! stored draft of a message a person already acted on is returned instead of a new one.

pub mod checklist;
pub mod greeting;
pub mod knowledge;
pub mod lookup;
pub mod model;
pub mod pool;
pub mod remote;
pub mod risk;
pub mod store;
pub mod templates;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use anyhow::Result;
use regex::Regex;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use self::checklist::{CaseContext, Need};
use self::knowledge::{Hit, Knowledge, join_units};
use self::lookup::{LookupResult, OrderFacts, OrderLookup, same_customer};
use self::model::{AnswerRequest, ChatModel, build_messages, validate};
use self::risk::{Identity, Level, RiskInput, looks_like_injection};
use self::templates::{TemplateContext, Templates, order_ref};
use crate::error::ConfigError;
use crate::ledger::Event;
use crate::record::{DraftResult, Entities, Record};
use crate::stages::entities;

/// Passages offered to the model; the template backend quotes at most two.
const PASSAGES_RETRIEVED: usize = 3;
const PASSAGES_QUOTED: usize = 2;
/// A second passage is quoted only when it scores nearly as well as the first.
const SECOND_PASSAGE_RATIO: f64 = 0.75;
/// How much the category's words count against the message's own words in ranking.
const CATEGORY_WEIGHT: f64 = 2.0;
/// BM25 score the message's own words must reach when no category word helps.
const MIN_MESSAGE_SCORE: f64 = 8.0;
/// The quoted answer's budget: characters and sentences (or list items) in all.
const EXCERPT_CHARS: usize = 450;
const EXCERPT_UNITS: usize = 3;
/// Orders looked up per message at most.
const MAX_LOOKUPS: usize = 3;
/// How much of a message's subject and text the draft stage reads.
const MAX_SUBJECT_BYTES: usize = 1024;
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Words added to the retrieval query per category, so that a message in another language
/// still finds the policy for its category.
fn category_terms(category: &str) -> &'static str {
    match category {
        "shipping" => "shipping delivery times tracking carrier delay lost parcel dispatch",
        "refund" => "refund processing time original payment method",
        "return" => "return exchange label return window unused condition",
        "complaint" => "damaged wrong item replacement faulty defective",
        "address_change" => "change delivery address before dispatch",
        "cancellation" => "cancel cancellation before dispatch",
        "payment" => "payment methods charged invoice",
        "account" => "account login password reset email",
        _ => "",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Template,
    Model,
}

impl Backend {
    pub fn parse(s: &str) -> Option<Backend> {
        match s {
            "template" => Some(Backend::Template),
            "model" => Some(Backend::Model),
            _ => None,
        }
    }
}

/// Settings resolved from config and flags.
pub struct Settings {
    pub team_name: String,
    pub sign_off: String,
    pub own_domains: Vec<String>,
    pub min_confidence: f64,
    /// Per-category checklist overrides.
    pub checklist: BTreeMap<String, Vec<Need>>,
}

impl Settings {
    /// Parses the `[draft.checklist]` table; an unknown key is a config error.
    pub fn parse_checklist(table: &BTreeMap<String, Vec<String>>) -> Result<BTreeMap<String, Vec<Need>>, ConfigError> {
        let mut out = BTreeMap::new();
        for (category, keys) in table {
            let mut needs = Vec::new();
            for key in keys {
                let need = Need::parse(key).ok_or_else(|| {
                    let known: Vec<&str> = Need::ALL.iter().map(|n| n.key()).collect();
                    ConfigError::with_hint(
                        format!("[draft.checklist] {category}: unknown check \"{key}\""),
                        format!("known checks: {}", known.join(", ")),
                    )
                })?;
                needs.push(need);
            }
            out.insert(category.clone(), needs);
        }
        Ok(out)
    }
}

/// A draft ready to store, and the events that led to it.
pub struct Drafted {
    pub draft: DraftResult,
    pub category: String,
    pub triaged: bool,
    /// Order lookups and model rejections, for the event log.
    pub events: Vec<Event>,
}

pub struct Drafter {
    pub settings: Settings,
    pub templates: Templates,
    pub knowledge: Option<Knowledge>,
    pub lookup: Option<OrderLookup>,
    /// Present for the model backend.
    pub model: Option<Box<dyn ChatModel>>,
}

impl Drafter {
    pub fn backend(&self) -> Backend {
        if self.model.is_some() { Backend::Model } else { Backend::Template }
    }

    /// Drafts a reply to `record`.
    pub fn draft(&self, record: &Record) -> Result<Drafted> {
        self.draft_in_case(record, &CaseContext::default())
    }

    /// Drafts a reply to `record`, knowing what earlier messages of its case said.
    pub fn draft_in_case(&self, record: &Record, case: &CaseContext) -> Result<Drafted> {
        let triage = record.triage.as_ref();
        let mut notes: Vec<String> = Vec::new();
        let mut category =
            triage.map(|t| t.category.trim().to_string()).filter(|c| !c.is_empty()).unwrap_or("other".into());
        // A short answer ("here it is: #NW-1") says little on its own; its case says more.
        if triage.is_some()
            && (category == "other" || case.answers_request)
            && let Some(c) = case.category.as_ref().filter(|c| **c != category)
        {
            notes.push(if case.answers_request {
                format!("drafted as {c}: the message answers our request for information in a {c} case (classified {category})")
            } else {
                format!("drafted as {c}, the category of its case (this message alone was classified other)")
            });
            category = c.clone();
        }
        // What a person writes fits in far less; a pasted log or an attacker's megabytes would
        // only make every regex below slower (the record and the ledger keep the whole text).
        let subject = head(&record.subject, MAX_SUBJECT_BYTES);
        let body = head(record.best_text(), MAX_TEXT_BYTES);
        let text = format!("{subject}\n{body}");
        // The whole thread counts: an order number in the quoted history or in an earlier
        // message of the case is not missing.
        let mut entities =
            merged_entities(triage.map(|t| &t.entities), &format!("{subject}\n{}", head(&record.text, MAX_TEXT_BYTES)));
        merge_entities(&mut entities, case.entities.clone());
        let mut events: Vec<Event> = Vec::new();

        // What the case still lacks.
        let needs: &[Need] = match self.settings.checklist.get(&category) {
            Some(n) => n,
            None => checklist::default_needs(&category),
        };
        let case_body = std::iter::once(body)
            .chain(case.texts.iter().map(|t| head(t, MAX_TEXT_BYTES)))
            .collect::<Vec<_>>()
            .join("\n\n");
        let case_attachments: Vec<_> = record.attachments.iter().chain(&case.attachments).cloned().collect();
        let msg = checklist::Message {
            subject,
            body: &case_body,
            sender: record.sender_address(),
            attachments: &case_attachments,
            entities: &entities,
            own_domains: &self.settings.own_domains,
        };
        let missing = checklist::missing(needs, &msg);

        // Language.
        // "de-DE" and "DE" both mean German here.
        let language = triage
            .map(|t| t.language.trim().split(['-', '_']).next().unwrap_or("").to_lowercase())
            .filter(|l| !l.is_empty())
            .or_else(|| detect_language(body));
        let customer_language = language.filter(|l| l != "en");
        let language_note = customer_language.as_deref().and_then(greeting::language_note).map(str::to_string);
        if let Some(l) = customer_language.as_deref()
            && language_note.is_none()
        {
            notes.push(format!(
                "the customer wrote in {}; the draft is in English with no note in their language",
                greeting::language_name(l)
            ));
        }

        // Orders: facts only for the sender's own orders.
        let (orders, identity) = self.look_up_orders(record, &entities.order_ids, &mut events, &mut notes);
        let identity_note = matches!(identity, Identity::Mismatch(_)).then(|| IDENTITY_NOTE.to_string());

        // Knowledge: the message's words, plus words for its category so that a message in
        // another language still finds its policy. `other` (thanks, press, feedback) quotes none.
        let message_query = format!("{subject}\n{}", without_ai_instructions(body));
        let hits: Vec<Hit<'_>> = match &self.knowledge {
            Some(k) if category != "other" => k
                .search(&[(&message_query, 1.0), (category_terms(&category), CATEGORY_WEIGHT)], PASSAGES_RETRIEVED * 4)
                .into_iter()
                .filter(relevant)
                .take(PASSAGES_RETRIEVED)
                .collect(),
            _ => Vec::new(),
        };
        let quoted = match &self.knowledge {
            Some(k) => quoted_excerpts(k, &hits, &message_query),
            None => Vec::new(),
        };
        let mut answer = (!quoted.is_empty()).then(|| quoted.iter().map(|q| q.1.as_str()).collect::<Vec<_>>().join("\n\n"));
        let mut sources: Vec<String> = quoted.iter().map(|q| q.0.passage.source.clone()).collect();
        if sources.is_empty()
            && let Some(top) = hits.first()
        {
            // Relevant policy exists but nothing in it fits closely enough to quote: the
            // reviewer still gets the source.
            sources.push(top.passage.source.clone());
            notes.push(format!("{} applies; nothing in it fits the message closely enough to quote", top.passage.source));
        }
        if category != "other" {
            match &self.knowledge {
                None => notes.push("no knowledge folder: this draft has no policy source".into()),
                Some(_) if hits.is_empty() => {
                    notes.push("no knowledge passage matched: this draft has no policy source".into())
                }
                Some(_) => {}
            }
        }

        let order_facts: Vec<String> = orders.iter().map(fact_sentence).collect();
        let questions: Vec<String> = missing.iter().map(|n| n.question().to_string()).collect();
        let mut backend = "template";
        let mut model_name = String::new();
        let mut language_note = language_note;
        if let Some(model) = self.model.as_deref() {
            let passages: Vec<&knowledge::Passage> = hits.iter().map(|h| h.passage).collect();
            let cleaned = without_ai_instructions(body);
            let req = AnswerRequest {
                team_name: &self.settings.team_name,
                category: &category,
                subject,
                customer_text: &cleaned,
                customer_language: customer_language.as_deref(),
                passages: &passages,
                order_facts: &order_facts,
                questions: &questions,
            };
            let reply = model.complete(&build_messages(&req))?;
            model_name = model.model_name();
            match validate(&reply, &req) {
                Ok(a) => {
                    backend = "model";
                    answer = Some(a.answer);
                    sources = a.sources;
                    if !a.knows {
                        notes.push("the model found no answer in the knowledge passages".into());
                    }
                    if a.language_line.is_some() {
                        language_note = a.language_line;
                    }
                }
                Err(why) => {
                    notes.push(format!("model answer rejected ({why}); the template answer is used"));
                    events.push(
                        Event::new("draft.model_rejected", "error")
                            .message(record.id.clone())
                            .detail(json!({"reason": why, "model": model_name})),
                    );
                }
            }
        }
        let has_policy_source = !sources.is_empty();

        let first = greeting::first_name(record.from.as_ref().and_then(|a| a.name.as_deref()));
        let ctx = TemplateContext {
            greeting: greeting::greeting(first.as_deref()),
            first_name: first,
            category: category.clone(),
            customer_language: customer_language.clone(),
            language_note: language_note.clone(),
            order_ids: entities.order_ids.clone(),
            order_ref: order_ref(&entities.order_ids),
            orders: orders.clone(),
            order_facts,
            identity_note,
            answer,
            has_policy_source,
            questions,
            missing_info: missing.iter().map(|n| n.key().to_string()).collect(),
            sign_off: self.settings.sign_off.clone(),
            team_name: self.settings.team_name.clone(),
        };
        let body_text = self.templates.render(&category, &ctx)?;
        let subject = greeting::reply_subject(&record.subject);

        let risk = risk::assess(&RiskInput {
            category: &category,
            triage,
            text: &text,
            identity: &identity,
            has_policy_source,
            min_confidence: self.settings.min_confidence,
        });
        let review_required =
            risk.level == Level::High || (customer_language.is_some() && language_note.is_none()) || backend != self.backend_name();

        let mut extra = Map::new();
        extra.insert("category".into(), json!(category));
        if let Some(c) = &case.case {
            extra.insert("case".into(), json!(c));
        }
        if let Some(l) = &customer_language {
            extra.insert("customer_language".into(), json!(l));
        }
        extra.insert("risk_reasons".into(), json!(risk.reasons));
        if !notes.is_empty() {
            extra.insert("notes".into(), json!(notes));
        }
        extra.insert("template".into(), json!(self.templates.name_for(&category)));
        if backend == "model" {
            extra.insert("prompt_version".into(), json!(model::PROMPT_VERSION));
        }
        let mut draft = DraftResult {
            id: String::new(),
            subject,
            body: body_text,
            missing_info: missing.iter().map(|n| n.key().to_string()).collect(),
            risk: risk.level.as_str().to_string(),
            review_required,
            backend: backend.to_string(),
            model: model_name,
            sources,
            extra,
        };
        draft.id = draft_id(&record.id, &draft);
        Ok(Drafted { draft, category, triaged: triage.is_some(), events })
    }

    fn backend_name(&self) -> &'static str {
        match self.backend() {
            Backend::Template => "template",
            Backend::Model => "model",
        }
    }

    /// Runs the hook for the message's order ids and decides what the sender may see.
    fn look_up_orders(
        &self,
        record: &Record,
        order_ids: &[String],
        events: &mut Vec<Event>,
        notes: &mut Vec<String>,
    ) -> (Vec<OrderFacts>, Identity) {
        let Some(hook) = &self.lookup else { return (Vec::new(), Identity::Unchecked) };
        let mut shared = Vec::new();
        let mut mismatched = Vec::new();
        let mut not_found = Vec::new();
        for id in order_ids.iter().take(MAX_LOOKUPS) {
            let (result, took) = hook.lookup(id);
            let (status, outcome, error) = match &result {
                LookupResult::Found(f) if same_customer(record.sender_address(), f) => {
                    shared.push(f.clone());
                    ("ok", "match", None)
                }
                LookupResult::Found(_) => {
                    mismatched.push(id.clone());
                    ("ok", "mismatch", None)
                }
                LookupResult::NotFound => {
                    not_found.push(id.clone());
                    ("ok", "not_found", None)
                }
                LookupResult::Failed(e) => {
                    notes.push(format!("order lookup for {id} failed: {e}"));
                    ("error", "error", Some(e.clone()))
                }
            };
            events.push(
                Event::new("order.lookup", status)
                    .message(record.id.clone())
                    .latency_ms(took.as_millis().min(i64::MAX as u128) as i64)
                    .detail(json!({"order_id": id, "outcome": outcome, "error": error})),
            );
        }
        if !mismatched.is_empty() {
            notes.push(format!(
                "order {} belongs to another customer address: no order details are shared",
                mismatched.join(", ")
            ));
        }
        if !not_found.is_empty() {
            notes.push(format!("order lookup knows no order {}", not_found.join(", ")));
        }
        let identity = if !mismatched.is_empty() {
            Identity::Mismatch(mismatched)
        } else if !not_found.is_empty() {
            Identity::NotFound(not_found)
        } else if !shared.is_empty() {
            Identity::Verified
        } else {
            Identity::Unchecked
        };
        (shared, identity)
    }
}

/// The first `max` bytes of `s`, cut at a character boundary.
fn head(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

const IDENTITY_NOTE: &str = "For your security, we can only share or change order details when we hear from the \
    email address the order was placed with. Could you please write to us from that address, so that we can help \
    you further?";

/// Classify's entities (when the record has them) plus what our own patterns find in `text`.
fn merged_entities(from_triage: Option<&Entities>, text: &str) -> Entities {
    let mut e = from_triage.cloned().unwrap_or_default();
    merge_entities(&mut e, entities::extract(text));
    e
}

/// Adds the entities of `found` that `e` does not have yet.
pub fn merge_entities(e: &mut Entities, found: Entities) {
    for (into, from) in [
        (&mut e.order_ids, found.order_ids),
        (&mut e.tracking_numbers, found.tracking_numbers),
        (&mut e.emails, found.emails),
        (&mut e.phones, found.phones),
    ] {
        for x in from {
            if !into.iter().any(|y| y.eq_ignore_ascii_case(&x)) {
                into.push(x);
            }
        }
    }
}

/// A passage is relevant when it shares a category word and at least one more word with the
/// query, or (for categories without words, like `product`) several message words with weight.
fn relevant(h: &Hit<'_>) -> bool {
    let (msg_score, msg_matched) = h.parts[0];
    let cat_matched = h.parts.get(1).map_or(0, |p| p.1);
    (cat_matched >= 1 && msg_matched + cat_matched >= 2) || (msg_matched >= 3 && msg_score >= MIN_MESSAGE_SCORE)
}

/// The excerpts an answer quotes: from the passages that score nearly as well as the best
/// one and have something customer-facing and relevant to say, two at most; at most
/// `EXCERPT_UNITS` sentences or list items in all.
fn quoted_excerpts<'a, 'k>(k: &Knowledge, hits: &'a [Hit<'k>], query: &str) -> Vec<(&'a Hit<'k>, String)> {
    let mut out: Vec<(&Hit<'k>, String)> = Vec::new();
    let (mut units, mut chars) = (0, 0);
    let top = hits.first().map_or(0.0, |h| h.score);
    for h in hits {
        if out.len() >= PASSAGES_QUOTED || units >= EXCERPT_UNITS || chars >= EXCERPT_CHARS {
            break;
        }
        if h.score < top * SECOND_PASSAGE_RATIO {
            break;
        }
        let quoted = k.excerpt(h.passage, query, EXCERPT_CHARS - chars, EXCERPT_UNITS - units);
        if !quoted.is_empty() {
            units += quoted.len();
            chars += quoted.iter().map(|u| u.chars().count()).sum::<usize>();
            out.push((h, join_units(&quoted)));
        }
    }
    out
}

/// Order facts as customer-facing sentences, e.g. "Order NW-1 has been shipped. DHL tracking
/// number: JJD1."
pub fn fact_sentence(f: &OrderFacts) -> String {
    let id = &f.order_id;
    let status = f.status.as_deref().map(|s| s.to_lowercase().replace(['_', '-'], " "));
    let mut s = match status.as_deref() {
        Some("shipped" | "dispatched") => format!("Order {id} has been shipped."),
        Some("in transit" | "on its way" | "out for delivery") => format!("Order {id} is on its way to you."),
        Some("delivered") => format!("Order {id} is shown as delivered."),
        Some("processing" | "pending" | "paid" | "confirmed" | "preparing" | "on hold") => {
            format!("Order {id} is being prepared and has not left our warehouse yet.")
        }
        Some("cancelled" | "canceled") => format!("Order {id} has been cancelled."),
        Some("delayed") => format!("Order {id} is delayed."),
        Some("return requested") => format!("A return has been registered for order {id}."),
        Some("return received" | "returned") => format!("Your return for order {id} has arrived at our warehouse."),
        Some(other) => format!("Order {id} has the status \"{other}\"."),
        None => format!("We have found order {id}."),
    };
    match (&f.carrier, &f.tracking) {
        (Some(c), Some(t)) => s.push_str(&format!(" {c} tracking number: {t}")),
        (None, Some(t)) => s.push_str(&format!(" Tracking number: {t}")),
        (Some(c), None) => s.push_str(&format!(" Carrier: {c}.")),
        (None, None) => {}
    }
    if f.tracking.is_some() {
        match &f.tracking_url {
            Some(u) => s.push_str(&format!(" ({u}).")),
            None => s.push('.'),
        }
    }
    if let Some(eta) = &f.eta {
        s.push_str(&format!(" Expected delivery: {eta}."));
    }
    s
}

/// The body without paragraphs that talk to an AI (kept out of retrieval and model input).
pub fn without_ai_instructions(text: &str) -> String {
    static PARAGRAPHS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\n\s*\n").expect("paragraph regex"));
    PARAGRAPHS
        .split(text)
        .filter(|p| !looks_like_injection(p))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn detect_language(text: &str) -> Option<String> {
    let info = whatlang::detect(text).filter(|i| i.is_reliable())?;
    let code = match info.lang() {
        whatlang::Lang::Eng => "en",
        whatlang::Lang::Deu => "de",
        whatlang::Lang::Fra => "fr",
        whatlang::Lang::Spa => "es",
        whatlang::Lang::Ita => "it",
        whatlang::Lang::Por => "pt",
        whatlang::Lang::Cmn => "zh",
        whatlang::Lang::Nld => "nl",
        whatlang::Lang::Jpn => "ja",
        whatlang::Lang::Pol => "pl",
        whatlang::Lang::Rus => "ru",
        _ => return None,
    };
    Some(code.to_string())
}

/// Stable per message and content: the same draft of the same message has the same id, so a
/// rerun stores nothing new; a changed draft gets a new id.
pub fn draft_id(message: &str, d: &DraftResult) -> String {
    let mut h = Sha256::new();
    for part in [message, &d.subject, &d.body, &d.risk, &d.backend, &d.model] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update(Value::from(d.missing_info.clone()).to_string().as_bytes());
    h.update(Value::from(d.sources.clone()).to_string().as_bytes());
    let hex = format!("{:x}", h.finalize());
    format!("d{}", &hex[..24])
}

#[cfg(test)]
mod tests;
