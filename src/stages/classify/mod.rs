//! Triage: category, priority, sentiment, language, confidence, escalation, entities, reasons.
//!
//! Two backends decide the category: the embedded statistical model (no network, no key) and
//! an OpenAI-compatible model (`llm`). Everything else (language, entities, sentiment,
//! priority, escalation) comes from local rules for both, so a legal threat is escalated the
//! same way whoever picked the category. A category below the confidence gate becomes
//! `other` with `review_required`, never a guess.
//!
//! The text read is the subject plus `text_new` (the new part of the mail; the whole text
//! when the new part is empty).

pub mod embedded;
pub mod language;
pub mod lexicon;
pub mod llm;
pub mod rules;
pub mod taxonomy;
pub mod text;
pub mod training;

use anyhow::{Context as _, Result};

use crate::config::Config;
use crate::ledger::messages::{count_from_sender, message_exists};
use crate::ledger::results::{NewResult, Stage, add_result, current_result_json};
use crate::record::{Record, Triage};
use embedded::{DEFAULT_MODEL, LinearModel};
use lexicon::Tag;
use rules::{Context, Sentiment};
use taxonomy::{OTHER, Taxonomy};
use text::FeatureBuf;

/// Version of the embedded rules and features; part of `triage.prompt_version`.
pub const EMBEDDED_VERSION: &str = "embedded-1";

/// Settings the classifier needs from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub min_confidence: f64,
    pub vip: Vec<String>,
    pub repeat_days: u32,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            min_confidence: config.classify.min_confidence,
            vip: config.team.vip.clone(),
            repeat_days: config.classify.repeat_contact_days,
        }
    }
}

/// The embedded model plus the taxonomy it answers in.
pub struct Engine {
    pub taxonomy: Taxonomy,
    pub model: LinearModel,
    pub settings: Settings,
    /// Where the model came from ("embedded" or a file path), for messages.
    pub model_source: String,
    /// For each model class, its index in the taxonomy (None: not a category here).
    class_map: Vec<Option<usize>>,
}

/// Per-thread buffers, reused across messages.
#[derive(Default)]
pub struct Scratch {
    feat: FeatureBuf,
    /// The subject's features alone (see `subject_topic`).
    subject: FeatureBuf,
    acc: Vec<i32>,
    probs: Vec<f32>,
}

/// The embedded model's answer for one message.
#[derive(Debug, Clone)]
pub struct Guess {
    pub category: String,
    pub confidence: f64,
    pub reason: String,
}

/// A category decision from either backend, before the rules run.
#[derive(Debug, Clone)]
pub struct Decision {
    pub category: String,
    pub confidence: f64,
    pub backend: String,
    pub model: String,
    pub prompt_version: String,
    pub reasons: Vec<String>,
    /// The backend's sentiment, when it gives one (the rules' otherwise).
    pub sentiment: Option<Sentiment>,
    pub review_required: bool,
}

impl Engine {
    /// The shipped model, or `model_path` when given (a team's retrained model).
    pub fn load(taxonomy: Taxonomy, settings: Settings, model_path: Option<&std::path::Path>) -> Result<Engine> {
        let (model, model_source) = match model_path {
            Some(p) => {
                let bytes = std::fs::read(p).with_context(|| format!("cannot read classifier model {}", p.display()))?;
                let m = LinearModel::from_bytes(&bytes).with_context(|| format!("classifier model {}", p.display()))?;
                (m, p.display().to_string())
            }
            None => (LinearModel::from_bytes(DEFAULT_MODEL).context("the embedded classifier model")?, "embedded".into()),
        };
        Ok(Engine::new(taxonomy, settings, model, model_source))
    }

    pub fn new(taxonomy: Taxonomy, settings: Settings, model: LinearModel, model_source: String) -> Engine {
        let class_map = model.classes.iter().map(|c| taxonomy.categories.iter().position(|t| &t.name == c)).collect();
        Engine { taxonomy, model, settings, model_source, class_map }
    }

