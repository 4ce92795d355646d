//! Notify: tell the team's group chat about each record, with a signed link to its review page.
//!
//! Each configured webhook takes the records its `categories` / `priorities` lists allow (an
//! empty list allows all). Every post is an event in the ledger (`notify.post`: webhook name,
//! flavour, HTTP status, attempts, latency; never the URL, which carries a token). A record
//! already posted successfully to a webhook is not posted there again unless forced, so a
//! batch reclassification piped through notify does not flood the chat; the `notify` ledger
//! lock makes that hold for overlapping runs too.

use std::time::Duration;

use anyhow::Result;
use rusqlite::OptionalExtension;
use serde_json::json;

use crate::config::{Config, WebhookConfig};
use crate::error::ConfigError;
use crate::ledger::{Event, Ledger};
use crate::notify::poster::{PostOutcome, Poster, RetryPolicy, Target};
use crate::notify::{Flavour, Notice, payload};
use crate::record::Record;
use crate::stages::lock::LedgerLock;
use crate::stages::review::links::{LinkSigner, unix_now};
use crate::stages::review::queue::{checklist_labels, sender};

/// How long a run waits for another one's post to a slow webhook (retries included).
const LOCK_WAIT: Duration = Duration::from_secs(600);

/// A webhook with its routing rules.
#[derive(Debug, Clone)]
pub struct Route {
    pub target: Target,
    pub categories: Vec<String>,
    pub priorities: Vec<String>,
}

impl Route {
    /// True when this webhook wants to hear about `record`.
    pub fn wants(&self, record: &Record) -> bool {
        let (category, priority) = match &record.triage {
            Some(t) => (t.category.as_str(), t.priority.as_str()),
            None => ("", ""),
        };
        let allows = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x.eq_ignore_ascii_case(v));
        allows(&self.categories, category) && allows(&self.priorities, priority)
    }
}

/// Checks the webhook table: names unique, kinds known, a URL source given. Config errors
/// (exit 2) name the webhook.
pub fn check_config(webhooks: &[WebhookConfig]) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for w in webhooks {
        if !seen.insert(w.name.as_str()) {
            return Err(ConfigError::new(format!("notify.webhooks: the name \"{}\" is used twice", w.name)));
        }
        if Flavour::parse(&w.kind).is_none() {
            return Err(ConfigError::new(format!(
                "notify.webhooks \"{}\": unknown kind \"{}\" (expected one of {})",
                w.name,
                w.kind,
                Flavour::NAMES
            )));
        }
        if !w.url_source().is_set() {
            return Err(ConfigError::with_hint(
                format!("notify.webhooks \"{}\": no URL", w.name),
                "set url_env = \"VAR\" or url_command = \"…\" (the URL holds the webhook's token)",
            ));
        }
    }
    Ok(())
}

/// Resolves one webhook's URL (and signing secret). Errors name the webhook, never the value.
pub fn resolve_route(w: &WebhookConfig) -> Result<Route> {
    let flavour = Flavour::parse(&w.kind).ok_or_else(|| ConfigError::new(format!("unknown kind {}", w.kind)))?;
    let url = w.url_source().resolve(&format!("webhook \"{}\" URL", w.name))?;
    let sign_secret = if w.secret_source().is_set() {
        Some(w.secret_source().resolve(&format!("webhook \"{}\" signing secret", w.name))?)
    } else {
        None
    };
    Ok(Route {
        target: Target { name: w.name.clone(), flavour, url, sign_secret },
        categories: w.categories.clone(),
        priorities: w.priorities.clone(),
    })
}

/// What happened for one record and one webhook.
#[derive(Debug, Clone)]
pub struct PostReport {
    pub webhook: String,
    /// `None` when skipped because it was already posted.
    pub outcome: Option<PostOutcome>,
}

/// Posts records to the routes.
pub struct Notifier {
    poster: Poster,
    routes: Vec<Route>,
    signer: LinkSigner,
    team: String,
    review_url: String,
    ttl_hours: u64,
}

