//! Shadow auto-send: trying the auto-send policy before trusting it.
//!
//! `mailroom send --auto --shadow` asks [`policy::check`] about every pending draft and records
//! its verdict as one `policy.shadow` event per draft (`would_send` or `would_hold`, with the
//! reason), without sending anything or changing any draft. It runs while `policy.auto_send`
//! is false — that is its point — but honours everything else the real policy does: its rules,
//! `policy.daily_cap` (would-send verdicts of the team's day count against it, as real policy
//! approvals would) and the pause file (while it exists nothing is shadowed). A draft is
//! shadowed once: later runs leave it alone.
//!
//! When a person later decides about a shadowed draft, [`record_agreement`] (called by the
//! review actions and by a reply from a mail client, in the transaction of the decision)
//! records one `policy.agreement` event: what the person did (`approved` as written, `edited`
//! then approved, `rejected`, `handled`) and whether it agrees with the shadow verdict — a
//! would-send verdict agrees with an approval as written only; a would-hold verdict with
//! anything else. The human verdict is the one of the first decision.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;

use super::policy;
use crate::config::Config;
use crate::ledger::drafts::get_draft;
use crate::ledger::events::insert as insert_event;
use crate::ledger::{DraftRow, DraftState, Event, Ledger};

/// Event kind of a shadow verdict.
pub const SHADOW: &str = "policy.shadow";
/// Event kind of a person's decision compared with the shadow verdict.
pub const AGREEMENT: &str = "policy.agreement";
/// The actor of shadow verdicts (auto-send itself acts as `policy`).
const ACTOR: &str = "policy-shadow";

/// What the policy would have done with a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    WouldSend,
    WouldHold,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::WouldSend => "would_send",
            Verdict::WouldHold => "would_hold",
        }
    }
}

/// What a person did with a draft, for the agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Human {
    /// Approved exactly as written.
    Approved,
    /// Approved after an edit.
    Edited,
    Rejected,
    /// Answered another way (marked handled, or a reply from a mail client).
    Handled,
}

impl Human {
    pub fn as_str(self) -> &'static str {
        match self {
            Human::Approved => "approved",
            Human::Edited => "edited",
            Human::Rejected => "rejected",
            Human::Handled => "handled",
        }
    }

    /// Only a draft approved as written is what the policy would have sent.
    pub fn agrees_with(self, verdict: Verdict) -> bool {
        (verdict == Verdict::WouldSend) == (self == Human::Approved)
    }
}

/// One line of `mailroom send --auto --shadow`: a verdict recorded now.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShadowOutcome {
    pub draft: String,
    pub message: String,
    pub category: Option<String>,
    pub confidence: Option<f64>,
    pub risk: String,
    pub verdict: Verdict,
    pub reason: String,
}

/// What a shadow run did.
#[derive(Debug, Default, Clone)]
pub struct ShadowSummary {
    pub would_send: u64,
    pub would_hold: u64,
    /// Drafts shadowed by an earlier run (not recorded again).
    pub already: u64,
    /// Asked for with `--draft` but not pending, or unknown.
    pub skipped: u64,
    pub notes: Vec<String>,
}

/// Which drafts a shadow run looks at.
#[derive(Debug, Clone, Default)]
pub struct ShadowOptions {
    /// Only these drafts (else every pending draft, oldest first).
    pub only: Option<Vec<String>>,
    /// Record at most this many verdicts.
    pub max: Option<usize>,
    pub run_id: Option<i64>,
}

/// A draft approved exactly as the draft stage wrote it (the trust table's rule too).
pub fn approved_as_written(d: &DraftRow) -> bool {
    d.draft_json.get("body").and_then(|b| b.as_str()) == Some(d.body.as_str())
        && d.draft_json.get("subject").and_then(|s| s.as_str()) == Some(d.subject.as_str())
}

fn shadow_of(conn: &Connection, draft: &str) -> Result<Option<serde_json::Value>> {
    let detail: Option<Option<String>> = conn
        .prepare_cached("SELECT detail_json FROM events WHERE draft = ?1 AND kind = ?2 ORDER BY id LIMIT 1")?
        .query_row([draft, SHADOW], |r| r.get(0))
        .optional()?;
    Ok(detail.map(|d| d.and_then(|d| serde_json::from_str(&d).ok()).unwrap_or(serde_json::Value::Null)))
}

/// Would-send verdicts recorded since `since` (the start of the team's day).
fn would_send_since(conn: &Connection, since: &str) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM events WHERE kind = ?1 AND at >= ?2 \
         AND json_extract(detail_json, '$.verdict') = 'would_send'",
        rusqlite::params![SHADOW, since],
        |r| r.get(0),
    )?)
}