    /// The embedded model's category for the features in `feat` (the message's, after
    /// `FeatureBuf::extract`, or its subject's).
    fn guess(&self, feat: &FeatureBuf, acc: &mut Vec<i32>, probs: &mut Vec<f32>) -> Guess {
        self.model.predict(&feat.buckets, feat.tags.len(), acc, probs);
        let mut best: Option<(usize, f32)> = None;
        for (k, &p) in probs.iter().enumerate() {
            if self.class_map[k].is_some() && best.is_none_or(|(_, bp)| p > bp) {
                best = Some((k, p));
            }
        }
        let (category, mut confidence) = match best {
            Some((k, p)) => (self.model.classes[k].clone(), p as f64),
            None => (OTHER.to_string(), 0.0),
        };
        if self.taxonomy.custom {
            if let Some((cat, kw)) = self.taxonomy.keyword_match(&feat.norm) {
                if cat != category {
                    let known = self.model.class_index(cat).map(|k| probs[k] as f64).unwrap_or(0.0);
                    let confidence = known.max(0.75);
                    return Guess { category: cat.to_string(), confidence, reason: format!("keyword \"{kw}\" of category {cat}") };
                }
                confidence = confidence.max(0.75);
            }
        }
        let cues: Vec<String> = feat
            .tags
            .iter()
            .filter(|h| tag_points_to(h.tag, &category))
            .map(|h| format!("\"{}\"", h.text(&feat.norm)))
            .collect();
        let reason = if cues.is_empty() { "embedded model".to_string() } else { format!("embedded model; cues {}", cues.join(", ")) };
        Guess { category, confidence, reason }
    }

    fn prepare(&self, record: &Record, s: &mut Scratch) {
        s.feat.extract(&record.subject, record.best_text());
    }

    /// The embedded backend's decision, confidence gate applied.
    pub fn embedded_decision(&self, record: &Record, s: &mut Scratch) -> Decision {
        self.prepare(record, s);
        self.decide(record, s)
    }

    /// `other` read from a long body loses to a subject that names a concrete topic on its
    /// own (the model is confident on the subject alone and a lexicon cue there agrees): in a
    /// long mail the subject's few words are drowned by everything else (a signature, a
    /// threat to "review" the business, pasted instructions), but they say what it is about.
    fn subject_topic(&self, record: &Record, s: &mut Scratch) -> Option<Guess> {
        const SURE: f32 = 0.9;
        // Its own buffer: the whole message's features stay in `s.feat` for the rules.
        s.subject.extract(&record.subject, "");
        let g = self.guess(&s.subject, &mut s.acc, &mut s.probs);
        let cued = s.subject.tags.iter().any(|h| tag_points_to(h.tag, &g.category));
        (g.category != OTHER && cued && g.confidence >= SURE as f64).then(|| Guess {
            reason: format!("the subject alone says {} ({:.2}); {}", g.category, g.confidence, g.reason),
            ..g
        })
    }

    fn decide(&self, record: &Record, s: &mut Scratch) -> Decision {
        let mut g = self.guess(&s.feat, &mut s.acc, &mut s.probs);
        if g.category == OTHER {
            if let Some(t) = self.subject_topic(record, s) {
                g = Guess { reason: format!("{}; the body alone read as other ({:.2})", t.reason, g.confidence), ..t };
            }
        }
        let mut d = Decision {
            category: g.category,
            confidence: round3(g.confidence),
            backend: "embedded".into(),
            model: self.model.label(),
            prompt_version: EMBEDDED_VERSION.into(),
            reasons: vec![],
            sentiment: None,
            review_required: false,
        };
        d.reasons.push(format!("category {} (confidence {:.2}; {})", d.category, d.confidence, g.reason));
        self.gate(&mut d);
        d
    }

    /// Low confidence: `other` and a human look, never a guess.
    pub fn gate(&self, d: &mut Decision) {
        if d.confidence < self.settings.min_confidence && d.category != OTHER {
            d.reasons.push(format!(
                "low confidence {:.2} < {:.2}: best guess {} set to other, needs review",
                d.confidence, self.settings.min_confidence, d.category
            ));
            d.category = OTHER.into();
            d.review_required = true;
        } else if d.confidence < self.settings.min_confidence {
            d.review_required = true;
            d.reasons.push(format!("low confidence {:.2}: needs review", d.confidence));
        }
    }

    /// The full triage for a decision: rules, language and entities added.
    pub fn triage(&self, record: &Record, decision: Decision, ctx: &Context, s: &mut Scratch) -> Triage {
        self.prepare(record, s);
        self.finish(record, decision, ctx, s)
    }

