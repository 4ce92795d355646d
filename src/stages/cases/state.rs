//! Case states and the moves between them.
//!
//! ```text
//! new ──▶ waiting_internal ──▶ waiting_customer ──▶ (the customer answers) waiting_internal
//!  │            │    ▲                 │
//!  │            │    └── waiting_partner (set by a person)
//!  └────────────┴──────────────▶ resolved | cancelled  (a new customer message reopens)
//! ```
//!
//! What moves a case (each a call from the stage that did it):
//! - a customer message: a new case is `new`; in an existing case it waits on us again
//!   (`waiting_internal`), and what it waited for is recorded as answered;
//! - a draft of the case's latest customer message: pending → `waiting_internal` ("review
//!   draft …"); approved → "send draft …"; failed → "sending failed …"; rejected by a person →
//!   "answer by hand or redraft"; sent → `waiting_customer` for its missing information, or
//!   `resolved` when it asked for nothing; handled → `resolved`;
//! - a reply a person wrote in their own mail client (see `threading`): `waiting_customer`
//!   when it asks a question, else `resolved`;
//! - the waiting timeout (`timeouts`), and a person (`mailroom cases set`).
//!
//! Every change is one `case.state` event with the old and new state, so the story of a case
//! can be replayed. `waiting_since` restarts only when the side the case waits on changes
//! (us, the customer, a partner, nobody): a draft written for a waiting customer does not
//! reset the SLA clock.

use anyhow::{Result, bail};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::json;

use crate::ledger::drafts::get_draft;
use crate::ledger::events::insert as insert_event;
use crate::ledger::{DraftState, Event, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    New,
    WaitingInternal,
    WaitingCustomer,
    WaitingPartner,
    Resolved,
    Cancelled,
}

/// Who a case waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Us,
    Customer,
    Partner,
    Nobody,
}

impl CaseState {
    pub const ALL: [CaseState; 6] = [
        CaseState::New,
        CaseState::WaitingInternal,
        CaseState::WaitingCustomer,
        CaseState::WaitingPartner,
        CaseState::Resolved,
        CaseState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::New => "new",
            CaseState::WaitingInternal => "waiting_internal",
            CaseState::WaitingCustomer => "waiting_customer",
            CaseState::WaitingPartner => "waiting_partner",
            CaseState::Resolved => "resolved",
            CaseState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn side(self) -> Side {
        match self {
            CaseState::New | CaseState::WaitingInternal => Side::Us,
            CaseState::WaitingCustomer => Side::Customer,
            CaseState::WaitingPartner => Side::Partner,
            CaseState::Resolved | CaseState::Cancelled => Side::Nobody,
        }
    }

    pub fn is_open(self) -> bool {
        self.side() != Side::Nobody
    }
}

/// A change to apply to a case.
#[derive(Debug, Clone)]
pub struct Change {
    pub state: CaseState,
    pub waiting_for: Vec<String>,
    pub next_step: Option<String>,
    /// What moved it, for counting: customer, draft, review, send, team_reply, timeout, manual.
    pub cause: &'static str,
    /// Why, in words (stored in the event).
    pub reason: String,
    pub actor: Option<String>,
    pub message: Option<String>,
    pub draft: Option<String>,
    /// When the waiting begins if the side changes (a message's arrival; now otherwise).
    pub at: Option<String>,
}

impl Change {
    pub fn new(state: CaseState, cause: &'static str, reason: impl Into<String>) -> Change {
        Change {
            state,
            cause,
            waiting_for: Vec::new(),
            next_step: None,
            reason: reason.into(),
            actor: None,
            message: None,
            draft: None,
            at: None,
        }
    }
    pub fn waiting_for(mut self, w: Vec<String>) -> Self {
        self.waiting_for = w;
        self
    }
    pub fn next_step(mut self, s: impl Into<String>) -> Self {
        self.next_step = Some(s.into());
        self
    }
    pub fn actor(mut self, a: impl Into<String>) -> Self {
        self.actor = Some(a.into());
        self
    }
    pub fn message(mut self, m: impl Into<String>) -> Self {
        self.message = Some(m.into());
        self
    }
    pub fn draft(mut self, d: impl Into<String>) -> Self {
        self.draft = Some(d.into());
        self
    }
    pub fn at(mut self, t: impl Into<String>) -> Self {
        self.at = Some(t.into());
        self
    }
}

/// The stored state of a case.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Current {
    pub state: CaseState,
    pub waiting_for: Vec<String>,
    pub next_step: Option<String>,
    pub waiting_since: Option<String>,
}

