//! A conversation through the case machinery, on an in-memory ledger: threading, the state
//! moves of drafts and sends, human takeover, timeouts and the SLA.

use chrono::{Duration, Utc};

use super::story::{self, Filter};
use super::timeouts::{self, OnTimeout, Sla, SweepSettings};
use super::*;
use crate::ledger::Ledger;
use crate::ledger::drafts::{NewDraft, get_draft, insert_draft};
use crate::stages::ingest::{Ingestor, Origin};

const CUSTOMER: &str = "Daniel Okafor <daniel.okafor@inboxmail.example>";

fn ago(hours: i64) -> String {
    (Utc::now() - Duration::hours(hours)).to_rfc2822()
}

/// Stores one message like `fetch` does and returns its record.
fn ingest(ledger: &mut Ledger, mailbox: &str, headers: &str, body: &str) -> Record {
    let raw = format!("{headers}\r\n\r\n{body}\r\n").into_bytes();
    let origin = Origin { account: "files".into(), mailbox: mailbox.into(), max_parse_bytes: 1 << 20, run_id: None };
    let rules = Rules { team_domains: vec!["shop.example".into()], ..Rules::default() };
    let mut ing = Ingestor::new(origin).with_case_rules(rules);
    ing.add(raw, None);
    let mut fresh = ing.flush(ledger).unwrap();
    assert_eq!(fresh.len(), 1, "stored once");
    fresh.remove(0).record().unwrap()
}

fn question(ledger: &mut Ledger) -> Record {
    ingest(
        ledger,
        "INBOX",
        &format!(
            "From: {CUSTOMER}\r\nTo: support@shop.example\r\nSubject: Parcel hasn't arrived\r\n\
             Message-ID: <q1@inboxmail.example>\r\nDate: {}",
            ago(72)
        ),
        "I ordered two weeks ago and nothing has arrived. Can you check?",
    )
}

fn draft(ledger: &mut Ledger, id: &str, message: &str, missing: &[&str]) {
    let json = serde_json::json!({"id": id, "subject": "Re", "body": "b", "missing_info": missing});
    let d = NewDraft {
        id,
        message,
        subject: "Re",
        body: "b",
        risk: "low",
        category: Some("shipping"),
        priority: Some("P3"),
        confidence: Some(0.9),
        draft_json: &json,
    };
    ledger
        .write(|tx| {
            insert_draft(tx, &d, None)?;
            draft_changed(tx, id, None)
        })
        .unwrap();
}

fn decide(ledger: &mut Ledger, id: &str, to: DraftState, actor: &str) {
    ledger
        .write(|tx| {
            transition(tx, id, to, actor, Some("because"), None)?;
            draft_changed(tx, id, None)
        })
        .unwrap();
}

/// approved → sending → sent with `out_message_id`, as the send stage does.
fn send(ledger: &mut Ledger, id: &str, out_message_id: &str) {
    decide(ledger, id, DraftState::Approved, "maria");
    ledger
        .write(|tx| {
            transition(tx, id, DraftState::Sending, "send", None, None)?;
            tx.execute("UPDATE drafts SET out_message_id = ?2 WHERE id = ?1", params![id, out_message_id])?;
            transition(tx, id, DraftState::Sent, "send", None, None)?;
            draft_changed(tx, id, None)
        })
        .unwrap();
}

fn case_state(ledger: &Ledger, case: &str) -> (CaseState, Vec<String>, Option<String>) {
    let c = state::current(ledger.conn(), case).unwrap().unwrap();
    (c.state, c.waiting_for, c.next_step)
}

fn only_case(ledger: &Ledger) -> String {
    let all =
        story::list(ledger.conn(), &Filter { all: true, ..Filter::default() }, &Sla::default(), Utc::now()).unwrap();
    assert_eq!(all.len(), 1, "{all:#?}");
    all[0].id.clone()
}

