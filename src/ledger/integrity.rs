//! `Ledger::check_integrity`: SQLite's own checks plus the promises mailroom makes about its
//! data, each checked from what is stored rather than from what the code meant to do:
//!
//! - every message is stored once, with its raw source, and every raw source belongs to a
//!   message;
//! - every draft's history in the event log starts with `draft.created` and moves only along
//!   `DraftState::can_become`, ending in the state the draft is in;
//! - every sent draft has exactly one proof of sending (an accepted `smtp.send`, or a
//!   reconciliation that found it), and no other draft has any;
//! - a draft in `sending` holds a claim (its Message-ID and bytes fixed, a send stage), and no
//!   two drafts share a Message-ID;
//! - stage results are numbered 1, 2, 3… per message and stage.
//!
//! Each problem comes back as one sentence naming the rows involved (a few of them).

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use rusqlite::Connection;

use super::{DraftState, Ledger};

/// How many example ids a problem names.
const EXAMPLES: usize = 5;

impl Ledger {
    /// `PRAGMA integrity_check` and `foreign_key_check` plus mailroom's own invariants; returns
    /// the problems found (empty when the ledger is sound).
    pub fn check_integrity(&self) -> Result<Vec<String>> {
        check(&self.conn)
    }
}

/// The checks on any connection (a copy of a ledger opened by a test, say).
pub fn check(conn: &Connection) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    sqlite_checks(conn, &mut problems)?;
    message_checks(conn, &mut problems)?;
    draft_history(conn, &mut problems)?;
    send_checks(conn, &mut problems)?;
    result_checks(conn, &mut problems)?;
    Ok(problems)
}

/// Runs `sql` (returning one id per row) and reports `what` with a few of the ids when any.
fn report(conn: &Connection, problems: &mut Vec<String>, sql: &str, what: &str) -> Result<()> {
    let mut stmt = conn.prepare(sql)?;
    let ids: Vec<String> = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
    if !ids.is_empty() {
        problems.push(describe(ids.len(), what, &ids));
    }
    Ok(())
}

fn describe(count: usize, what: &str, ids: &[String]) -> String {
    let shown: Vec<&str> = ids.iter().take(EXAMPLES).map(String::as_str).collect();
    let more = if ids.len() > EXAMPLES { ", …" } else { "" };
    format!("{count} {what}: {}{more}", shown.join(", "))
}

fn sqlite_checks(conn: &Connection, problems: &mut Vec<String>) -> Result<()> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let lines: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    if lines != ["ok"] {
        for l in lines.iter().take(10) {
            problems.push(format!("sqlite integrity_check: {l}"));
        }
    }
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let mut by_table: HashMap<(String, String), usize> = HashMap::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(2)?)))?;
    for row in rows {
        *by_table.entry(row?).or_default() += 1;
    }
    let mut dangling: Vec<_> = by_table.into_iter().collect();
    dangling.sort();
    for ((table, parent), n) in dangling {
        problems.push(format!("{n} rows of {table} refer to a missing row of {parent}"));
    }
    Ok(())
}

fn message_checks(conn: &Connection, problems: &mut Vec<String>) -> Result<()> {
    report(
        conn,
        problems,
        "SELECT m.id FROM messages m LEFT JOIN raw_sources r ON r.sha256 = m.raw_sha256 WHERE r.sha256 IS NULL",
        "messages without a raw source",
    )?;
    report(
        conn,
        problems,
        // A set difference, not NOT EXISTS per raw source: messages.raw_sha256 has no index,
        // and that scanned the messages once per raw source (a 100,000-message ledger ran
        // for more than ten minutes).
        "SELECT sha256 FROM raw_sources EXCEPT SELECT raw_sha256 FROM messages",
        "raw sources no message refers to",
    )?;
    report(
        conn,
        problems,
        "SELECT raw_sha256 FROM messages GROUP BY raw_sha256 HAVING COUNT(*) > 1",
        "raw sources stored as more than one message",
    )?;
    // The stored record must be readable and be the record of its row.
    let mut stmt = conn.prepare("SELECT id, record_json FROM messages")?;
    let mut bad = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let json: String = row.get(1)?;
        let same = serde_json::from_str::<serde_json::Value>(&json)
            .ok()
            .is_some_and(|v| v.get("id").and_then(|i| i.as_str()) == Some(id.as_str()));
        if !same {
            bad.push(id);
        }
    }
    if !bad.is_empty() {
        problems.push(describe(bad.len(), "messages whose stored record is unreadable or has another id", &bad));
    }
    Ok(())
}