/// The policy's verdict on `draft` now, given how many sends today's cap still allows.
fn verdict(config: &Config, draft: &DraftRow, cap_left: i64) -> (Verdict, String) {
    match policy::check(config, draft) {
        Err(rules) => (Verdict::WouldHold, format!("needs a human: {}", rules.join("; "))),
        Ok(_) if cap_left <= 0 => (
            Verdict::WouldHold,
            format!("the auto-send daily cap ({}) is reached", config.policy.daily_cap),
        ),
        Ok(reason) => (Verdict::WouldSend, reason),
    }
}

/// Records the policy's verdict for each pending draft not shadowed yet (see the module doc),
/// emitting one outcome per verdict recorded. Sends nothing and changes no draft.
pub fn run(
    config: &Config,
    ledger: &mut Ledger,
    opts: &ShadowOptions,
    emit: &mut dyn FnMut(&ShadowOutcome) -> Result<()>,
) -> Result<ShadowSummary> {
    let mut summary = ShadowSummary::default();
    if let Some(why) = policy::paused(config) {
        summary.notes.push(format!("{why}; nothing shadowed"));
        return Ok(summary);
    }
    let drafts = match &opts.only {
        None => ledger.drafts_in(&[DraftState::Pending])?,
        Some(ids) => {
            let mut out = Vec::new();
            for id in ids {
                match ledger.draft(id)? {
                    Some(d) if d.state == DraftState::Pending => out.push(d),
                    Some(d) => {
                        summary.skipped += 1;
                        summary.notes.push(format!("draft {id} is {}; only pending drafts are shadowed", d.state.as_str()));
                    }
                    None => {
                        summary.skipped += 1;
                        summary.notes.push(format!("no draft with id {id}"));
                    }
                }
            }
            out
        }
    };
    let since = policy::day_start(&config.team.timezone, chrono::Utc::now());
    let cap = i64::from(config.policy.daily_cap);
    let mut recorded = 0usize;
    for d in drafts {
        if opts.max.is_some_and(|m| recorded >= m) {
            summary.notes.push(format!("stopped after --max {recorded}; the rest waits for the next run"));
            break;
        }
        let run_id = opts.run_id;
        // Check, count and record in one transaction: two shadow runs never record a draft twice.
        let outcome = ledger.write(|tx| {
            let Some(d) = get_draft(tx, &d.id)?.filter(|d| d.state == DraftState::Pending) else { return Ok(None) };
            if shadow_of(tx, &d.id)?.is_some() {
                return Ok(Some(None));
            }
            let used = crate::ledger::outbox::policy_sends_since(tx, &since)? + would_send_since(tx, &since)?;
            let (verdict, reason) = verdict(config, &d, cap - used);
            insert_event(
                tx,
                &Event::new(SHADOW, "ok").run(run_id).message(d.message.clone()).draft(d.id.clone()).actor(ACTOR).detail(
                    json!({
                        "draft": d.id, "category": d.category, "confidence": d.confidence, "risk": d.risk,
                        "verdict": verdict.as_str(), "reason": reason,
                    }),
                ),
            )?;
            Ok(Some(Some(ShadowOutcome {
                draft: d.id,
                message: d.message,
                category: d.category,
                confidence: d.confidence,
                risk: d.risk,
                verdict,
                reason,
            })))
        })?;
        match outcome {
            None => summary.skipped += 1,
            Some(None) => summary.already += 1,
            Some(Some(o)) => {
                match o.verdict {
                    Verdict::WouldSend => summary.would_send += 1,
                    Verdict::WouldHold => summary.would_hold += 1,
                }
                recorded += 1;
                emit(&o)?;
            }
        }
    }
    if summary.already > 0 {
        summary.notes.push(format!("{} pending drafts were shadowed by an earlier run", summary.already));
    }
    Ok(summary)
}