impl Notifier {
    pub fn new(config: &Config, ledger: &Ledger, routes: Vec<Route>) -> Result<Notifier> {
        let n = &config.notify;
        let retry = RetryPolicy {
            attempts: n.attempts.max(1),
            base_delay: Duration::from_millis(n.retry_delay_ms),
            ..RetryPolicy::default()
        };
        Ok(Notifier {
            poster: Poster::new(Duration::from_secs(n.timeout_secs.max(1)), retry)?,
            routes,
            signer: LinkSigner::from_ledger(ledger)?,
            team: config.team.name.clone(),
            review_url: config.team.review_url.clone(),
            ttl_hours: config.review.link_ttl_hours,
        })
    }

    /// The notice for `record`: its triage, its draft's checklist, a fresh signed link.
    pub fn notice(&self, ledger: &Ledger, record: &Record) -> Result<Notice> {
        let stored = match &record.draft {
            Some(_) => None,
            None => ledger.latest_draft_for(&record.id)?,
        };
        let (draft, risk, checklist) = match (&record.draft, &stored) {
            (Some(d), _) => (Some(d.id.clone()), Some(d.risk.clone()), checklist_labels(&d.missing_info)),
            (None, Some(d)) => (Some(d.id.clone()), Some(d.risk.clone()), crate::stages::review::queue::missing_info(d)),
            (None, None) => (None, None, Vec::new()),
        };
        Ok(Notice {
            team: self.team.clone(),
            message: record.id.clone(),
            draft,
            priority: record.triage.as_ref().map(|t| t.priority.clone()).unwrap_or_default(),
            category: record.triage.as_ref().map(|t| t.category.clone()).unwrap_or_default(),
            risk,
            sender: sender(record),
            subject: record.subject.clone(),
            checklist,
            link: self.signer.message_url(&self.review_url, &record.id, self.ttl_hours, unix_now()),
            escalate: record.triage.as_ref().is_some_and(|t| t.escalate),
        })
    }

    /// Posts `record` to every route that wants it, recording each post in the ledger.
    pub async fn notify(&self, ledger: &Ledger, record: &Record, force: bool, run_id: Option<i64>) -> Result<Vec<PostReport>> {
        let wanted: Vec<&Route> = self.routes.iter().filter(|r| r.wants(record)).collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let notice = self.notice(ledger, record)?;
        // From "posted already?" to the recorded post, no other notify run may post it.
        let _lock = LedgerLock::acquire(ledger.path(), "notify", LOCK_WAIT).await?;
        let mut reports = Vec::new();
        for route in wanted {
            let name = &route.target.name;
            if !force && already_posted(ledger, &record.id, notice.draft.as_deref(), name)? {
                reports.push(PostReport { webhook: name.clone(), outcome: None });
                continue;
            }
            let body = payload::build(route.target.flavour, &notice);
            let outcome = self.poster.post(&route.target, &body).await;
            ledger.event(&post_event(route, &notice, &outcome, run_id, false))?;
            reports.push(PostReport { webhook: name.clone(), outcome: Some(outcome) });
        }
        Ok(reports)
    }
}

impl Notifier {
    /// Posts one message per webhook listing all `records` it wants (`notify --batch`). Each
    /// record gets its own `notify.post` event, so a later run skips what was posted.
    pub async fn notify_batch(
        &self,
        ledger: &Ledger,
        records: &[Record],
        force: bool,
        run_id: Option<i64>,
    ) -> Result<Vec<PostReport>> {
        let _lock = LedgerLock::acquire(ledger.path(), "notify", LOCK_WAIT).await?;
        let mut reports = Vec::new();
        for route in &self.routes {
            let name = &route.target.name;
            let mut notices = Vec::new();
            for record in records.iter().filter(|r| route.wants(r)) {
                let notice = self.notice(ledger, record)?;
                if force || !already_posted(ledger, &notice.message, notice.draft.as_deref(), name)? {
                    notices.push(notice);
                }
            }
            if notices.is_empty() {
                continue;
            }
            let body = payload::build_batch(route.target.flavour, &self.team, &notices);
            let outcome = self.poster.post(&route.target, &body).await;
            for n in &notices {
                ledger.event(&post_event(route, n, &outcome, run_id, true))?;
            }
            reports.push(PostReport { webhook: name.clone(), outcome: Some(outcome) });
        }
        Ok(reports)
    }
}