/// Replays each draft's state changes from the event log.
fn draft_history(conn: &Connection, problems: &mut Vec<String>) -> Result<()> {
    let mut states: HashMap<String, String> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT id, state FROM drafts")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, state) = row?;
            states.insert(id, state);
        }
    }
    // draft id → the state its history has reached; drafts whose history broke are set aside.
    let mut replayed: HashMap<String, DraftState> = HashMap::new();
    let mut broken: HashSet<String> = HashSet::new();
    let mut illegal: Vec<String> = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT id, draft, kind, detail_json FROM events WHERE draft IS NOT NULL AND kind LIKE 'draft.%' ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let event_id: i64 = row.get(0)?;
        let draft: String = row.get(1)?;
        let kind: String = row.get(2)?;
        let detail: Option<String> = row.get(3)?;
        if broken.contains(&draft) {
            continue;
        }
        let Some(name) = kind.strip_prefix("draft.") else { continue };
        if name == "created" {
            if replayed.insert(draft.clone(), DraftState::Pending).is_some() {
                illegal.push(format!("{draft} (created twice, event {event_id})"));
                broken.insert(draft);
            }
            continue;
        }
        // draft.edited, draft.superseded, …: not a state change.
        let Some(to) = DraftState::parse(name) else { continue };
        let from = detail
            .as_deref()
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .and_then(|d| d.get("from").and_then(|f| f.as_str()).and_then(DraftState::parse));
        match (replayed.get(&draft).copied(), from) {
            (Some(current), Some(from)) if current == from && from.can_become(to) => {
                replayed.insert(draft, to);
            }
            (None, _) => {
                illegal.push(format!("{draft} (became {} before it was created, event {event_id})", to.as_str()));
                broken.insert(draft);
            }
            (Some(current), from) => {
                illegal.push(format!(
                    "{draft} ({} → {} while {}, event {event_id})",
                    from.map_or("?", DraftState::as_str),
                    to.as_str(),
                    current.as_str()
                ));
                broken.insert(draft);
            }
        }
    }
    if !illegal.is_empty() {
        problems.push(describe(illegal.len(), "illegal draft transitions in the event log", &illegal));
    }
    let mut mismatched = Vec::new();
    let mut ids: Vec<&String> = states.keys().collect();
    ids.sort();
    for id in ids {
        let state = &states[id];
        if broken.contains(id) {
            continue;
        }
        match replayed.get(id) {
            None => mismatched.push(format!("{id} (no draft.created event)")),
            Some(s) if s.as_str() != state => {
                mismatched.push(format!("{id} (is {state}, its history ends {})", s.as_str()))
            }
            Some(_) => {}
        }
    }
    if !mismatched.is_empty() {
        problems.push(describe(mismatched.len(), "drafts whose state disagrees with their history", &mismatched));
    }
    Ok(())
}

fn send_checks(conn: &Connection, problems: &mut Vec<String>) -> Result<()> {
    const PROOFS: &str = "(SELECT COUNT(*) FROM events e WHERE e.draft = d.id AND e.status = 'ok' \
        AND e.kind IN ('smtp.send', 'send.reconciled'))";
    report(
        conn,
        problems,
        &format!("SELECT d.id FROM drafts d WHERE d.state = 'sent' AND {PROOFS} <> 1"),
        "sent drafts without exactly one proof of sending (an accepted smtp.send or a reconciliation that found it)",
    )?;
    report(
        conn,
        problems,
        &format!("SELECT d.id FROM drafts d WHERE d.state <> 'sent' AND {PROOFS} > 0"),
        "drafts recorded as sent that are not in state sent",
    )?;
    report(
        conn,
        problems,
        "SELECT id FROM drafts WHERE state = 'sending' \
         AND (send_stage IS NULL OR out_message_id IS NULL OR out_raw IS NULL OR out_envelope IS NULL)",
        "drafts in sending without a claim (send stage, Message-ID and bytes fixed)",
    )?;
    report(
        conn,
        problems,
        "SELECT id FROM drafts WHERE state <> 'sending' AND send_stage IS NOT NULL",
        "drafts with a send in progress that are not in sending",
    )?;
    report(
        conn,
        problems,
        "SELECT id FROM drafts WHERE state = 'sent' AND (out_message_id IS NULL OR out_raw IS NULL OR sent_at IS NULL)",
        "sent drafts without their Message-ID, bytes or time",
    )?;
    report(
        conn,
        problems,
        "SELECT out_message_id FROM drafts WHERE out_message_id IS NOT NULL GROUP BY out_message_id HAVING COUNT(*) > 1",
        "Message-IDs fixed for more than one draft",
    )?;
    Ok(())
}