    fn finish(&self, record: &Record, mut decision: Decision, ctx: &Context, s: &mut Scratch) -> Triage {
        self.keep_case_category(&mut decision, ctx, s);
        let subject = &record.subject;
        let body = record.best_text();
        let verdict = rules::judge(&s.feat.tags, &s.feat.norm, body, &decision.category, ctx);
        let sentiment = match decision.sentiment {
            // The rules may raise a backend's sentiment (a threat is never "neutral"), not lower it.
            Some(b) if severity(b) >= severity(verdict.sentiment) => b,
            _ => verdict.sentiment,
        };
        let mut priority = verdict.priority;
        if sentiment == Sentiment::Angry && priority > 2 {
            priority = 2;
        }
        let mut reasons = decision.reasons;
        reasons.extend(verdict.reasons);
        if decision.sentiment.is_some_and(|b| b != sentiment) {
            reasons.push(format!("sentiment {} (rules)", sentiment.as_str()));
        }
        Triage {
            category: decision.category,
            priority: format!("P{priority}"),
            sentiment: sentiment.as_str().into(),
            language: language::detect_normalized(subject, body, &s.feat.norm).into(),
            confidence: decision.confidence,
            escalate: verdict.escalate,
            reasons,
            entities: entities_of(subject, body),
            backend: decision.backend,
            model: decision.model,
            prompt_version: decision.prompt_version,
            review_required: decision.review_required,
            extra: Default::default(),
        }
    }

    /// A reply in a known case is about what the case is about unless its own words say
    /// otherwise: "here it is: #1234" or a thank-you carries no topic, and the model then
    /// guesses from stray words (an e-mail address reads as `account`). So when no lexicon cue
    /// in the subject or new text supports the backend's category, the case's category stands.
    fn keep_case_category(&self, d: &mut Decision, ctx: &Context, s: &Scratch) {
        let Some(case) = ctx.case_category.as_deref() else { return };
        if case == d.category || !self.taxonomy.contains(case) || s.feat.tags.iter().any(|h| tag_points_to(h.tag, &d.category)) {
            return;
        }
        d.reasons.push(format!(
            "reply in a case about {case}: the new text has no cue for {}, so the case's category stands",
            d.category
        ));
        d.category = case.to_string();
        // The backend's doubt was about its own guess, not about the case.
        d.review_required = false;
    }

    /// Embedded classification end to end.
    pub fn classify_embedded(&self, record: &Record, ctx: &Context, s: &mut Scratch) -> Triage {
        self.prepare(record, s);
        let d = self.decide(record, s);
        self.finish(record, d, ctx, s)
    }

    /// The rules' context for a record: VIP, and earlier messages from the sender in the ledger
    /// (`conn`: the ledger's connection or an open transaction).
    pub fn context(&self, record: &Record, conn: Option<&rusqlite::Connection>) -> Result<Context> {
        let sender = record.sender_address();
        let mut ctx = Context {
            prior_contacts: 0,
            repeat_days: self.settings.repeat_days,
            vip: rules::is_vip(sender, &self.settings.vip),
            case_category: None,
        };
        if let (Some(conn), true) = (conn, is_reply(record)) {
            ctx.case_category = crate::stages::cases::category_before(conn, &record.id)?;
        }
        if let (Some(conn), false) = (conn, sender.is_empty() || self.settings.repeat_days == 0) {
            let until = record
                .date
                .as_deref()
                .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                .map(|d| d.with_timezone(&chrono::Utc))
                .unwrap_or_else(chrono::Utc::now);
            let since = until - chrono::Duration::days(self.settings.repeat_days as i64);
            let thread = record.thread.as_deref().or(record.in_reply_to.as_deref());
            ctx.prior_contacts = count_from_sender(conn, sender, since, until, &record.id, thread)?;
        }
        Ok(ctx)
    }
}

/// A reply or follow-up in a thread (headers, or a reply prefix on the subject).
fn is_reply(record: &Record) -> bool {
    record.in_reply_to.is_some() || !record.references.is_empty() || text::strip_reply_prefix(&record.subject).len() < record.subject.trim_start().len()
}

/// Entities from the subject and the start of the body (where customers put them; bounded
/// so a huge message costs no more than a long one).
fn entities_of(subject: &str, body: &str) -> crate::record::Entities {
    const MAX_CHARS: usize = 6000;
    crate::stages::entities::extract(&format!("{subject}\n{}", text::head_chars(body, MAX_CHARS)))
}