/// The `notify.post` event of one notice (never the URL).
fn post_event(route: &Route, notice: &Notice, outcome: &PostOutcome, run_id: Option<i64>, batch: bool) -> Event {
    let mut event = Event::new("notify.post", if outcome.ok { "ok" } else { "error" })
        .run(run_id)
        .message(notice.message.clone())
        .latency_ms(outcome.latency_ms)
        .detail(json!({
            "webhook": route.target.name,
            "kind": route.target.flavour.as_str(),
            "http_status": outcome.http_status,
            "attempts": outcome.attempts,
            "error": outcome.error,
            "batch": batch,
        }));
    if let Some(d) = &notice.draft {
        event = event.draft(d.clone());
    }
    event
}

/// True when this message (and draft) was already posted to `webhook` successfully.
fn already_posted(ledger: &Ledger, message: &str, draft: Option<&str>, webhook: &str) -> Result<bool> {
    Ok(ledger
        .conn()
        .query_row(
            "SELECT 1 FROM events WHERE kind = 'notify.post' AND status = 'ok' AND message = ?1 AND draft IS ?2 \
             AND json_extract(detail_json, '$.webhook') = ?3 LIMIT 1",
            rusqlite::params![message, draft, webhook],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Triage;
    use crate::secret::Secret;

    fn route(categories: &[&str], priorities: &[&str]) -> Route {
        Route {
            target: Target { name: "t".into(), flavour: Flavour::Json, url: Secret::new("http://x"), sign_secret: None },
            categories: categories.iter().map(|s| s.to_string()).collect(),
            priorities: priorities.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn triaged(category: &str, priority: &str) -> Record {
        let mut r = Record::new("m1");
        r.triage = Some(Triage {
            category: category.into(),
            priority: priority.into(),
            sentiment: "neutral".into(),
            language: "en".into(),
            confidence: 0.9,
            escalate: false,
            reasons: vec![],
            entities: Default::default(),
            backend: String::new(),
            model: String::new(),
            prompt_version: String::new(),
            review_required: false,
            extra: Default::default(),
        });
        r
    }

    #[test]
    fn routing_follows_category_and_priority_lists() {
        assert!(route(&[], &[]).wants(&Record::new("m")));
        assert!(route(&["refund"], &[]).wants(&triaged("refund", "P3")));
        assert!(!route(&["refund"], &[]).wants(&triaged("shipping", "P3")));
        assert!(route(&[], &["P1", "P2"]).wants(&triaged("shipping", "P1")));
        assert!(!route(&[], &["P1"]).wants(&triaged("shipping", "P4")));
        assert!(!route(&["refund"], &[]).wants(&Record::new("m")), "untriaged mail only goes to catch-all hooks");
    }

    #[test]
    fn config_check_names_the_webhook() {
        let w = |name: &str, kind: &str, url: Option<&str>| WebhookConfig {
            name: name.into(),
            kind: kind.into(),
            url: url.map(str::to_string),
            url_env: None,
            url_command: None,
            categories: vec![],
            priorities: vec![],
            secret_env: None,
            secret_command: None,
        };
        assert!(check_config(&[w("a", "slack", Some("http://x")), w("b", "lark", Some("http://y"))]).is_ok());
        let e = check_config(&[w("a", "teams", Some("http://x"))]).unwrap_err();
        assert!(e.message.contains("\"a\"") && e.message.contains("teams"), "{}", e.message);
        assert!(check_config(&[w("a", "json", None)]).is_err());
        assert!(check_config(&[w("a", "json", Some("u")), w("a", "json", Some("v"))]).is_err());
    }
}
