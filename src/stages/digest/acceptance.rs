//! The weekly acceptance figures (`mailroom digest --since 7d`): the numbers that tell a team
//! when to trust automation. Each is defined where it is declared; in short:
//!
//! - cases opened and resolved (from [`super::cases::CaseFigures`]);
//! - automated reception coverage: the share of customer mail mailroom took in by itself;
//! - review pass rate: drafts people approved exactly as written, of those they decided;
//! - shadow-policy agreement per category (`mailroom send --auto --shadow`);
//! - waiting-timeout rate: cases that timed out waiting on the customer, of those that waited;
//! - median time to first reply: case opened → our first reply or the team's;
//! - evidence completeness: cases whose every state change has its `case.state` event.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::cases::{CaseFigures, TrustRow};
use super::{Timing, Window, median, minutes_between};
use crate::stages::cases::story::LIVE;
use crate::stages::send::shadow::{AGREEMENT, SHADOW};
use crate::stages::sql::prepare;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Acceptance {
    /// Cases whose first message arrived in the window (as `cases.opened`).
    pub cases_opened: i64,
    /// Cases resolved in the window (as `cases.resolved`).
    pub cases_resolved: i64,
    pub reception: Coverage,
    pub review: PassRate,
    /// Per category (most decided first), and `all` last when there is any.
    pub shadow: Vec<Agreement>,
    pub waiting_timeouts: TimeoutRate,
    /// Case opened (its first message arrived) → its first reply: a reply of ours sent, or one
    /// a person wrote from a mail client (its Date). For cases whose first reply is in the window.
    pub first_reply: Timing,
    pub evidence: Evidence,
}

/// Automated reception coverage.
///
/// *Received*: messages that arrived in the window, except the team's own (replies of ours
/// read back from Sent or a Bcc copy, and replies people wrote from a mail client).
/// *Covered*: received messages mailroom took in with no person touching their reception:
/// either the filter dropped them (current verdict other than `pass`), or the draft stage
/// wrote a reply draft for them — and no person corrected the filter or triage (a rescue,
/// confirmation, spam mark or recategorization: any result with backend `human`), and none of
/// their drafts was edited, rejected by a person, or marked handled (by a person, or by a
/// reply from a mail client). Approving a draft as written is review, not a touch; a draft
/// still pending counts as untouched. Messages neither filtered nor drafted are not covered.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Coverage {
    pub received: i64,
    /// Dropped by the filter, untouched.
    pub filtered_out: i64,
    /// Drafted, untouched.
    pub drafted: i64,
    /// filtered_out + drafted …
    pub covered: i64,
    /// … / received.
    pub share: Option<f64>,
}

/// Review pass rate: of the drafts people decided in the window (approved, rejected, handled;
/// not the policy's approvals nor drafts the draft stage superseded), those approved exactly
/// as written. The totals of the `trust` table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PassRate {
    pub decided: i64,
    pub approved_as_written: i64,
    pub share: Option<f64>,
}

/// Shadow-policy agreement of one category.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Agreement {
    pub category: String,
    /// Drafts shadowed in the window …
    pub shadowed: i64,
    /// … of which the policy would have sent.
    pub would_send: i64,
    /// Shadowed drafts (shadowed any time) a person decided in the window …
    pub decided: i64,
    /// … where the person agreed with the verdict (would send ↔ approved as written;
    /// would hold ↔ edited, rejected or handled) …
    pub agreed: i64,
    /// … agreed / decided …
    pub share: Option<f64>,
    /// … and the disagreement that matters most: the policy would have sent a draft a person
    /// then edited, rejected or answered another way.
    pub would_send_overruled: i64,
}

/// Waiting-timeout rate: of the cases that waited on the customer at some time in the window
/// (began or stopped waiting in it, or waited through its end), those whose wait ended in it
/// by the waiting timeout (a reminder draft, or closed).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TimeoutRate {
    pub waited: i64,
    pub timed_out: i64,
    pub share: Option<f64>,
}

/// Evidence completeness: of the cases in the window (opened in it, or with a state change in
/// it; cases of filtered-out mail not counted), those whose `case.state` events replay to the
/// state the case is in: starting from `new`, each event moves from the state the one before
/// moved to, and the last ends in the current state. A state written without its event
/// (a crash between the two in older versions, a manual fix in the database) breaks the chain.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    pub cases: i64,
    pub complete: i64,
    pub share: Option<f64>,
    /// Some cases whose story has a gap, to look at.
    pub incomplete_cases: Vec<String>,
}

