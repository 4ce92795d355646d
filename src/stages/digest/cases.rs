//! The digest's service-case figures and the numbers that tell a team when to trust
//! automation.
//!
//! - Case figures: cases opened in the window (first message arrived), moves that happened in
//!   it (`case.state` events: resolved, cancelled, customer answers, waiting on the customer),
//!   replies people wrote from their own mail client, reminders; and, as of the digest's
//!   making, the open cases by state and those waiting on us beyond their SLA.
//! - Trust, per category: the drafts people decided on in the window, and how many they
//!   approved exactly as written. A category whose low-risk drafts are approved unchanged
//!   [`CANDIDATE_ACCEPTANCE`] of the time over at least [`CANDIDATE_DECISIONS`] decisions is
//!   an auto-send candidate (`[policy] categories`); one with many edits or rejections is not.

use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

use super::{NameCount, Window};
use crate::stages::cases::CaseState;
use crate::stages::cases::story::LIVE;
use crate::stages::cases::timeouts::{Overdue, Sla, over_sla};
use crate::stages::sql::prepare;

/// Decisions on low-risk drafts of a category before it can be an auto-send candidate.
pub const CANDIDATE_DECISIONS: i64 = 20;
/// Share of those approved exactly as written.
pub const CANDIDATE_ACCEPTANCE: f64 = 0.9;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CaseFigures {
    /// Cases whose first message arrived in the window (cases of filtered-out mail not counted).
    pub opened: i64,
    /// Cases resolved in the window (a reply that asked for nothing, handled, answered by hand).
    pub resolved: i64,
    /// Cases cancelled in the window (no answer from the customer, or by a person).
    pub cancelled: i64,
    /// Replies of ours that left a case waiting for the customer's information.
    pub asked_customer: i64,
    /// Customer answers that brought a waiting case back to us.
    pub customer_answers: i64,
    /// Replies people wrote in their own mail client (their pending drafts became handled).
    pub team_replies: i64,
    /// Reminder drafts written for customers who did not answer.
    pub follow_ups: i64,
    /// Open cases by state, as the digest was made.
    pub open: Vec<NameCount>,
    /// Cases waiting on us beyond their SLA, as the digest was made …
    pub over_sla: i64,
    /// … the longest-waiting of them.
    pub over_sla_cases: Vec<Overdue>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrustRow {
    pub category: String,
    /// Drafts a person decided on in the window (approved, rejected, handled).
    pub decided: i64,
    /// … approved exactly as written.
    pub approved_unchanged: i64,
    /// … approved after an edit.
    pub approved_edited: i64,
    pub rejected: i64,
    /// … answered another way (marked handled, or replied to from a mail client).
    pub handled: i64,
    /// approved_unchanged / decided.
    pub acceptance: Option<f64>,
    /// Low-risk drafts among the decided …
    pub low_risk_decided: i64,
    /// … approved exactly as written …
    pub low_risk_approved_unchanged: i64,
    /// … and their share.
    pub low_risk_acceptance: Option<f64>,
    /// Replies the auto-send policy sent in the window.
    pub auto_sent: i64,
    /// Enough low-risk decisions, nearly all approved as written.
    pub auto_send_candidate: bool,
}

/// Case moves in the window, by the `case.state` event's cause and new state.
const MOVES: &str = "SELECT json_extract(detail_json, '$.to'), json_extract(detail_json, '$.from'), \
     json_extract(detail_json, '$.cause'), COUNT(*) FROM events WHERE kind = 'case.state' AND at >= ?1 AND at < ?2 \
     GROUP BY 1, 2, 3";

pub fn case_figures(
    conn: &Connection,
    w: &Window,
    sla: &Sla,
    now: DateTime<Utc>,
    samples: usize,
) -> Result<CaseFigures> {
    let (start, end) = w.bounds();
    let count = |sql: &str| -> Result<i64> { Ok(prepare(conn, sql)?.query_row(params![start, end], |r| r.get(0))?) };
    let opened =
        count(&format!("SELECT COUNT(*) FROM cases c WHERE c.created_at >= ?1 AND c.created_at < ?2 AND {LIVE}"))?;
    let team_replies = count("SELECT COUNT(*) FROM events WHERE kind = 'case.team_reply' AND at >= ?1 AND at < ?2")?;
    let follow_ups = count(
        "SELECT COUNT(*) FROM events WHERE kind = 'case.timeout' AND at >= ?1 AND at < ?2 \
         AND json_extract(detail_json, '$.action') = 'follow_up'",
    )?;
    let mut f = CaseFigures {
        opened,
        resolved: 0,
        cancelled: 0,
        asked_customer: 0,
        customer_answers: 0,
        team_replies,
        follow_ups,
        open: Vec::new(),
        over_sla: 0,
        over_sla_cases: Vec::new(),
    };
    let mut stmt = prepare(conn, MOVES)?;
    let rows = stmt.query_map(params![start, end], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for row in rows {
        let (to, from, cause, n) = row?;
        match (to.as_deref(), from.as_deref(), cause.as_deref()) {
            (Some("resolved"), Some(from), _) if from != "resolved" => f.resolved += n,
            (Some("cancelled"), Some(from), _) if from != "cancelled" => f.cancelled += n,
            (Some("waiting_customer"), _, Some("send")) => f.asked_customer += n,
            (Some("waiting_internal"), Some("waiting_customer"), Some("customer")) => f.customer_answers += n,
            _ => {}
        }
    }
    let mut open = prepare(conn, &format!("SELECT COUNT(*) FROM cases c WHERE c.state = ?1 AND {LIVE}"))?;
    for s in CaseState::ALL.into_iter().filter(|s| s.is_open()) {
        f.open.push(NameCount { name: s.as_str().into(), count: open.query_row([s.as_str()], |r| r.get(0))? });
    }
    let overdue = over_sla(conn, sla, now, None)?;
    f.over_sla = overdue.len() as i64;
    f.over_sla_cases = overdue.into_iter().take(samples).collect();
    Ok(f)
}

fn slot(rows: &mut Vec<TrustRow>, category: Option<String>) -> &mut TrustRow {
    let category = category.unwrap_or_else(|| "none".into());
    let i = match rows.iter().position(|r| r.category == category) {
        Some(i) => i,
        None => {
            rows.push(TrustRow {
                category,
                decided: 0,
                approved_unchanged: 0,
                approved_edited: 0,
                rejected: 0,
                handled: 0,
                acceptance: None,
                low_risk_decided: 0,
                low_risk_approved_unchanged: 0,
                low_risk_acceptance: None,
                auto_sent: 0,
                auto_send_candidate: false,
            });
            rows.len() - 1
        }
    };
    &mut rows[i]
}

/// Per category: the decisions people made on drafts in the window, and what auto-send sent.
pub fn trust(conn: &Connection, w: &Window) -> Result<Vec<TrustRow>> {
    let (start, end) = w.bounds();
    let mut rows: Vec<TrustRow> = Vec::new();
    // Decisions by people: not the policy's approvals, nor drafts the draft stage superseded.
    let sql = format!(
        "SELECT category, state, risk, body = json_extract(draft_json, '$.body') \
                AND subject = json_extract(draft_json, '$.subject') \
         FROM drafts WHERE decided_at >= ?1 AND decided_at < ?2 AND decided_by IS NOT 'policy' \
         AND decided_by IS NOT '{}' AND +state IN ('approved', 'sending', 'sent', 'failed', 'rejected', 'handled')",
        crate::stages::draft::store::ACTOR
    );
    let mut stmt = prepare(conn, &sql)?;
    let decided = stmt.query_map(params![start, end], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<bool>>(3)?,
        ))
    })?;
    for d in decided {
        let (category, state, risk, unchanged) = d?;
        let r = slot(&mut rows, category);
        let low = i64::from(risk == "low");
        r.decided += 1;
        r.low_risk_decided += low;
        match state.as_str() {
            "rejected" => r.rejected += 1,
            "handled" => r.handled += 1,
            _ if unchanged.unwrap_or(false) => {
                r.approved_unchanged += 1;
                r.low_risk_approved_unchanged += low;
            }
            _ => r.approved_edited += 1,
        }
    }
    let mut stmt = prepare(
        conn,
        "SELECT category, COUNT(*) FROM drafts WHERE sent_at >= ?1 AND sent_at < ?2 AND decided_by = 'policy' GROUP BY 1",
    )?;
    let auto = stmt.query_map(params![start, end], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?)))?;
    for a in auto {
        let (category, n) = a?;
        slot(&mut rows, category).auto_sent += n;
    }
    for r in &mut rows {
        let share = |n: i64, of: i64| (of > 0).then(|| n as f64 / of as f64);
        r.acceptance = share(r.approved_unchanged, r.decided);
        r.low_risk_acceptance = share(r.low_risk_approved_unchanged, r.low_risk_decided);
        r.auto_send_candidate = r.low_risk_decided >= CANDIDATE_DECISIONS
            && r.low_risk_acceptance.is_some_and(|a| a >= CANDIDATE_ACCEPTANCE);
    }
    rows.sort_by(|a, b| b.decided.cmp(&a.decided).then_with(|| a.category.cmp(&b.category)));
    Ok(rows)
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{Duration, TimeDelta};

    use super::*;
    use crate::ledger::drafts::{NewDraft, insert_draft, transition};
    use crate::ledger::{DraftState, Ledger};
    use crate::stages::cases::{Rules, draft_changed};
    use crate::stages::ingest::{Ingestor, Origin};

    pub(crate) fn ingest(ledger: &mut Ledger, mailbox: &str, raw: String) -> String {
        let origin =
            Origin { account: "files".into(), mailbox: mailbox.into(), max_parse_bytes: 1 << 20, run_id: None };
        let mut ing = Ingestor::new(origin).with_case_rules(Rules::default());
        ing.add(raw.into_bytes(), None);
        ing.flush(ledger).unwrap().remove(0).id
    }

    /// A customer message `hours` ago from its own sender; returns its ledger id.
    pub(crate) fn message(ledger: &mut Ledger, tag: &str, hours: i64) -> String {
        let date = (Utc::now() - Duration::hours(hours)).to_rfc2822();
        ingest(
            ledger,
            "INBOX",
            format!(
                "From: {tag} <{tag}@customer.example>\r\nTo: support@shop.example\r\nSubject: Question {tag}\r\n\
                 Message-ID: <{tag}@customer.example>\r\nDate: {date}\r\n\r\nHello, a question about {tag}.\r\n"
            ),
        )
    }

    pub(crate) fn draft(ledger: &mut Ledger, id: &str, message: &str, category: &str, risk: &str, missing: &[&str]) {
        let json = serde_json::json!({"id": id, "subject": "Re", "body": "text", "missing_info": missing});
        let d = NewDraft {
            id,
            message,
            subject: "Re",
            body: "text",
            risk,
            category: Some(category),
            priority: Some("P3"),
            confidence: Some(0.95),
            draft_json: &json,
        };
        ledger.write(|tx| insert_draft(tx, &d, None).and_then(|_| draft_changed(tx, id, None))).unwrap();
    }

    pub(crate) fn to(ledger: &mut Ledger, id: &str, states: &[DraftState], actor: &str) {
        ledger
            .write(|tx| {
                for s in states {
                    transition(tx, id, *s, actor, Some("r"), None)?;
                    if *s == DraftState::Sending {
                        tx.execute(
                            "UPDATE drafts SET out_message_id = ?2 WHERE id = ?1",
                            rusqlite::params![id, format!("<{id}@shop.example>")],
                        )?;
                    }
                    draft_changed(tx, id, None)?;
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn figures_over_known_decisions_match_a_count_by_hand() {
        use DraftState::*;
        let mut ledger = Ledger::open_in_memory().unwrap();
        let sent = [Approved, Sending, Sent];
        let m: Vec<String> =
            ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "r1", "r2"].iter().map(|t| message(&mut ledger, t, 2)).collect();
        let r3 = message(&mut ledger, "r3", 6);
        message(&mut ledger, "n1", 30); // before the window, and no draft: over its 24h SLA
        // shipping, all low risk
        draft(&mut ledger, "s1", &m[0], "shipping", "low", &[]);
        to(&mut ledger, "s1", &sent, "alice"); // approved as written, sent: resolved
        draft(&mut ledger, "s2", &m[1], "shipping", "low", &[]);
        to(&mut ledger, "s2", &sent, "alice"); // approved as written, sent: resolved
        draft(&mut ledger, "s3", &m[2], "shipping", "low", &["order_number"]);
        ledger.edit_draft("s3", "Re", "better text", "alice").unwrap();
        to(&mut ledger, "s3", &sent, "alice"); // edited, sent asking for the order number
        draft(&mut ledger, "s4", &m[3], "shipping", "low", &[]);
        to(&mut ledger, "s4", &[Rejected], "bob"); // rejected
        draft(&mut ledger, "s5", &m[4], "shipping", "low", &[]);
        let reply = "From: Maria <maria@shop.example>\r\nTo: s5@customer.example\r\nSubject: Re: Question s5\r\n\
                     Message-ID: <hand@shop.example>\r\nIn-Reply-To: <s5@customer.example>\r\n\r\nDone, it ships today.\r\n";
        ingest(&mut ledger, "Sent", reply.to_string()); // answered from a mail client: handled, resolved
        draft(&mut ledger, "s6", &m[5], "shipping", "low", &[]);
        to(&mut ledger, "s6", &sent, "policy"); // auto-sent: no human decision
        draft(&mut ledger, "s7", &m[6], "shipping", "low", &[]);
        to(&mut ledger, "s7", &[Rejected], crate::stages::draft::store::ACTOR); // superseded
        draft(&mut ledger, "s7b", &m[6], "shipping", "low", &[]); // pending
        // refund, high risk
        draft(&mut ledger, "r1", &m[7], "refund", "high", &[]);
        to(&mut ledger, "r1", &[Approved], "alice"); // approved as written, not sent yet
        draft(&mut ledger, "r2", &m[8], "refund", "high", &[]);
        to(&mut ledger, "r2", &[Rejected], "bob");
        draft(&mut ledger, "r3", &r3, "refund", "high", &[]); // pending
        ledger
            .conn()
            .execute("UPDATE cases SET priority = 'P1' WHERE customer_address = 'r3@customer.example'", [])
            .unwrap();
        // The customer of s3 answers.
        ingest(
            &mut ledger,
            "INBOX",
            "From: s3 <s3@customer.example>\r\nTo: support@shop.example\r\nSubject: Re: Question s3\r\n\
             Message-ID: <s3-answer@customer.example>\r\nIn-Reply-To: <s3@shop.example>\r\n\r\nIt is NW-10001.\r\n"
                .to_string(),
        );

        let now = Utc::now() + TimeDelta::minutes(1);
        let w = Window::last(TimeDelta::hours(24), now);
        let trust = trust(ledger.conn(), &w).unwrap();
        let row = |c: &str| trust.iter().find(|t| t.category == c).unwrap().clone();
        let s = row("shipping");
        // s1..s5 decided by people; s6 (policy) and s7 (superseded) are not decisions.
        assert_eq!(
            (s.decided, s.approved_unchanged, s.approved_edited, s.rejected, s.handled, s.auto_sent),
            (5, 2, 1, 1, 1, 1)
        );
        assert_eq!((s.acceptance, s.low_risk_decided, s.low_risk_acceptance), (Some(0.4), 5, Some(0.4)));
        assert!(!s.auto_send_candidate);
        let r = row("refund");
        assert_eq!((r.decided, r.approved_unchanged, r.rejected, r.acceptance), (2, 1, 1, Some(0.5)));
        assert_eq!((r.low_risk_decided, r.low_risk_acceptance), (0, None));
        assert_eq!(trust.len(), 2);

        let f = case_figures(ledger.conn(), &w, &Sla::default(), now, 5).unwrap();
        // Opened in the window: the ten messages of the last six hours (n1 is older).
        assert_eq!(f.opened, 10);
        // Resolved: s1, s2 and s6 (replies that asked nothing), s5 (answered by hand).
        assert_eq!((f.resolved, f.cancelled), (4, 0));
        assert_eq!((f.asked_customer, f.customer_answers, f.team_replies, f.follow_ups), (1, 1, 1, 0));
        let open: Vec<(&str, i64)> = f.open.iter().map(|o| (o.name.as_str(), o.count)).collect();
        // new: n1; waiting on us: s3 (answered), s4, s7, r1, r2, r3.
        assert_eq!(open, [("new", 1), ("waiting_internal", 6), ("waiting_customer", 0), ("waiting_partner", 0)]);
        // n1 waits 30h against 24h; r3 (P1) 6h against 4h.
        assert_eq!(f.over_sla, 2);
        let sla: Vec<u64> = f.over_sla_cases.iter().map(|o| o.sla_hours).collect();
        assert_eq!(sla, [24, 4]);
    }
}