#[test]
fn question_reply_and_answer_make_one_case_that_moves_as_described() {
    let mut ledger = Ledger::open_in_memory().unwrap();
    let q = question(&mut ledger);
    let case = only_case(&ledger);
    assert_eq!(case_state(&ledger, &case).0, CaseState::New);

    draft(&mut ledger, "d1", &q.id, &["order_number"]);
    assert_eq!(case_state(&ledger, &case), (CaseState::WaitingInternal, vec![], Some("review draft d1".into())));
    send(&mut ledger, "d1", "<reply-1@shop.example>");
    assert_eq!(
        case_state(&ledger, &case),
        (CaseState::WaitingCustomer, vec!["order_number".into()], Some("wait for the customer: order number".into()))
    );

    // Our reply read back from the Sent folder joins the case and changes nothing.
    let copy = ingest(
        &mut ledger,
        "Sent",
        &format!(
            "From: Support <support@shop.example>\r\nTo: {CUSTOMER}\r\nSubject: Re: Parcel hasn't arrived\r\n\
             Message-ID: <reply-1@shop.example>\r\nIn-Reply-To: <q1@inboxmail.example>\r\nDate: {}",
            ago(48)
        ),
        "Could you send us your order number?",
    );
    assert_eq!(case_of_message(ledger.conn(), &copy.id).unwrap().as_deref(), Some(case.as_str()));
    assert_eq!(case_state(&ledger, &case).0, CaseState::WaitingCustomer);

    // The customer answers our reply, quoting it.
    let answer = ingest(
        &mut ledger,
        "INBOX",
        &format!(
            "From: {CUSTOMER}\r\nTo: support@shop.example\r\nSubject: Re: Parcel hasn't arrived\r\n\
             Message-ID: <a1@inboxmail.example>\r\nIn-Reply-To: <reply-1@shop.example>\r\n\
             References: <q1@inboxmail.example> <reply-1@shop.example>\r\nDate: {}",
            ago(24)
        ),
        "Sorry, here it is: #NW-48466.\r\n\r\n> Could you send us your order number?",
    );
    assert_eq!(case_of_message(ledger.conn(), &answer.id).unwrap().as_deref(), Some(case.as_str()));
    let (s, waiting, next) = case_state(&ledger, &case);
    assert_eq!((s, waiting), (CaseState::WaitingInternal, vec![]));
    assert_eq!(next.as_deref(), Some("draft a reply to the customer's new message"));
    // Its draft will know it answers our shipping question.
    let ctx = context(ledger.conn(), &answer.id).unwrap();
    assert!(ctx.answers_request);
    assert_eq!(ctx.category.as_deref(), Some("shipping"));
    assert!(!context(ledger.conn(), &q.id).unwrap().answers_request);

    // A late decision on the first draft moves nothing: the case is about the answer now.
    let d = story::show(ledger.conn(), &case, &Sla::default(), Utc::now()).unwrap();
    let roles: Vec<Role> = d.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Customer, Role::Ours, Role::Customer]);
    let moves: Vec<&str> =
        d.events.iter().filter(|e| e.kind == "case.state").filter_map(|e| detail_str(e, "to")).collect();
    // written, approved, sent asking, answered.
    assert_eq!(moves, ["waiting_internal", "waiting_internal", "waiting_customer", "waiting_internal"]);
    let answered = d.events.iter().rev().find(|e| e.kind == "case.state").unwrap();
    assert_eq!(detail_str(answered, "reason"), Some("the customer answered (we waited for: order number)"));

    // The second draft resolves the case when it asks for nothing.
    draft(&mut ledger, "d2", &answer.id, &[]);
    send(&mut ledger, "d2", "<reply-2@shop.example>");
    assert_eq!(case_state(&ledger, &case).0, CaseState::Resolved);
}

fn detail_str<'a>(e: &'a crate::ledger::events::StoredEvent, key: &str) -> Option<&'a str> {
    e.detail.as_ref()?.get(key)?.as_str()
}

