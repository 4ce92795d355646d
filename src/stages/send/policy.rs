//! The auto-send policy: which drafts may go out without a human.
//!
//! A draft qualifies only if every rule holds: risk is `low`, the draft stage did not ask for
//! review, its category is in `policy.categories`, and its confidence is at least
//! `policy.min_confidence`. The whole robot stops while `policy.auto_send` is false or the
//! pause file exists (checked before every single send, so creating the file stops a running
//! batch), and at most `policy.daily_cap` drafts a day (in the team's time zone) are approved
//! by it.

use chrono::{DateTime, TimeZone, Utc};

use crate::config::Config;
use crate::ledger::DraftRow;

/// Why auto-send is not running right now, or None when it is.
pub fn stopped(config: &Config) -> Option<String> {
    let policy = &config.policy;
    if !policy.auto_send {
        return Some("auto-send is off (policy.auto_send = false)".into());
    }
    paused(config)
}

/// Why the pause file holds auto-send (and its shadow), or None.
pub fn paused(config: &Config) -> Option<String> {
    let path = config.resolve_path(config.policy.pause_file.as_ref()?);
    path.exists().then(|| format!("auto-send is paused while {} exists", path.display()))
}

/// Ok when the draft qualifies; otherwise every rule it breaks.
pub fn check(config: &Config, draft: &DraftRow) -> Result<String, Vec<String>> {
    let policy = &config.policy;
    let mut no = Vec::new();
    if !draft.risk.eq_ignore_ascii_case("low") {
        no.push(format!("risk is {}", if draft.risk.is_empty() { "unknown" } else { &draft.risk }));
    }
    if draft.draft_json.get("review_required").and_then(|v| v.as_bool()) == Some(true) {
        no.push("the draft asks for review".into());
    }
    match draft.category.as_deref() {
        Some(c) if policy.categories.iter().any(|a| a.eq_ignore_ascii_case(c)) => {}
        Some(c) => no.push(format!("category {c} is not in policy.categories")),
        None => no.push("no category".into()),
    }
    match draft.confidence {
        Some(c) if c >= policy.min_confidence => {}
        Some(c) => no.push(format!("confidence {c:.2} is below {:.2}", policy.min_confidence)),
        None => no.push("no confidence".into()),
    }
    if no.is_empty() {
        Ok(format!(
            "auto-send policy: low risk, category {}, confidence {:.2}",
            draft.category.as_deref().unwrap_or(""),
            draft.confidence.unwrap_or(0.0)
        ))
    } else {
        Err(no)
    }
}

/// The start of the team's current day, as RFC 3339 UTC (what `decided_at` is compared with).
pub fn day_start(timezone: &str, now: DateTime<Utc>) -> String {
    let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
    let local = now.with_timezone(&tz).date_naive();
    let midnight = local.and_hms_opt(0, 0, 0).unwrap_or_default();
    let start = tz.from_local_datetime(&midnight).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or(now);
    start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::DraftState;

    fn draft(risk: &str, category: &str, confidence: f64) -> DraftRow {
        DraftRow {
            id: "d".into(),
            message: "m".into(),
            state: DraftState::Pending,
            subject: "s".into(),
            body: "b".into(),
            risk: risk.into(),
            category: Some(category.into()),
            priority: None,
            confidence: Some(confidence),
            draft_json: serde_json::json!({}),
            decided_by: None,
            decided_at: None,
            decision_reason: None,
            out_message_id: None,
            smtp_response: None,
            attempts: 0,
            sent_at: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn config() -> Config {
        let mut c = Config::default();
        c.policy.auto_send = true;
        c
    }

    #[test]
    fn only_low_risk_allowlisted_confident_drafts_qualify() {
        let c = config();
        assert!(check(&c, &draft("low", "shipping", 0.95)).is_ok());
        assert!(check(&c, &draft("high", "shipping", 0.99)).unwrap_err()[0].contains("risk is high"));
        assert!(check(&c, &draft("", "shipping", 0.99)).is_err());
        assert!(check(&c, &draft("low", "refund", 0.99)).unwrap_err()[0].contains("refund"));
        assert!(check(&c, &draft("low", "shipping", 0.5)).unwrap_err()[0].contains("below"));
        let mut d = draft("low", "shipping", 0.95);
        d.draft_json = serde_json::json!({"review_required": true});
        assert!(check(&c, &d).is_err());
    }

    #[test]
    fn kill_switch_and_pause_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config();
        assert!(stopped(&c).is_none());
        c.policy.pause_file = Some(dir.path().join("pause"));
        assert!(stopped(&c).is_none());
        std::fs::write(dir.path().join("pause"), "").unwrap();
        assert!(stopped(&c).unwrap().contains("paused"));
        c.policy.auto_send = false;
        assert!(stopped(&c).unwrap().contains("off"));
    }

    #[test]
    fn the_day_starts_at_local_midnight() {
        let now = "2026-11-21T01:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(day_start("UTC", now), "2026-11-21T00:00:00Z");
        assert_eq!(day_start("Europe/Berlin", now), "2026-11-20T23:00:00Z");
        assert_eq!(day_start("America/New_York", now), "2026-11-20T05:00:00Z");
        assert_eq!(day_start("Not/AZone", now), "2026-11-21T00:00:00Z");
    }
}