fn result_checks(conn: &Connection, problems: &mut Vec<String>) -> Result<()> {
    report(
        conn,
        problems,
        "SELECT message || ' ' || stage FROM stage_results GROUP BY message, stage \
         HAVING COUNT(*) <> MAX(version) OR MIN(version) <> 1",
        "stage results with gaps in their versions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::drafts::transition;

    /// The shared fixture, with its draft approved by alice.
    fn ledger() -> Ledger {
        let mut l = crate::ledger::drafts::ledger_with_draft();
        l.write(|tx| transition(tx, "d1", DraftState::Approved, "alice", None, None).map(|_| ())).unwrap();
        l
    }

    fn one_problem(l: &Ledger, needle: &str) {
        let problems = l.check_integrity().unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains(needle), "{problems:?}");
    }

    #[test]
    fn a_sound_ledger_has_no_problems() {
        assert_eq!(ledger().check_integrity().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_state_changed_behind_the_state_machine_is_found() {
        let l = ledger();
        l.conn().execute("UPDATE drafts SET state = 'rejected' WHERE id = 'd1'", []).unwrap();
        one_problem(&l, "1 drafts whose state disagrees with their history: d1 (is rejected, its history ends approved)");
    }

    #[test]
    fn an_illegal_transition_in_the_log_is_found() {
        let l = ledger();
        l.event(&crate::ledger::Event::new("draft.sent", "ok").draft("d1").detail(serde_json::json!({"from": "approved"})))
            .unwrap();
        l.conn().execute("UPDATE drafts SET state = 'sent' WHERE id = 'd1'", []).unwrap();
        let problems = l.check_integrity().unwrap();
        assert!(problems.iter().any(|p| p.contains("illegal draft transitions") && p.contains("approved → sent")), "{problems:?}");
    }

    #[test]
    fn a_draft_sent_twice_or_sending_without_a_claim_is_found() {
        let l = ledger();
        l.conn()
            .execute_batch(
                "UPDATE drafts SET state = 'sending' WHERE id = 'd1';
                 INSERT INTO events (at, kind, draft, status, detail_json)
                   VALUES ('t', 'draft.sending', 'd1', 'ok', '{\"from\":\"approved\"}');",
            )
            .unwrap();
        one_problem(&l, "drafts in sending without a claim");
        for _ in 0..2 {
            l.event(&crate::ledger::Event::new("smtp.send", "ok").draft("d1")).unwrap();
        }
        let problems = l.check_integrity().unwrap();
        assert!(problems.iter().any(|p| p.contains("recorded as sent that are not in state sent")), "{problems:?}");
    }

    #[test]
    fn orphans_and_duplicates_of_raw_sources_are_found() {
        let l = ledger();
        l.conn().execute("INSERT INTO raw_sources (sha256, size, raw) VALUES ('h2', 1, x'00')", []).unwrap();
        one_problem(&l, "1 raw sources no message refers to: h2");
        l.conn()
            .execute(
                "INSERT INTO messages (id, raw_sha256, account, mailbox, record_json, fetched_at) \
                 VALUES ('m2', 'h2', 'a', 'b', '{\"id\":\"m3\"}', 't')",
                [],
            )
            .unwrap();
        one_problem(&l, "stored record is unreadable or has another id: m2");
    }

    #[test]
    fn gaps_in_result_versions_are_found() {
        let l = ledger();
        l.conn()
            .execute(
                "INSERT INTO stage_results (message, stage, version, result_json, created_at) VALUES ('m1', 'triage', 2, '{}', 't')",
                [],
            )
            .unwrap();
        one_problem(&l, "stage results with gaps in their versions: m1 triage");
    }
}