/// After a person decided about a draft (call it in the transaction of the decision): when the
/// draft was shadowed and this is the first decision about it, records whether the person
/// agreed with the shadow verdict. Returns what was recorded.
pub fn record_agreement(conn: &Connection, draft_id: &str, run_id: Option<i64>) -> Result<Option<(Human, bool)>> {
    let Some(d) = get_draft(conn, draft_id)? else { return Ok(None) };
    let human = match d.state {
        DraftState::Approved if approved_as_written(&d) => Human::Approved,
        DraftState::Approved => Human::Edited,
        DraftState::Rejected => Human::Rejected,
        DraftState::Handled => Human::Handled,
        _ => return Ok(None),
    };
    let by = d.decided_by.as_deref().unwrap_or_default();
    if by == "policy" || by == crate::stages::draft::store::ACTOR {
        return Ok(None);
    }
    let Some(shadow) = shadow_of(conn, draft_id)? else { return Ok(None) };
    let decided_before: bool = conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM events WHERE draft = ?1 AND kind = ?2)")?
        .query_row([draft_id, AGREEMENT], |r| r.get(0))?;
    if decided_before {
        return Ok(None);
    }
    let verdict = match shadow.get("verdict").and_then(|v| v.as_str()) {
        Some("would_send") => Verdict::WouldSend,
        _ => Verdict::WouldHold,
    };
    let agreed = human.agrees_with(verdict);
    insert_event(
        conn,
        &Event::new(AGREEMENT, "ok").run(run_id).message(d.message.clone()).draft(d.id.clone()).actor(by).detail(json!({
            "draft": d.id,
            "category": d.category,
            "shadow_verdict": verdict.as_str(),
            "human": human.as_str(),
            "agreed": agreed,
        })),
    )?;
    Ok(Some((human, agreed)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::drafts::ledger_with_draft;

    fn config() -> Config {
        let mut c = Config::default();
        c.policy.categories = vec!["shipping".into()];
        c.policy.min_confidence = 0.85;
        c
    }

    fn shadow(ledger: &mut Ledger, config: &Config) -> Vec<ShadowOutcome> {
        let mut out = Vec::new();
        run(config, ledger, &ShadowOptions::default(), &mut |o| {
            out.push(o.clone());
            Ok(())
        })
        .unwrap();
        out
    }

    fn kinds(ledger: &Ledger, kind: &str) -> i64 {
        ledger.conn().query_row("SELECT COUNT(*) FROM events WHERE kind = ?1", [kind], |r| r.get(0)).unwrap()
    }

    #[test]
    fn only_a_draft_approved_as_written_agrees_with_would_send() {
        use Human::*;
        assert!(Approved.agrees_with(Verdict::WouldSend));
        for h in [Edited, Rejected, Handled] {
            assert!(!h.agrees_with(Verdict::WouldSend));
            assert!(h.agrees_with(Verdict::WouldHold));
        }
        assert!(!Approved.agrees_with(Verdict::WouldHold));
    }

    #[test]
    fn shadowing_works_while_auto_send_is_off_changes_nothing_and_records_once() {
        let mut ledger = ledger_with_draft();
        let c = config();
        assert!(!c.policy.auto_send);
        let first = shadow(&mut ledger, &c);
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].verdict, first[0].category.as_deref()), (Verdict::WouldSend, Some("shipping")));
        assert!(shadow(&mut ledger, &c).is_empty(), "a draft is shadowed once");
        assert_eq!(kinds(&ledger, SHADOW), 1);
        assert_eq!(ledger.draft("d1").unwrap().unwrap().state, DraftState::Pending);
    }

    #[test]
    fn the_daily_cap_and_the_pause_file_hold_in_shadow_too() {
        let mut ledger = ledger_with_draft();
        let mut c = config();
        c.policy.daily_cap = 0;
        let out = shadow(&mut ledger, &c);
        assert_eq!(out[0].verdict, Verdict::WouldHold);
        assert!(out[0].reason.contains("daily cap (0)"), "{}", out[0].reason);

        let mut ledger = ledger_with_draft();
        let dir = tempfile::tempdir().unwrap();
        let mut c = config();
        c.policy.pause_file = Some(dir.path().join("pause"));
        std::fs::write(dir.path().join("pause"), "").unwrap();
        assert!(shadow(&mut ledger, &c).is_empty());
        assert_eq!(kinds(&ledger, SHADOW), 0);
    }

    #[test]
    fn the_first_human_decision_records_the_agreement_once() {
        let mut ledger = ledger_with_draft();
        let mut c = config();
        c.policy.min_confidence = 0.95; // d1 has 0.9: would hold
        assert_eq!(shadow(&mut ledger, &c)[0].verdict, Verdict::WouldHold);
        // Not decided yet: nothing to compare.
        assert_eq!(ledger.write(|tx| record_agreement(tx, "d1", None)).unwrap(), None);
        ledger.edit_draft("d1", "Re: x", "Better text", "alice").unwrap();
        ledger.transition_draft("d1", DraftState::Approved, "alice", None, None).unwrap();
        let got = ledger.write(|tx| record_agreement(tx, "d1", None)).unwrap();
        assert_eq!(got, Some((Human::Edited, true)));
        assert_eq!(ledger.write(|tx| record_agreement(tx, "d1", None)).unwrap(), None);
        assert_eq!(kinds(&ledger, AGREEMENT), 1);
        let detail: String = ledger
            .conn()
            .query_row("SELECT detail_json FROM events WHERE kind = ?1", [AGREEMENT], |r| r.get(0))
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(v["shadow_verdict"], "would_hold");
        assert_eq!(v["human"], "edited");
        assert_eq!(v["category"], "shipping");
    }

    #[test]
    fn a_draft_nobody_shadowed_or_the_policy_decided_records_no_agreement() {
        let mut ledger = ledger_with_draft();
        ledger.transition_draft("d1", DraftState::Approved, "alice", None, None).unwrap();
        assert_eq!(ledger.write(|tx| record_agreement(tx, "d1", None)).unwrap(), None);

        let mut ledger = ledger_with_draft();
        shadow(&mut ledger, &config());
        ledger.transition_draft("d1", DraftState::Approved, "policy", None, None).unwrap();
        assert_eq!(ledger.write(|tx| record_agreement(tx, "d1", None)).unwrap(), None);
    }
}