#[test]
fn without_headers_the_same_sender_and_subject_within_the_window_join() {
    let mut ledger = Ledger::open_in_memory().unwrap();
    let q = question(&mut ledger);
    let case = case_of_message(ledger.conn(), &q.id).unwrap().unwrap();
    let again = |ledger: &mut Ledger, from: &str, subject: &str, hours: i64, n: u32| {
        ingest(
            ledger,
            "INBOX",
            &format!(
                "From: {from}\r\nTo: support@shop.example\r\nSubject: {subject}\r\nMessage-ID: <x{n}@x>\r\nDate: {}",
                ago(hours)
            ),
            &format!("still waiting {n}"),
        )
    };
    let same = again(&mut ledger, CUSTOMER, "AW: RE: Parcel hasn't arrived", 24, 1);
    assert_eq!(case_of_message(ledger.conn(), &same.id).unwrap(), Some(case.clone()));
    let other = again(&mut ledger, "Eve <eve@example.com>", "Re: Parcel hasn't arrived", 24, 2);
    assert_ne!(case_of_message(ledger.conn(), &other.id).unwrap(), Some(case.clone()));
    // Three weeks of silence: the same subject starts a new case.
    let weeks_ago = (Utc::now() - Duration::days(21)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    ledger.conn().execute("UPDATE cases SET last_message_at = ?1 WHERE id = ?2", params![weeks_ago, case]).unwrap();
    let late = again(&mut ledger, CUSTOMER, "Parcel hasn't arrived", 0, 3);
    assert_ne!(case_of_message(ledger.conn(), &late.id).unwrap(), Some(case.clone()), "beyond the 14-day window");
}

#[test]
fn a_reply_from_a_mail_client_marks_the_pending_draft_handled_by_its_author() {
    let mut ledger = Ledger::open_in_memory().unwrap();
    let q = question(&mut ledger);
    let case = case_of_message(ledger.conn(), &q.id).unwrap().unwrap();
    draft(&mut ledger, "d1", &q.id, &["order_number"]);
    let reply = ingest(
        &mut ledger,
        "Sent",
        &format!(
            "From: Maria Lopez <maria@shop.example>\r\nTo: {CUSTOMER}\r\nSubject: Re: Parcel hasn't arrived\r\n\
             Message-ID: <by-hand@shop.example>\r\nIn-Reply-To: <q1@inboxmail.example>\r\nDate: {}",
            ago(1)
        ),
        "I found your order and it leaves today. Sorry for the wait!",
    );
    let d = get_draft(ledger.conn(), "d1").unwrap().unwrap();
    assert_eq!(d.state, DraftState::Handled);
    assert_eq!(d.decided_by.as_deref(), Some("Maria Lopez <maria@shop.example>"));
    assert_eq!(d.decision_reason.as_deref(), Some("answered from a mail client (Message-ID by-hand@shop.example)"));
    assert_eq!(case_state(&ledger, &case).0, CaseState::Resolved);
    let shown = story::show(ledger.conn(), &case, &Sla::default(), Utc::now()).unwrap();
    assert_eq!(shown.messages.last().map(|m| (m.id.as_str(), m.role)), Some((reply.id.as_str(), Role::Team)));
    assert!(shown.story.iter().any(|l| l.text.contains("1 open draft(s) marked handled")), "{:#?}", shown.story);

    // Read again (a second fetch of the Sent folder): nothing happens twice.
    let again = attach(ledger.conn(), &reply, &Rules::default(), None).unwrap().unwrap();
    assert_eq!((again.case.as_str(), again.role), (case.as_str(), Role::Team));
}

#[test]
fn a_team_reply_that_asks_waits_for_the_customer_and_team_mail_outside_cases_opens_none() {
    let mut ledger = Ledger::open_in_memory().unwrap();
    let q = question(&mut ledger);
    let case = case_of_message(ledger.conn(), &q.id).unwrap().unwrap();
    draft(&mut ledger, "d1", &q.id, &["order_number"]);
    // Written in INBOX (a Cc to the shared mailbox) by a colleague, to the customer.
    ingest(
        &mut ledger,
        "INBOX",
        &format!(
            "From: Tom <tom@colleague.example>\r\nTo: {CUSTOMER}\r\nCc: support@shop.example\r\n\
             Subject: Re: Parcel hasn't arrived\r\nMessage-ID: <tom-1@x>\r\nIn-Reply-To: <q1@inboxmail.example>\r\nDate: {}",
            ago(1)
        ),
        "Could you tell us your order number?",
    );
    assert_eq!(get_draft(ledger.conn(), "d1").unwrap().unwrap().state, DraftState::Handled);
    assert_eq!(
        case_state(&ledger, &case),
        (CaseState::WaitingCustomer, vec!["order_number".into()], Some("wait for the customer: order number".into()))
    );
    // A note among colleagues opens no case.
    let note = ingest(
        &mut ledger,
        "INBOX",
        &format!(
            "From: maria@shop.example\r\nTo: support@shop.example\r\nSubject: Lunch?\r\nMessage-ID: <l@x>\r\nDate: {}",
            ago(1)
        ),
        "Lunch at noon?",
    );
    assert_eq!(case_of_message(ledger.conn(), &note.id).unwrap(), None);
}

#[test]
fn review_decisions_set_the_next_step() {
    let mut ledger = Ledger::open_in_memory().unwrap();
    let q = question(&mut ledger);
    let case = case_of_message(ledger.conn(), &q.id).unwrap().unwrap();
    draft(&mut ledger, "d1", &q.id, &[]);
    decide(&mut ledger, "d1", DraftState::Rejected, "alice");
    assert_eq!(case_state(&ledger, &case).2.as_deref(), Some("answer by hand, or redraft"));
    draft(&mut ledger, "d2", &q.id, &[]);
    decide(&mut ledger, "d2", DraftState::Handled, "alice");
    assert_eq!(case_state(&ledger, &case).0, CaseState::Resolved);
    // The customer writes again: reopened.
    ingest(
        &mut ledger,
        "INBOX",
        &format!(
            "From: {CUSTOMER}\r\nTo: support@shop.example\r\nSubject: Re: Parcel hasn't arrived\r\n\
             Message-ID: <again@x>\r\nReferences: <q1@inboxmail.example>\r\nDate: {}",
            ago(0)
        ),
        "It still has not come.",
    );
    assert_eq!(case_state(&ledger, &case).0, CaseState::WaitingInternal);
}

#[test]
fn the_customer_who_does_not_answer_gets_one_reminder_then_the_case_closes() {
    let mut ledger = Ledger::open_in_memory().unwrap();
    let q = question(&mut ledger);
    let case = case_of_message(ledger.conn(), &q.id).unwrap().unwrap();
    draft(&mut ledger, "d1", &q.id, &["order_number"]);
    send(&mut ledger, "d1", "<r1@shop.example>");
    let settings =
        SweepSettings { waiting_customer_days: 5, on_timeout: OnTimeout::FollowUp, sign_off: "Support".into() };
    assert!(timeouts::sweep(&mut ledger, &settings, Utc::now(), false, None).unwrap().is_empty(), "not due yet");

    let later = Utc::now() + Duration::days(6);
    let dry = timeouts::sweep(&mut ledger, &settings, later, true, None).unwrap();
    assert_eq!(dry[0].action, "follow_up");
    assert_eq!(case_state(&ledger, &case).0, CaseState::WaitingCustomer, "a dry run changes nothing");
    let done = timeouts::sweep(&mut ledger, &settings, later, false, None).unwrap();
    let reminder = done[0].draft.clone().unwrap();
    let d = get_draft(ledger.conn(), &reminder).unwrap().unwrap();
    assert_eq!((d.state, d.risk.as_str(), d.message.as_str()), (DraftState::Pending, "low", q.id.as_str()));
    assert!(d.body.contains("your order number"), "{}", d.body);
    assert_eq!(case_state(&ledger, &case).2, Some(format!("review follow-up draft {reminder}")));
    send(&mut ledger, &reminder, "<r2@shop.example>");
    assert_eq!(case_state(&ledger, &case).1, vec!["order_number".to_string()]);

    // Still silent after the reminder: closed.
    ledger.conn().execute("UPDATE cases SET waiting_since = '2000-01-01T00:00:00Z'", []).unwrap();
    let done = timeouts::sweep(&mut ledger, &settings, later, false, None).unwrap();
    assert_eq!(done[0].action, "closed");
    assert_eq!(case_state(&ledger, &case).0, CaseState::Cancelled);
}

#[test]
fn over_sla_follows_priority_and_ignores_filtered_out_mail() {
    let mut ledger = Ledger::open_in_memory().unwrap();
    let q = question(&mut ledger); // 72 hours ago, no priority yet: 24h SLA
    let case = case_of_message(ledger.conn(), &q.id).unwrap().unwrap();
    let now = Utc::now();
    let overdue = timeouts::over_sla(ledger.conn(), &Sla::default(), now, None).unwrap();
    assert_eq!(overdue.iter().map(|o| o.case.as_str()).collect::<Vec<_>>(), [case.as_str()]);
    assert_eq!(overdue[0].sla_hours, 24);
    let recent = timeouts::over_sla(ledger.conn(), &Sla::default(), now, Some(now - Duration::hours(48))).unwrap();
    assert!(recent.is_empty(), "waiting since 72 hours: older than the bound");
    ledger.conn().execute("UPDATE cases SET waiting_since = ?1", [(now - Duration::hours(6)).to_rfc3339()]).unwrap();
    assert!(timeouts::over_sla(ledger.conn(), &Sla::default(), now, None).unwrap().is_empty());
    ledger.conn().execute("UPDATE cases SET priority = 'P1'", []).unwrap();
    assert_eq!(timeouts::over_sla(ledger.conn(), &Sla::default(), now, None).unwrap()[0].sla_hours, 4);

    // The filter calls it spam: the case disappears from lists and SLA.
    let json = serde_json::json!({"verdict": "spam"});
    ledger
        .add_result(&crate::ledger::results::NewResult {
            message: &q.id,
            stage: crate::ledger::results::Stage::Filter,
            summary: "spam",
            backend: "t",
            model: "t",
            prompt_version: "1",
            result: &json,
            run_id: None,
        })
        .unwrap();
    assert!(timeouts::over_sla(ledger.conn(), &Sla::default(), now, None).unwrap().is_empty());
    assert!(story::list(ledger.conn(), &Filter::default(), &Sla::default(), now).unwrap().is_empty());
    let all = story::list(ledger.conn(), &Filter { all: true, ..Filter::default() }, &Sla::default(), now).unwrap();
    assert!(all[0].dropped);
}

#[test]
fn ids_resolve_by_prefix_message_or_draft_and_owners_are_recorded() {
    let mut ledger = Ledger::open_in_memory().unwrap();
    let q = question(&mut ledger);
    let case = case_of_message(ledger.conn(), &q.id).unwrap().unwrap();
    draft(&mut ledger, "d1", &q.id, &[]);
    for id in [case.as_str(), &case[..5], q.id.as_str(), "d1"] {
        assert_eq!(resolve(ledger.conn(), id).unwrap(), case, "{id}");
    }
    assert!(resolve(ledger.conn(), "nope").unwrap_err().to_string().contains("no case, message or draft"));
    let a = ledger.write(|tx| assign(tx, "d1", " maria\u{7} ", "lead", None)).unwrap();
    assert_eq!((a.owner.as_deref(), a.previous), (Some("maria"), None));
    let mine = story::list(
        ledger.conn(),
        &Filter { owner: Some("maria".into()), ..Filter::default() },
        &Sla::default(),
        Utc::now(),
    );
    assert_eq!(mine.unwrap().len(), 1);
}

#[test]
fn the_context_of_a_later_message_carries_what_the_customer_said_before() {
    let mut ledger = Ledger::open_in_memory().unwrap();
    let first = ingest(
        &mut ledger,
        "INBOX",
        &format!(
            "From: {CUSTOMER}\r\nTo: support@shop.example\r\nSubject: Broken plates\r\nMessage-ID: <p1@x>\r\nDate: {}",
            ago(5)
        ),
        "Order #NW-48472 arrived and two plates were broken.",
    );
    let second = ingest(
        &mut ledger,
        "INBOX",
        &format!(
            "From: {CUSTOMER}\r\nTo: support@shop.example\r\nSubject: Re: Broken plates\r\nMessage-ID: <p2@x>\r\n\
             In-Reply-To: <p1@x>\r\nDate: {}",
            ago(1)
        ),
        "Any news?",
    );
    let ctx = context(ledger.conn(), &second.id).unwrap();
    assert_eq!(ctx.entities.order_ids, ["NW-48472"]);
    assert_eq!(ctx.texts.len(), 1);
    assert!(context(ledger.conn(), &first.id).unwrap().texts.is_empty(), "nothing came before the first");
}

#[test]
fn a_draft_for_the_latest_message_names_older_open_drafts_of_the_case() {
    let mut ledger = Ledger::open_in_memory().unwrap();
    let q = question(&mut ledger);
    let case = case_of_message(ledger.conn(), &q.id).unwrap().unwrap();
    draft(&mut ledger, "d1", &q.id, &["order_number"]);
    let again = ingest(
        &mut ledger,
        "INBOX",
        &format!(
            "From: {CUSTOMER}\r\nTo: support@shop.example\r\nSubject: Re: Parcel hasn't arrived\r\n\
             Message-ID: <q2@x>\r\nIn-Reply-To: <q1@inboxmail.example>\r\nDate: {}",
            ago(1)
        ),
        "Also: can I change the address?",
    );
    draft(&mut ledger, "d2", &again.id, &[]);
    assert_eq!(
        case_state(&ledger, &case).2.as_deref(),
        Some("review draft d2 (drafts for earlier messages are still open: d1; one reply is enough)")
    );
}