pub(crate) fn current(conn: &Connection, case: &str) -> Result<Option<Current>> {
    Ok(conn
        .prepare_cached("SELECT state, waiting_for_json, next_step, waiting_since FROM cases WHERE id = ?1")?
        .query_row([case], |r| {
            Ok(Current {
                state: CaseState::parse(&r.get::<_, String>(0)?).unwrap_or(CaseState::New),
                waiting_for: r
                    .get::<_, Option<String>>(1)?
                    .and_then(|w| serde_json::from_str(&w).ok())
                    .unwrap_or_default(),
                next_step: r.get(2)?,
                waiting_since: r.get(3)?,
            })
        })
        .optional()?)
}

/// Applies `change` to `case` and records it; returns the previous state. Nothing is written
/// (and no event recorded) when nothing changes.
pub fn apply(conn: &Connection, case: &str, change: &Change, run_id: Option<i64>) -> Result<CaseState> {
    let Some(Current { state: from, waiting_for, next_step, waiting_since: since }) = current(conn, case)? else {
        bail!("no case with id {case}")
    };
    if from == change.state && waiting_for == change.waiting_for && next_step == change.next_step {
        return Ok(from);
    }
    let t = now();
    let since = if from.side() != change.state.side() || since.is_none() {
        Some(change.at.clone().filter(|a| *a <= t).unwrap_or_else(|| t.clone()))
    } else {
        since
    };
    conn.execute(
        "UPDATE cases SET state = ?2, waiting_for_json = ?3, next_step = ?4, waiting_since = ?5, updated_at = ?6 \
         WHERE id = ?1",
        params![case, change.state.as_str(), serde_json::to_string(&change.waiting_for)?, change.next_step, since, t],
    )?;
    let mut e = Event::new("case.state", "ok").run(run_id).detail(json!({
        "case": case,
        "from": from.as_str(),
        "to": change.state.as_str(),
        "cause": change.cause,
        "waiting_for": change.waiting_for,
        "next_step": change.next_step,
        "reason": change.reason,
        "draft": change.draft,
    }));
    // The draft's own history stays about the draft: the case event names it in its detail.
    e.actor = change.actor.clone();
    e.message = change.message.clone();
    insert_event(conn, &e)?;
    Ok(from)
}

/// The checklist keys of a draft (`missing_info`).
pub(crate) fn missing_info(draft_json: &serde_json::Value) -> Vec<String> {
    draft_json
        .get("missing_info")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Checklist keys as people read them, joined: "order number, photos".
pub fn labels(keys: &[String]) -> String {
    keys.iter().map(|k| k.replace('_', " ")).collect::<Vec<_>>().join(", ")
}

/// A customer message of the case arrived after `message` (so a draft of `message` no longer
/// answers everything the customer said).
fn answered_later(conn: &Connection, case: &str, message: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM case_messages cm JOIN messages m ON m.id = cm.message \
         WHERE cm.case_id = ?1 AND cm.role = 'customer' AND cm.message <> ?2 \
         AND m.arrived_at > (SELECT arrived_at FROM messages WHERE id = ?2))",
        params![case, message],
        |r| r.get(0),
    )?)
}