/// Stores `triage` as the message's current triage unless it already is; returns
/// (in the ledger, stored). Records that are not in the ledger are classified, not stored.
pub fn store_triage(conn: &rusqlite::Connection, record: &Record, triage: &Triage, run_id: Option<i64>) -> Result<(bool, bool)> {
    if !message_exists(conn, &record.id)? {
        return Ok((false, false));
    }
    let value = serde_json::to_value(triage)?;
    // Same serializer, same key order: comparing the text is comparing the result.
    if current_result_json(conn, &record.id, Stage::Triage)?.as_deref() == Some(value.to_string().as_str()) {
        return Ok((true, false));
    }
    add_result(
        conn,
        &NewResult {
            message: &record.id,
            stage: Stage::Triage,
            summary: &triage.category,
            backend: &triage.backend,
            model: &triage.model,
            prompt_version: &triage.prompt_version,
            result: &value,
            run_id,
        },
    )?;
    Ok((true, true))
}

fn severity(s: Sentiment) -> u8 {
    match s {
        Sentiment::Positive => 0,
        Sentiment::Neutral => 1,
        Sentiment::Negative => 2,
        Sentiment::Angry => 3,
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Lexicon concepts that speak for a category (shown as cues in the reasons).
fn tag_points_to(tag: Tag, category: &str) -> bool {
    matches!(
        (tag, category),
        (Tag::Shipping, "shipping")
            | (Tag::Refund, "refund")
            | (Tag::Return, "return")
            | (Tag::Complaint | Tag::Damaged, "complaint")
            | (Tag::Product, "product")
            | (Tag::Address, "address_change")
            | (Tag::Cancel, "cancellation")
            | (Tag::Payment | Tag::Invoice, "payment")
            | (Tag::Account, "account")
            | (Tag::Contact | Tag::Newsletter | Tag::Review, "other")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let settings = Settings { min_confidence: 0.45, vip: vec!["@vip.example".into()], repeat_days: 7 };
        Engine::load(Taxonomy::default_categories(), settings, None).unwrap()
    }

    fn rec(subject: &str, body: &str) -> Record {
        let mut r = Record::new("m1");
        r.subject = subject.into();
        r.text = body.into();
        r.text_new = body.into();
        r
    }

    fn classify(subject: &str, body: &str) -> Triage {
        let e = engine();
        e.classify_embedded(&rec(subject, body), &Context::default(), &mut Scratch::default())
    }

    #[test]
    fn common_categories_in_five_languages() {
        for (subject, body, want) in [
            ("Where is my order?", "Hi, I ordered a lamp two weeks ago and it still has not arrived. Order #4412.", "shipping"),
            ("Paket nicht angekommen", "Hallo, mein Paket ist immer noch nicht angekommen. Wo bleibt meine Lieferung?", "shipping"),
            ("Colis", "Bonjour, mon colis n'est toujours pas arrivé, pouvez-vous vérifier le suivi ?", "shipping"),
            ("Pedido", "Hola, mi paquete no ha llegado todavía. ¿Dónde está mi pedido?", "shipping"),
            ("物流", "你好，我的快递还没到，请帮我查一下物流。", "shipping"),
            ("Refund", "I would like a refund for my order please.", "refund"),
            ("Erstattung", "Ich möchte mein Geld zurück. Bitte erstatten Sie den Betrag.", "refund"),
            ("Remboursement", "Je souhaite être remboursé pour ma commande.", "refund"),
            ("Reembolso", "Quiero un reembolso de mi pedido, por favor.", "refund"),
            ("退款", "请给我退款，谢谢。", "refund"),
            ("Cancel order", "Please cancel my order 5521, I ordered by mistake.", "cancellation"),
            ("Stornierung", "Bitte stornieren Sie meine Bestellung.", "cancellation"),
            ("Passwort", "Ich kann mich nicht in mein Konto einloggen, Passwort vergessen.", "account"),
        ] {
            let t = classify(subject, body);
            assert_eq!(t.category, want, "{subject} / {body}: {t:?}");
        }
    }

    #[test]
    fn triage_has_every_field_and_explains_itself() {
        let t = classify("Charged twice!!", "You charged my card twice for order #8812. I will contact my lawyer. Call me: +44 7700 900123");
        assert_eq!(t.category, "payment");
        assert_eq!(t.priority, "P1");
        assert!(t.escalate);
        assert_eq!(t.language, "en");
        assert_eq!(t.entities.order_ids, vec!["8812"]);
        assert_eq!(t.entities.phones, vec!["+44 7700 900123"]);
        assert_eq!(t.backend, "embedded");
        assert!(t.model.starts_with("mailroom-"), "{}", t.model);
        assert_eq!(t.prompt_version, EMBEDDED_VERSION);
        assert!(t.reasons[0].starts_with("category payment"), "{:?}", t.reasons);
        assert!(t.reasons.iter().any(|r| r.contains("legal threat")), "{:?}", t.reasons);
    }

    #[test]
    fn gibberish_is_other_with_review() {
        let t = classify("", "qwxz vbnm plkj");
        assert_eq!(t.category, "other");
        assert!(t.review_required || t.confidence >= 0.45);
    }

    #[test]
    fn a_reply_without_a_topic_of_its_own_keeps_the_case_category() {
        let e = engine();
        let mut s = Scratch::default();
        let mut r = rec("Re: a question", "Sorry, here it is: 77123. It was in my spam folder, that is why I missed your email.");
        r.in_reply_to = Some("<ours@shop.example>".into());
        let in_case = Context { case_category: Some("shipping".into()), ..Default::default() };
        let t = e.classify_embedded(&r, &in_case, &mut s);
        assert_eq!(t.category, "shipping", "{t:?}");
        assert!(t.reasons.iter().any(|x| x.contains("case")), "{:?}", t.reasons);
        // New words about something else win over the case.
        let r2 = rec("Re: a question", "Actually, please just refund me instead, I no longer want it.");
        let t = e.classify_embedded(&r2, &in_case, &mut s);
        assert_eq!(t.category, "refund", "{t:?}");
        // No case: the model's own answer.
        let t = e.classify_embedded(&r, &Context::default(), &mut s);
        assert!(!t.reasons.iter().any(|x| x.contains("case")), "{:?}", t.reasons);
    }

    #[test]
    fn a_clear_subject_outweighs_a_long_body_read_as_other() {
        let body = "To whom it may concern, I have written to you before. I would like to speak to a manager \
                    and I expect a phone call from a human today. Our board will review the partnership. \
                    Kind regards, J. Doe, Head of Operations, Example Ltd, Unit 4, Sometown. "
            .repeat(3);
        let t = classify("Order 5521 still not delivered after three weeks", &body);
        assert_eq!(t.category, "shipping", "{t:?}");
        assert!(t.reasons[0].contains("the subject alone says shipping"), "{:?}", t.reasons);
        // A subject without a topic of its own leaves the body's answer alone.
        let t = classify("Hello", &body);
        assert_eq!(t.category, "other", "{t:?}");
    }

    #[test]
    fn replies_are_recognized_by_headers_or_subject_prefix() {
        let mut r = rec("AW: Lieferung", "");
        assert!(is_reply(&r));
        r.subject = "Lieferung".into();
        assert!(!is_reply(&r));
        r.references = vec!["<a@b>".into()];
        assert!(is_reply(&r));
    }

    #[test]
    fn custom_taxonomy_keywords_and_unknown_classes() {
        use crate::config::CategoryDef;
        let tax = Taxonomy::from_config(&[
            CategoryDef { name: "warranty".into(), description: String::new(), keywords: vec!["warranty".into(), "Garantie".into()] },
            CategoryDef { name: "shipping".into(), description: String::new(), keywords: vec![] },
        ])
        .unwrap();
        let e = Engine::load(tax, Settings { min_confidence: 0.45, vip: vec![], repeat_days: 7 }, None).unwrap();
        let mut s = Scratch::default();
        let t = e.classify_embedded(&rec("Garantie", "Mein Wasserkocher ist nach 6 Monaten kaputt, Garantie?"), &Context::default(), &mut s);
        assert_eq!(t.category, "warranty");
        let t = e.classify_embedded(&rec("", "I want to reset my password"), &Context::default(), &mut s);
        assert!(e.taxonomy.contains(&t.category), "{t:?}");
    }
}