impl Agreement {
    fn new(category: String) -> Agreement {
        Agreement { category, shadowed: 0, would_send: 0, decided: 0, agreed: 0, share: None, would_send_overruled: 0 }
    }
}

pub fn share(n: i64, of: i64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}

pub fn acceptance(
    conn: &Connection,
    w: &Window,
    cases: &CaseFigures,
    trust: &[TrustRow],
    samples: usize,
) -> Result<Acceptance> {
    let decided: i64 = trust.iter().map(|t| t.decided).sum();
    let approved: i64 = trust.iter().map(|t| t.approved_unchanged).sum();
    let moves = case_moves(conn, w)?;
    Ok(Acceptance {
        cases_opened: cases.opened,
        cases_resolved: cases.resolved,
        reception: coverage(conn, w)?,
        review: PassRate { decided, approved_as_written: approved, share: share(approved, decided) },
        shadow: agreement(conn, w)?,
        waiting_timeouts: timeouts(conn, w, &moves)?,
        first_reply: first_reply(conn, w)?,
        evidence: evidence(conn, w, &moves, samples)?,
    })
}

fn coverage(conn: &Connection, w: &Window) -> Result<Coverage> {
    let (start, end) = w.bounds();
    let sql = format!(
        "SELECT (SELECT s.summary FROM stage_results s WHERE s.message = m.id AND s.stage = 'filter' \
                 ORDER BY s.version DESC LIMIT 1), \
                EXISTS (SELECT 1 FROM stage_results s WHERE s.message = m.id AND s.backend = 'human'), \
                EXISTS (SELECT 1 FROM drafts d WHERE d.message = m.id), \
                EXISTS (SELECT 1 FROM drafts d WHERE d.message = m.id AND (d.state = 'handled' \
                        OR (d.state = 'rejected' AND d.decided_by IS NOT '{actor}') \
                        OR d.body IS NOT json_extract(d.draft_json, '$.body') \
                        OR d.subject IS NOT json_extract(d.draft_json, '$.subject'))) \
         FROM messages m WHERE m.arrived_at >= ?1 AND m.arrived_at < ?2 \
         AND NOT EXISTS (SELECT 1 FROM case_messages cm WHERE cm.message = m.id AND cm.role <> 'customer')",
        actor = crate::stages::draft::store::ACTOR
    );
    let mut stmt = prepare(conn, &sql)?;
    let rows = stmt.query_map(params![start, end], |r| {
        Ok((r.get::<_, Option<String>>(0)?, r.get::<_, bool>(1)?, r.get::<_, bool>(2)?, r.get::<_, bool>(3)?))
    })?;
    let mut c = Coverage { received: 0, filtered_out: 0, drafted: 0, covered: 0, share: None };
    for row in rows {
        let (verdict, corrected, drafted, touched) = row?;
        c.received += 1;
        if corrected {
            continue;
        }
        match verdict.as_deref() {
            Some(v) if v != "pass" => c.filtered_out += 1,
            _ if drafted && !touched => c.drafted += 1,
            _ => {}
        }
    }
    c.covered = c.filtered_out + c.drafted;
    c.share = share(c.covered, c.received);
    Ok(c)
}

/// Per category from the shadow and agreement events of the window, busiest first, then `all`.
fn agreement(conn: &Connection, w: &Window) -> Result<Vec<Agreement>> {
    let (start, end) = w.bounds();
    let mut by: BTreeMap<String, Agreement> = BTreeMap::new();
    let mut stmt = prepare(
        conn,
        "SELECT json_extract(detail_json, '$.category'), json_extract(detail_json, '$.verdict'), COUNT(*) \
         FROM events WHERE kind = ?1 AND at >= ?2 AND at < ?3 GROUP BY 1, 2",
    )?;
    let shadowed = stmt.query_map(params![SHADOW, start, end], |r| {
        Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, i64>(2)?))
    })?;
    for s in shadowed {
        let (category, verdict, n) = s?;
        let a = by_entry(&mut by, category);
        a.shadowed += n;
        if verdict.as_deref() == Some("would_send") {
            a.would_send += n;
        }
    }
    let mut stmt = prepare(
        conn,
        "SELECT json_extract(detail_json, '$.category'), json_extract(detail_json, '$.shadow_verdict'), \
                json_extract(detail_json, '$.agreed'), COUNT(*) \
         FROM events WHERE kind = ?1 AND at >= ?2 AND at < ?3 GROUP BY 1, 2, 3",
    )?;
    let decided = stmt.query_map(params![AGREEMENT, start, end], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<bool>>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for d in decided {
        let (category, verdict, agreed, n) = d?;
        let a = by_entry(&mut by, category);
        a.decided += n;
        if agreed == Some(true) {
            a.agreed += n;
        } else if verdict.as_deref() == Some("would_send") {
            a.would_send_overruled += n;
        }
    }
    Ok(with_total(by.into_values().collect()))
}