/// Pending or approved drafts of the case other than `draft`.
fn other_open_drafts(conn: &Connection, case: &str, draft: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        // CROSS JOIN keeps the case's messages as the outer loop: SQLite otherwise walks every
        // pending draft of the ledger (by the state index) for each draft written.
        "SELECT d.id FROM case_messages cm CROSS JOIN drafts d ON d.message = cm.message \
         WHERE cm.case_id = ?1 AND d.id <> ?2 AND d.state IN ('pending', 'approved') ORDER BY d.created_at, d.rowid",
    )?;
    let ids = stmt.query_map(params![case, draft], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Moves the case of a draft's message after the draft was written or changed state (the
/// draft, review and send stages call this in the transaction that changed the draft).
/// A draft of an older message of the case, or one the draft stage superseded, moves nothing.
pub fn draft_changed(conn: &Connection, draft_id: &str, run_id: Option<i64>) -> Result<()> {
    let Some(d) = get_draft(conn, draft_id)? else { return Ok(()) };
    // A message stored before cases existed joins its case now.
    let Some(case) = super::ensure_case(conn, &d.message, &super::Rules::default(), run_id)? else { return Ok(()) };
    conn.execute(
        "UPDATE cases SET category = COALESCE(?2, category), priority = COALESCE(?3, priority) WHERE id = ?1",
        params![case, d.category, d.priority],
    )?;
    if answered_later(conn, &case, &d.message)? {
        return Ok(());
    }
    let who = d.decided_by.clone().unwrap_or_default();
    let kind = if d.draft_json.get("kind").and_then(|k| k.as_str()) == Some("follow_up") {
        "follow-up draft"
    } else {
        "draft"
    };
    let change = match d.state {
        DraftState::Pending => {
            let older = other_open_drafts(conn, &case, &d.id)?;
            let also = if older.is_empty() {
                String::new()
            } else {
                format!(" (drafts for earlier messages are still open: {}; one reply is enough)", older.join(", "))
            };
            Change::new(CaseState::WaitingInternal, "draft", format!("{kind} {} written", d.id))
                .next_step(format!("review {kind} {}{also}", d.id))
        }
        DraftState::Approved => {
            Change::new(CaseState::WaitingInternal, "review", format!("{kind} {} approved by {who}", d.id))
                .next_step(format!("send {kind} {} (approved)", d.id))
                .actor(who)
        }
        DraftState::Sending => return Ok(()),
        DraftState::Sent => {
            let missing = missing_info(&d.draft_json);
            if missing.is_empty() {
                Change::new(CaseState::Resolved, "send", format!("reply {} sent; it asked for nothing", d.id))
            } else {
                Change::new(
                    CaseState::WaitingCustomer,
                    "send",
                    format!("reply {} sent, asking for {}", d.id, labels(&missing)),
                )
                .next_step(format!("wait for the customer: {}", labels(&missing)))
                .waiting_for(missing)
            }
        }
        DraftState::Handled => {
            let how = d.decision_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            Change::new(CaseState::Resolved, "review", format!("handled by {who}{how}")).actor(who)
        }
        DraftState::Rejected if d.decided_by.as_deref() == Some(crate::stages::draft::store::ACTOR) => return Ok(()),
        DraftState::Rejected => {
            let why = d.decision_reason.as_deref().unwrap_or("no reason given");
            Change::new(CaseState::WaitingInternal, "review", format!("{kind} {} rejected by {who}: {why}", d.id))
                .next_step("answer by hand, or redraft")
                .actor(who)
        }
        DraftState::Failed => {
            Change::new(CaseState::WaitingInternal, "send", format!("sending {kind} {} failed", d.id))
                .next_step(format!("sending {} failed: check it and approve again, or answer by hand", d.id))
        }
    };
    apply(conn, &case, &change.message(d.message.clone()).draft(d.id.clone()), run_id)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_have_sides() {
        for s in CaseState::ALL {
            assert_eq!(CaseState::parse(s.as_str()), Some(s));
        }
        assert_eq!(CaseState::parse("open"), None);
        assert_eq!(CaseState::New.side(), Side::Us);
        assert_eq!(CaseState::WaitingCustomer.side(), Side::Customer);
        assert!(!CaseState::Cancelled.is_open());
    }
}