fn by_entry(by: &mut BTreeMap<String, Agreement>, category: Option<String>) -> &mut Agreement {
    let category = category.unwrap_or_else(|| "none".into());
    by.entry(category.clone()).or_insert_with(|| Agreement::new(category))
}

/// Shares filled in, busiest category first, and an `all` row when there is anything.
fn with_total(mut rows: Vec<Agreement>) -> Vec<Agreement> {
    if rows.is_empty() {
        return rows;
    }
    rows.sort_by(|a, b| b.decided.cmp(&a.decided).then(b.shadowed.cmp(&a.shadowed)).then(a.category.cmp(&b.category)));
    let mut all = Agreement::new("all".into());
    for r in &rows {
        all.shadowed += r.shadowed;
        all.would_send += r.would_send;
        all.decided += r.decided;
        all.agreed += r.agreed;
        all.would_send_overruled += r.would_send_overruled;
    }
    rows.push(all);
    for r in &mut rows {
        r.share = share(r.agreed, r.decided);
    }
    rows
}

/// One `case.state` event of the window.
#[derive(Debug, Clone)]
struct Move {
    case: String,
    from: String,
    to: String,
    cause: String,
}

fn case_moves(conn: &Connection, w: &Window) -> Result<Vec<Move>> {
    let (start, end) = w.bounds();
    let mut stmt = prepare(
        conn,
        "SELECT json_extract(detail_json, '$.case'), json_extract(detail_json, '$.from'), \
                json_extract(detail_json, '$.to'), json_extract(detail_json, '$.cause') \
         FROM events WHERE kind = 'case.state' AND at >= ?1 AND at < ?2",
    )?;
    let rows = stmt.query_map(params![start, end], |r| {
        Ok(Move {
            case: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            from: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            to: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            cause: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn timeouts(conn: &Connection, w: &Window, moves: &[Move]) -> Result<TimeoutRate> {
    let (_, end) = w.bounds();
    let mut waited: BTreeSet<&str> = BTreeSet::new();
    let mut timed_out: BTreeSet<&str> = BTreeSet::new();
    for m in moves {
        if m.from == "waiting_customer" || m.to == "waiting_customer" {
            waited.insert(&m.case);
        }
        if m.from == "waiting_customer" && m.cause == "timeout" {
            timed_out.insert(&m.case);
        }
    }
    // Waiting through the end of the window without a move in it.
    let mut stmt =
        prepare(conn, "SELECT c.id FROM cases c WHERE c.state = 'waiting_customer' AND c.waiting_since < ?1")?;
    let still: Vec<String> = stmt.query_map([&end], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let mut waited: BTreeSet<String> = waited.into_iter().map(str::to_string).collect();
    waited.extend(still);
    let (waited, timed_out) = (waited.len() as i64, timed_out.len() as i64);
    Ok(TimeoutRate { waited, timed_out, share: share(timed_out, waited) })
}

fn first_reply(conn: &Connection, w: &Window) -> Result<Timing> {
    let (start, end) = w.bounds();
    // Cases with a reply in the window: ours sent, or the team's from a mail client.
    let mut stmt = prepare(
        conn,
        "SELECT cm.case_id FROM drafts d JOIN case_messages cm ON cm.message = d.message \
         WHERE d.sent_at >= ?1 AND d.sent_at < ?2 \
         UNION SELECT cm.case_id FROM messages m JOIN case_messages cm ON cm.message = m.id \
         WHERE m.arrived_at >= ?1 AND m.arrived_at < ?2 AND cm.role = 'team'",
    )?;
    let cases: Vec<String> = stmt.query_map(params![start, end], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let mut first = prepare(
        conn,
        "SELECT c.created_at, \
                (SELECT MIN(d.sent_at) FROM case_messages cm JOIN drafts d ON d.message = cm.message \
                 WHERE cm.case_id = c.id), \
                (SELECT MIN(m.arrived_at) FROM case_messages cm JOIN messages m ON m.id = cm.message \
                 WHERE cm.case_id = c.id AND cm.role = 'team') \
         FROM cases c WHERE c.id = ?1",
    )?;
    let mut pairs = Vec::new();
    for case in cases {
        let row: Option<(String, Option<String>, Option<String>)> =
            first.query_row([&case], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
        let Some((opened, ours, team)) = row else { continue };
        let reply = match (ours, team) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => continue,
        };
        // Only cases whose *first* reply is in the window.
        if reply >= start && reply < end {
            pairs.push((opened, reply));
        }
    }
    let minutes = minutes_between(&pairs);
    Ok(Timing { count: minutes.len() as i64, median_minutes: median(&minutes) })
}

/// True when `moves` (from, to), oldest first, replay from `new` to `current`.
pub fn chain_complete(current: &str, moves: &[(String, String)]) -> bool {
    let mut at = "new";
    for (from, to) in moves {
        if from != at {
            return false;
        }
        at = to;
    }
    at == current
}

fn evidence(conn: &Connection, w: &Window, moves: &[Move], samples: usize) -> Result<Evidence> {
    let (start, end) = w.bounds();
    let mut stmt = prepare(conn, "SELECT c.id FROM cases c WHERE c.created_at >= ?1 AND c.created_at < ?2")?;
    let mut ids: BTreeSet<String> =
        stmt.query_map(params![start, end], |r| r.get(0))?.collect::<Result<_, _>>()?;
    ids.extend(moves.iter().map(|m| m.case.clone()));
    let mut case = prepare(conn, &format!("SELECT c.state, {LIVE} FROM cases c WHERE c.id = ?1"))?;
    let mut story = prepare(
        conn,
        "SELECT json_extract(detail_json, '$.from'), json_extract(detail_json, '$.to') FROM events \
         WHERE kind = 'case.state' AND json_extract(detail_json, '$.case') = ?1 ORDER BY id",
    )?;
    let mut e = Evidence { cases: 0, complete: 0, share: None, incomplete_cases: Vec::new() };
    for id in ids {
        let Some((state, live)) =
            case.query_row([&id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))).optional()?
        else {
            continue;
        };
        if !live {
            continue;
        }
        let chain: Vec<(String, String)> = story
            .query_map([&id], |r| {
                Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get::<_, Option<String>>(1)?.unwrap_or_default()))
            })?
            .collect::<Result<_, _>>()?;
        e.cases += 1;
        if chain_complete(&state, &chain) {
            e.complete += 1;
        } else if e.incomplete_cases.len() < samples {
            e.incomplete_cases.push(id);
        }
    }
    e.share = share(e.complete, e.cases);
    Ok(e)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeDelta, Utc};

    use super::*;
    use crate::config::Config;
    use crate::ledger::results::{NewResult, Stage, add_result};
    use crate::ledger::{DraftState, Ledger};
    use crate::stages::cases::timeouts::{OnTimeout, SweepSettings, sweep};
    use crate::stages::digest::cases::tests::{draft, ingest, message, to};
    use crate::stages::digest::cases::{case_figures, trust};
    use crate::stages::review::actions;
    use crate::stages::send::shadow;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_chain_of_state_events_must_replay_to_the_current_state() {
        assert!(chain_complete("new", &[]));
        assert!(!chain_complete("resolved", &[]), "resolved without any event");
        let ok = pairs(&[("new", "waiting_internal"), ("waiting_internal", "waiting_customer")]);
        assert!(chain_complete("waiting_customer", &ok));
        assert!(!chain_complete("resolved", &ok), "the last change has no event");
        let gap = pairs(&[("new", "waiting_internal"), ("waiting_customer", "waiting_internal")]);
        assert!(!chain_complete("waiting_internal", &gap), "a change in the middle has no event");
    }

    #[test]
    fn agreement_rows_get_shares_and_a_total() {
        let mut a = Agreement::new("shipping".into());
        (a.decided, a.agreed, a.shadowed) = (4, 3, 5);
        let mut b = Agreement::new("refund".into());
        (b.decided, b.agreed, b.would_send_overruled) = (1, 0, 1);
        let rows = with_total(vec![b, a]);
        let got: Vec<(&str, i64, i64, Option<f64>)> =
            rows.iter().map(|r| (r.category.as_str(), r.decided, r.agreed, r.share)).collect();
        assert_eq!(got, [("shipping", 4, 3, Some(0.75)), ("refund", 1, 0, Some(0.0)), ("all", 5, 3, Some(0.6))]);
        assert_eq!(rows[2].would_send_overruled, 1);
        assert!(with_total(Vec::new()).is_empty());
    }

    fn set(ledger: &Ledger, sql: &str, p: impl rusqlite::Params) {
        ledger.conn().execute(sql, p).unwrap();
    }

    fn at(hours_ago: i64) -> String {
        (Utc::now() - Duration::hours(hours_ago)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    #[test]
    fn figures_over_known_decisions_match_a_count_by_hand() {
        use DraftState::*;
        let mut ledger = Ledger::open_in_memory().unwrap();
        let mut config = Config::default();
        config.policy.categories = vec!["shipping".into()];
        config.policy.min_confidence = 0.9;
        let m: Vec<String> = ["a", "b", "c", "d", "e", "spam"].iter().map(|t| message(&mut ledger, t, 4)).collect();
        // "spam" is dropped by the filter; the others pass.
        for (i, id) in m.iter().enumerate() {
            let verdict = if i == 5 { "spam" } else { "pass" };
            let json = serde_json::json!({"verdict": verdict});
            let r = NewResult {
                message: id,
                stage: Stage::Filter,
                summary: verdict,
                backend: "embedded",
                model: "t",
                prompt_version: "1",
                result: &json,
                run_id: None,
            };
            ledger.write(|tx| add_result(tx, &r)).unwrap();
        }
        draft(&mut ledger, "a", &m[0], "shipping", "low", &[]);
        draft(&mut ledger, "b", &m[1], "shipping", "low", &["order_number"]);
        draft(&mut ledger, "c", &m[2], "refund", "high", &[]);
        draft(&mut ledger, "d", &m[3], "shipping", "low", &[]);
        // a, b, d would be sent; c would be held (refund, high risk). Twice: recorded once.
        for _ in 0..2 {
            shadow::run(&config, &mut ledger, &shadow::ShadowOptions::default(), &mut |_| Ok(())).unwrap();
        }
        // a: approved as written (agrees), sent 30 minutes after its message arrived.
        actions::approve(&mut ledger, "a", "alice", None).unwrap();
        to(&mut ledger, "a", &[Sending, Sent], "send");
        let arrived: String =
            ledger.conn().query_row("SELECT arrived_at FROM messages WHERE id = ?1", [&m[0]], |r| r.get(0)).unwrap();
        let sent = (chrono::DateTime::parse_from_rfc3339(&arrived).unwrap() + Duration::minutes(30))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        set(&ledger, "UPDATE drafts SET sent_at = ?1 WHERE id = 'a'", [&sent]);
        // b: edited, approved (overrules a would-send), sent asking for the order number 90
        // minutes after arrival; the customer never answers: the timeout closes the case.
        actions::edit(&mut ledger, "b", None, "Better text", "bob").unwrap();
        actions::approve(&mut ledger, "b", "bob", None).unwrap();
        to(&mut ledger, "b", &[Sending, Sent], "send");
        let sent_b = (chrono::DateTime::parse_from_rfc3339(&arrived).unwrap() + Duration::minutes(90))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        set(&ledger, "UPDATE drafts SET sent_at = ?1 WHERE id = 'b'", [&sent_b]);
        set(&ledger, "UPDATE cases SET waiting_since = ?1 WHERE state = 'waiting_customer'", [at(80)]);
        let settings = SweepSettings { waiting_customer_days: 2, on_timeout: OnTimeout::Close, sign_off: String::new() };
        assert_eq!(sweep(&mut ledger, &settings, Utc::now(), false, None).unwrap().len(), 1);
        // c: rejected (agrees with would-hold). d stays pending. e has no draft.
        actions::reject(&mut ledger, "c", "carol", "wrong", None).unwrap();
        // Someone resolves c's case straight in the database: a state change without its event.
        set(
            &ledger,
            "UPDATE cases SET state = 'resolved' WHERE id = (SELECT case_id FROM case_messages WHERE message = ?1)",
            [&m[2]],
        );

        let now = Utc::now() + TimeDelta::minutes(1);
        let w = Window::last(TimeDelta::days(7), now);
        let f = case_figures(ledger.conn(), &w, &Default::default(), now, 5).unwrap();
        let t = trust(ledger.conn(), &w).unwrap();
        let a = acceptance(ledger.conn(), &w, &f, &t, 5).unwrap();
        // Cases: six opened; "spam" is filtered out, so five count. a's reply asked for
        // nothing: resolved. b's was cancelled by the timeout, c's resolved without an event.
        assert_eq!((a.cases_opened, a.cases_resolved), (5, 1));
        // Received 6; covered: spam (filtered out), a (approved as written), d (pending).
        // b was edited, c rejected, e never drafted.
        assert_eq!(a.reception, Coverage { received: 6, filtered_out: 1, drafted: 2, covered: 3, share: Some(0.5) });
        // Decided a, b, c; only a as written.
        assert_eq!(a.review, PassRate { decided: 3, approved_as_written: 1, share: Some(1.0 / 3.0) });
        let rows: Vec<(&str, i64, i64, i64, i64, i64)> = a
            .shadow
            .iter()
            .map(|s| (s.category.as_str(), s.shadowed, s.would_send, s.decided, s.agreed, s.would_send_overruled))
            .collect();
        // shipping: a, b, d shadowed (would send), a and b decided, a agreed, b overruled.
        // refund: c shadowed (would hold), rejected: agreed.
        assert_eq!(rows, [("shipping", 3, 3, 2, 1, 1), ("refund", 1, 0, 1, 1, 0), ("all", 4, 3, 3, 2, 1)]);
        // Only b's case waited on the customer, and it timed out.
        assert_eq!(a.waiting_timeouts, TimeoutRate { waited: 1, timed_out: 1, share: Some(1.0) });
        // First replies: a after 30 minutes, b after 90.
        assert_eq!(a.first_reply, Timing { count: 2, median_minutes: Some(60.0) });
        // Five live cases; c's has a gap.
        let c_case: String = ledger
            .conn()
            .query_row("SELECT case_id FROM case_messages WHERE message = ?1", [&m[2]], |r| r.get(0))
            .unwrap();
        assert_eq!(
            a.evidence,
            Evidence { cases: 5, complete: 4, share: Some(0.8), incomplete_cases: vec![c_case] }
        );
        for sql in crate::stages::sql::seen() {
            crate::stages::sql::assert_indexed(ledger.conn(), &sql);
        }
    }

    #[test]
    fn a_reply_from_a_mail_client_is_a_first_reply_and_a_handled_decision() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        let config = Config::default();
        let m = message(&mut ledger, "t", 3);
        draft(&mut ledger, "t", &m, "shipping", "low", &[]);
        shadow::run(&config, &mut ledger, &shadow::ShadowOptions::default(), &mut |_| Ok(())).unwrap();
        let arrived: String =
            ledger.conn().query_row("SELECT arrived_at FROM messages WHERE id = ?1", [&m], |r| r.get(0)).unwrap();
        let date = (chrono::DateTime::parse_from_rfc3339(&arrived).unwrap() + Duration::hours(2)).to_rfc2822();
        let reply = format!(
            "From: Maria <maria@shop.example>\r\nTo: t@customer.example\r\nSubject: Re: Question t\r\n\
             Message-ID: <hand-t@shop.example>\r\nIn-Reply-To: <t@customer.example>\r\nDate: {date}\r\n\r\nDone.\r\n"
        );
        ingest(&mut ledger, "Sent", reply);
        let now = Utc::now() + TimeDelta::minutes(1);
        let w = Window::last(TimeDelta::days(7), now);
        let f = case_figures(ledger.conn(), &w, &Default::default(), now, 5).unwrap();
        let t = trust(ledger.conn(), &w).unwrap();
        let a = acceptance(ledger.conn(), &w, &f, &t, 5).unwrap();
        // Opened 3 hours ago, answered from a mail client 2 hours later.
        assert_eq!(a.first_reply, Timing { count: 1, median_minutes: Some(120.0) });
        // The team's reply is not received mail; the handled draft is a touched one.
        assert_eq!((a.reception.received, a.reception.covered), (1, 0));
        // The default policy would have sent it (shipping, low risk, 0.95): handled disagrees.
        let all = a.shadow.last().unwrap();
        assert_eq!((all.decided, all.agreed, all.would_send_overruled), (1, 0, 1));
        assert_eq!((a.evidence.cases, a.evidence.complete), (1, 1));
    }
}
