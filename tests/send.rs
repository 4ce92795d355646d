//! `mailroom send` end to end: Postfix and Dovecot on loopback (started once for this binary),
//! replies read back from the customer's mailbox over IMAP and from the Maildir.
//!
//! Tests run in parallel against the same servers; every reply has its own Message-ID, so
//! each test counts only its own messages.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::servers::servers;
use common::{Env, jsonl, rt, stderr, unique};
use mailroom::config::ImapConfig;
use mailroom::ledger::drafts::{NewDraft, insert_draft};
use mailroom::ledger::{DraftState, Ledger};
use mailroom::mail::imap::ImapSession;
use mailroom::mail::parse::Headers;

const PASSWORD_ENV: &str = "MR_SEND_TEST_PASSWORD";



struct Setup {
    env: Env,
}

/// Which SMTP port and TLS mode the account uses.
#[derive(Clone, Copy)]
enum Tls {
    Starttls,
    Implicit,
}

impl Setup {
    fn new(policy: &str) -> Setup {
        Setup::with_tls(Tls::Starttls, policy)
    }

    fn with_tls(tls: Tls, policy: &str) -> Setup {
        let s = servers();
        let env = Env::new();
        let (port, mode) = match tls {
            Tls::Starttls => (s.port("SMTP_PORT"), "starttls"),
            Tls::Implicit => (s.port("SMTPS_PORT"), "implicit"),
        };
        env.write_config(&format!(
            r#"[team]
timezone = "UTC"

[accounts.support]
imap = {{ host = "127.0.0.1", port = {imap}, tls = "starttls", user = "test", password_env = "{PASSWORD_ENV}", ca_file = "{ca}", sent_mailbox = "Sent" }}
smtp = {{ host = "127.0.0.1", port = {port}, tls = "{mode}", user = "test", password_env = "{PASSWORD_ENV}", ca_file = "{ca}", from = "Support Team <test@example.test>", append_sent = true, bcc_self = true }}

[policy]
rate_per_minute = 0
retry_backoff_secs = 60
reconcile_after_secs = 1
{policy}
"#,
            imap = s.port("IMAP_PORT"),
            ca = s.ca_file(),
        ));
        Setup { env }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, b"")
    }

    fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut c = self.env.cmd(args);
        c.env(PASSWORD_ENV, "secret").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn mailroom");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(input).expect("write stdin");
        }
        child.wait_with_output().expect("wait mailroom")
    }

    /// Imports a customer message and returns its ledger id.
    fn import(&self, from: &str, subject: &str, tag: &str) -> String {
        let file = self.env.path().join(format!("{tag}.eml"));
        std::fs::write(
            &file,
            format!(
                "From: Ann Customer <{from}>\r\nTo: Support <test@example.test>\r\nSubject: {subject}\r\n\
                 Message-ID: <orig-{tag}@shop.example>\r\nReferences: <root-{tag}@shop.example>\r\n\
                 In-Reply-To: <root-{tag}@shop.example>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\n\
                 Hello, where is my order #12345?\r\n"
            ),
        )
        .unwrap();
        let out = self.run(&["fetch", "--eml", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let records = jsonl(&out.stdout);
        records[0]["id"].as_str().unwrap().to_string()
    }

    fn ledger(&self) -> Ledger {
        Ledger::open(&self.env.ledger()).unwrap()
    }

    /// A pending draft replying to `message`.
    fn draft(&self, message: &str, id: &str, risk: &str, category: &str, confidence: f64) {
        let mut l = self.ledger();
        let json = serde_json::json!({"review_required": false});
        l.write(|tx| {
            insert_draft(
                tx,
                &NewDraft {
                    id,
                    message,
                    subject: "",
                    body: "Hello Ann,\n\nyour parcel left our warehouse today.\n\nBest regards,\nSupport",
                    risk,
                    category: Some(category),
                    priority: Some("P3"),
                    confidence: Some(confidence),
                    draft_json: &json,
                },
                None,
            )
        })
        .unwrap();
    }

    /// A customer message with an approved draft; returns the draft id.
    fn approved(&self, from: &str, tag: &str) -> String {
        let message = self.import(from, &format!("Where is my order? {tag}"), tag);
        let id = format!("d-{tag}");
        self.draft(&message, &id, "low", "shipping", 0.9);
        self.ledger().transition_draft(&id, DraftState::Approved, "alice", None, None).unwrap();
        id
    }

    fn state(&self, draft: &str) -> String {
        self.env.db().query_row("SELECT state FROM drafts WHERE id = ?1", [draft], |r| r.get(0)).unwrap()
    }

    fn column(&self, draft: &str, column: &str) -> Option<String> {
        self.env
            .db()
            .query_row(&format!("SELECT {column} FROM drafts WHERE id = ?1"), [draft], |r| r.get(0))
            .unwrap()
    }

    fn message_id(&self, draft: &str) -> String {
        self.column(draft, "out_message_id").expect("message id fixed")
    }
}

/// Message-ID → how many copies are in `user`'s Maildir (new/ and cur/).
fn maildir_counts(user: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for sub in ["new", "cur"] {
        let dir = servers().maildir(user).join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let Ok(raw) = std::fs::read(e.path()) else { continue };
            if let Some(id) = Headers::parse(&raw).get("message-id") {
                *counts.entry(id.trim().to_string()).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// Waits (up to 10 s) until each of `expected` is in the customer's Maildir, then a moment
/// more for a duplicate to show up; returns the copies per Message-ID.
fn settle_deliveries(expected: &[String]) -> HashMap<String, usize> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let counts = maildir_counts("customer");
        if expected.iter().all(|m| counts.contains_key(m)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    maildir_counts("customer")
}

fn delivered_each(message_ids: &[String]) -> Vec<usize> {
    let counts = settle_deliveries(message_ids);
    message_ids.iter().map(|m| counts.get(m).copied().unwrap_or(0)).collect()
}

fn delivered(message_id: &str) -> usize {
    delivered_each(&[message_id.to_string()])[0]
}

fn imap_config(user: &str) -> ImapConfig {
    let s = servers();
    toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {}\ntls = \"implicit\"\nuser = \"{user}\"\npassword = \"secret\"\nca_file = \"{}\"\n",
        s.port("IMAPS_PORT"),
        s.ca_file()
    ))
    .unwrap()
}

/// The raw message with this Message-ID in `user`'s `mailbox`, read over IMAP.
fn fetch_over_imap(user: &str, mailbox: &str, message_id: &str) -> Option<Vec<u8>> {
    rt().block_on(async {
        let mut s = ImapSession::connect(&imap_config(user), user).await.unwrap();
        let mut found = None;
        for _ in 0..100 {
            if let Some(uid) = s.search_header_message_id(mailbox, message_id).await.unwrap() {
                s.examine(mailbox).await.unwrap();
                found = s.fetch_range(&uid.to_string(), None).await.unwrap().pop().map(|m| m.raw);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        s.logout().await;
        found
    })
}

#[test]
fn a_reply_is_delivered_with_threading_headers_read_back_over_imap() {
    let t = Setup::new("");
    let tag = unique("thread");
    let draft = t.approved("customer@shop.example", &tag);
    let out = t.run(&["send"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = jsonl(&out.stdout);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["draft"], draft.as_str());
    assert_eq!(line["state"], "sent");
    assert_eq!(line["attempts"], 1);
    assert_eq!(line["to"], serde_json::json!(["customer@shop.example"]));
    assert!(line["smtp_response"].as_str().unwrap().starts_with("250 "), "{line}");
    let message_id = line["message_id"].as_str().unwrap().to_string();
    assert!(message_id.ends_with("@example.test>"), "{message_id}");

    let raw = fetch_over_imap("customer", "INBOX", &message_id).expect("the reply reached the customer's INBOX");
    let h = Headers::parse(&raw);
    assert_eq!(h.get("in-reply-to"), Some(format!("<orig-{tag}@shop.example>").as_str()));
    assert_eq!(
        h.get("references"),
        Some(format!("<root-{tag}@shop.example> <orig-{tag}@shop.example>").as_str())
    );
    assert_eq!(h.get("subject"), Some(format!("Re: Where is my order? {tag}").as_str()));
    assert_eq!(h.get("from"), Some("\"Support Team\" <test@example.test>"));
    assert_eq!(h.get("message-id"), Some(message_id.as_str()));
    // The exact bytes in the ledger are the bytes delivered (after the server's trace headers).
    let stored: Vec<u8> = t.env.db().query_row("SELECT out_raw FROM drafts WHERE id = ?1", [&draft], |r| r.get(0)).unwrap();
    assert!(
        raw.ends_with(&[stored.as_slice(), b"\r\n"].concat()),
        "the delivered message differs from out_raw:\n{}\n----\n{}",
        String::from_utf8_lossy(&raw),
        String::from_utf8_lossy(&stored)
    );
    assert_eq!(delivered(&message_id), 1);

    // The copy in Sent (append_sent), marked in the ledger.
    assert!(fetch_over_imap("test", "Sent", &message_id).is_some(), "no copy in Sent");
    assert!(t.column(&draft, "copied_at").is_some());

    // Nothing is sent twice: a second run has nothing to do.
    let again = t.run(&["send"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(jsonl(&again.stdout).is_empty());
    assert_eq!(delivered(&message_id), 1);

    assert_eq!(t.env.count(&format!("SELECT COUNT(*) FROM events WHERE kind = 'smtp.send' AND draft = '{draft}'")), 1);
    assert!(t.ledger().check_integrity().unwrap().is_empty());
    // The password never reaches output or the ledger.
    let ledger_bytes = std::fs::read(t.env.ledger()).unwrap();
    for hay in [&out.stdout, &out.stderr, &ledger_bytes] {
        assert!(!hay.windows(6).any(|w| w == b"secret"), "the password leaked");
    }
}

#[test]
fn implicit_tls_submission_works() {
    let t = Setup::with_tls(Tls::Implicit, "");
    let draft = t.approved("customer@shop.example", &unique("smtps"));
    let out = t.run(&["send"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout)[0]["state"], "sent");
    assert_eq!(delivered(&t.message_id(&draft)), 1);
}

#[test]
fn a_550_fails_with_the_reason_a_451_is_retried_and_neither_blocks_the_others() {
    let t = Setup::new("max_attempts = 3");
    let rejected = t.approved("reject550@example.test", &unique("p550"));
    let deferred = t.approved("tempfail@example.test", &unique("t451"));
    let fine = t.approved("customer@shop.example", &unique("ok"));
    let out = t.run(&["send"]);
    assert_eq!(out.status.code(), Some(1), "a failed draft makes the run fail: {}", stderr(&out));
    let lines = jsonl(&out.stdout);
    let by_draft: HashMap<&str, &serde_json::Value> = lines.iter().map(|l| (l["draft"].as_str().unwrap(), l)).collect();
    assert_eq!(by_draft.len(), 3, "{lines:?}");

    let r = by_draft[rejected.as_str()];
    assert_eq!(r["state"], "failed");
    assert!(r["smtp_response"].as_str().unwrap().starts_with("550 5.1.1"), "{r}");
    assert_eq!(t.state(&rejected), "failed");
    let reason: String = t
        .env
        .db()
        .query_row(
            "SELECT detail_json FROM events WHERE kind = 'draft.failed' AND draft = ?1",
            [&rejected],
            |row| row.get(0),
        )
        .unwrap();
    assert!(reason.contains("no such user"), "{reason}");

    let d = by_draft[deferred.as_str()];
    assert_eq!(d["state"], "approved");
    assert_eq!(d["attempts"], 1);
    assert!(d["smtp_response"].as_str().unwrap().starts_with("451 4.3.0"), "{d}");
    let next = d["next_attempt_at"].as_str().expect("a retry time");
    let next = chrono::DateTime::parse_from_rfc3339(next).unwrap();
    let wait = (next.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    assert!((30..=61).contains(&wait), "first retry after the backoff: {wait}");

    assert_eq!(by_draft[fine.as_str()]["state"], "sent");
    assert_eq!(delivered(&t.message_id(&fine)), 1);

    // Not due yet: a plain run leaves it alone.
    let quiet = t.run(&["send"]);
    assert!(jsonl(&quiet.stdout).is_empty(), "{}", String::from_utf8_lossy(&quiet.stdout));
    // Asked for explicitly, it is retried now, with the same Message-ID, until the limit.
    let first_id = t.message_id(&deferred);
    let second = jsonl(&t.run(&["send", "--draft", &deferred]).stdout);
    assert_eq!((second[0]["state"].as_str(), second[0]["attempts"].as_i64()), (Some("approved"), Some(2)));
    let third = jsonl(&t.run(&["send", "--draft", &deferred]).stdout);
    assert_eq!(third[0]["state"], "failed");
    assert_eq!(third[0]["attempts"], 3);
    assert_eq!(t.message_id(&deferred), first_id);
    let gave_up: String = t
        .env
        .db()
        .query_row(
            "SELECT detail_json FROM events WHERE kind = 'draft.failed' AND draft = ?1",
            [&deferred],
            |row| row.get(0),
        )
        .unwrap();
    assert!(gave_up.contains("gave up after 3 attempts"), "{gave_up}");
}

/// `kill -9` at random moments of a slow batch, rerun until nothing is left: every draft's
/// reply is in the customer's mailbox exactly once, or (if the kill hit the instant between
/// "about to transmit" and the server reading the message) the draft is `failed` with the
/// interruption named, for a human, and was not delivered.
#[test]
fn kill_9_during_a_batch_then_rerun_delivers_each_draft_exactly_once() {
    use rand::Rng;
    let t = Setup::new("");
    let drafts: Vec<String> = (0..10).map(|i| t.approved("customer@shop.example", &unique(&format!("kill{i}")))).collect();
    let seed: u64 = rand::rng().random();
    eprintln!("kill -9 test seed {seed}");
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
    let mut kills = 0;
    let started = Instant::now();
    loop {
        let open = t.env.count("SELECT COUNT(*) FROM drafts WHERE state IN ('approved', 'sending')");
        if open == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(240), "drafts still open after 4 minutes");
        let only_unknown = t.env.count("SELECT COUNT(*) FROM drafts WHERE state = 'approved'") == 0;
        if only_unknown {
            // Interrupted sends are looked up only after reconcile_after_secs.
            std::thread::sleep(Duration::from_millis(1100));
        }
        let mut c = t.env.cmd(&["send", "--rate", "240"]);
        c.env(PASSWORD_ENV, "secret").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        let kill_after = Duration::from_millis(rng.random_range(30..900));
        let deadline = Instant::now() + kill_after;
        let mut exited = false;
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                exited = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if !exited && kills < 25 {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    eprintln!("{kills} kills in {:?}", started.elapsed());
    assert!(kills >= 3, "the test should have killed some runs (seed {seed})");

    let mut sent = 0;
    let ids: Vec<String> = drafts.iter().map(|d| t.message_id(d)).collect();
    let expected: Vec<String> =
        drafts.iter().zip(&ids).filter(|(d, _)| t.state(d) == "sent").map(|(_, m)| m.clone()).collect();
    let counts = settle_deliveries(&expected);
    for (d, mid) in drafts.iter().zip(&ids) {
        let copies = counts.get(mid).copied().unwrap_or(0);
        let state = t.state(d);
        match state.as_str() {
            "sent" => {
                sent += 1;
                assert_eq!(copies, 1, "draft {d} ({mid}) delivered {copies} times (seed {seed})");
            }
            "failed" => {
                let why: String = t
                    .env
                    .db()
                    .query_row("SELECT smtp_response FROM drafts WHERE id = ?1", [d], |r| r.get(0))
                    .unwrap();
                assert!(why.contains("interrupted during send"), "{d}: {why}");
                assert_eq!(copies, 0, "draft {d} is flagged for a human but was delivered (seed {seed})");
            }
            other => panic!("draft {d} ended {other} (seed {seed})"),
        }
    }
    let released = t.env.count("SELECT COUNT(*) FROM events WHERE kind = 'draft.approved' AND actor = 'reconcile'");
    let reconciled = t.env.count("SELECT COUNT(*) FROM events WHERE kind = 'send.reconciled'");
    eprintln!(
        "{sent} of {} sent without a human; {released} interrupted before transmission and resent, \
         {reconciled} interrupted during transmission and looked up",
        drafts.len()
    );
    assert!(t.ledger().check_integrity().unwrap().is_empty());
}

#[test]
fn interrupted_sends_are_reconciled_never_resent() {
    let t = Setup::new("");
    // A: the server accepted it, then the process died before recording that.
    let a = t.approved("customer@shop.example", &unique("recA"));
    assert!(t.run(&["send", "--draft", &a]).status.success());
    let a_id = t.message_id(&a);
    assert_eq!(delivered(&a_id), 1);
    t.env
        .db()
        .execute(
            "UPDATE drafts SET state = 'sending', send_stage = 'data', sent_at = NULL, updated_at = '2020-01-01T00:00:00Z' \
             WHERE id = ?1",
            [&a],
        )
        .unwrap();
    // B: claimed, then the process died before a byte of the message left.
    let b = t.approved("customer@shop.example", &unique("recB"));
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap().trim().to_string();
    t.env
        .db()
        .execute("UPDATE drafts SET state = 'sending', send_stage = 'claimed', claim_boot = ?2 WHERE id = ?1", [&b, &boot])
        .unwrap();
    // C: marked "transmitting", then died before the server saw it: not delivered, unprovable.
    let c = t.approved("customer@shop.example", &unique("recC"));
    let c_id = format!("<{}@example.test>", unique("never-sent"));
    t.env
        .db()
        .execute(
            "UPDATE drafts SET state = 'sending', send_stage = 'data', out_message_id = ?2, out_raw = x'00', \
             out_envelope = '{\"from\":\"test@example.test\",\"to\":[\"customer@shop.example\"]}', \
             out_account = 'support', out_source_sha256 = 'x', updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 hour') \
             WHERE id = ?1",
            [&c, &c_id],
        )
        .unwrap();

    // D: claimed before a reboot: without a flushed "data" mark nothing is proven either way.
    let d = t.approved("customer@shop.example", &unique("recD"));
    t.env
        .db()
        .execute(
            "UPDATE drafts SET state = 'sending', send_stage = 'claimed', claim_boot = 'an-earlier-boot', \
             out_message_id = '<before-reboot@example.test>', out_account = 'support', \
             updated_at = '2020-01-01T00:00:00Z' WHERE id = ?1",
            [&d],
        )
        .unwrap();

    let out = t.run(&["send"]);
    let lines = jsonl(&out.stdout);
    let by_draft: HashMap<&str, &serde_json::Value> = lines.iter().map(|l| (l["draft"].as_str().unwrap(), l)).collect();
    assert_eq!(by_draft[d.as_str()]["state"], "failed", "{lines:?}");
    assert!(by_draft[d.as_str()]["reason"].as_str().unwrap().contains("not found"), "{lines:?}");
    assert_eq!(by_draft[a.as_str()]["state"], "sent", "{lines:?}");
    assert!(by_draft[a.as_str()]["reason"].as_str().unwrap().contains("found in"), "{lines:?}");
    assert_eq!(by_draft[a.as_str()]["actor"], "reconcile");
    assert_eq!(by_draft[b.as_str()]["state"], "sent", "B was never transmitted: it is sent now");
    assert_eq!(by_draft[c.as_str()]["state"], "sending", "C waits for reconcile_after_secs first");
    assert_eq!(out.status.code(), Some(1), "an unknown outcome makes the run fail");

    t.env.db().execute("UPDATE drafts SET updated_at = '2020-01-01T00:00:00Z' WHERE id = ?1", [&c]).unwrap();
    let later = jsonl(&t.run(&["send"]).stdout);
    assert_eq!(later.len(), 1, "{later:?}");
    assert_eq!(later[0]["draft"], c.as_str());
    assert_eq!(later[0]["state"], "failed");
    assert!(later[0]["reason"].as_str().unwrap().contains("not found in Sent, INBOX — check before retrying"), "{later:?}");

    let b_id = t.message_id(&b);
    let counts = settle_deliveries(&[a_id.clone(), b_id.clone()]);
    assert_eq!(counts.get(&a_id), Some(&1), "A was not sent again");
    assert_eq!(counts.get(&b_id), Some(&1));
    assert_eq!(counts.get(&c_id), None);
    assert_eq!(t.state(&c), "failed");
    assert!(jsonl(&t.run(&["send"]).stdout).is_empty(), "a human decides about C");
}

#[test]
fn dry_run_prints_the_exact_message_and_changes_nothing() {
    let t = Setup::new("");
    let tag = unique("dry");
    let draft = t.approved("customer@shop.example", &tag);
    let out = t.run(&["send", "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = jsonl(&out.stdout);
    assert_eq!(lines[0]["state"], "dry_run");
    let raw = lines[0]["raw"].as_str().unwrap();
    let h = Headers::parse(raw.as_bytes());
    assert_eq!(h.get("in-reply-to"), Some(format!("<orig-{tag}@shop.example>").as_str()));
    assert_eq!(h.get("to"), Some("\"Ann Customer\" <customer@shop.example>"));
    assert!(raw.contains("your parcel left our warehouse today"));
    assert_eq!(t.state(&draft), "approved");
    assert_eq!(t.column(&draft, "out_message_id"), None);
    assert_eq!(t.env.count("SELECT COUNT(*) FROM events WHERE kind LIKE 'smtp.%'"), 0);
}

#[test]
fn max_and_records_on_stdin_choose_what_is_sent() {
    let t = Setup::new("");
    let first = t.approved("customer@shop.example", &unique("max1"));
    let second = t.approved("customer@shop.example", &unique("max2"));
    let out = t.run(&["send", "--max", "1"]);
    assert_eq!(jsonl(&out.stdout).len(), 1);
    assert_eq!((t.state(&first).as_str(), t.state(&second).as_str()), ("sent", "approved"));

    let third = t.approved("customer@shop.example", &unique("max3"));
    let message: String = t.env.db().query_row("SELECT message FROM drafts WHERE id = ?1", [&third], |r| r.get(0)).unwrap();
    let record = format!("{{\"id\": \"{message}\"}}\n");
    let out = t.run_with_stdin(&["send", "-"], record.as_bytes());
    let lines = jsonl(&out.stdout);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["draft"], third.as_str());
    assert_eq!(t.state(&second), "approved", "only the piped record's draft was sent");
}

// ---- auto-send -----------------------------------------------------------------------------

fn auto_policy(extra: &str) -> String {
    format!("auto_send = true\ncategories = [\"shipping\"]\nmin_confidence = 0.8\ndaily_cap = 2\n{extra}")
}

fn pending(t: &Setup, risk: &str, category: &str, confidence: f64, tag: &str) -> String {
    let tag = unique(tag);
    let message = t.import("customer@shop.example", &format!("Question {tag}"), &tag);
    let id = format!("d-{tag}");
    t.draft(&message, &id, risk, category, confidence);
    id
}

#[test]
fn auto_send_never_sends_a_high_risk_draft() {
    let t = Setup::new(&auto_policy("daily_cap = 100\n").replace("daily_cap = 2\n", ""));
    let high = pending(&t, "high", "shipping", 0.99, "high");
    let refund = pending(&t, "low", "refund", 0.99, "refund");
    let unsure = pending(&t, "low", "shipping", 0.5, "unsure");
    let low = pending(&t, "low", "shipping", 0.95, "low");
    let out = t.run(&["send", "--auto"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = jsonl(&out.stdout);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["draft"], low.as_str());
    assert_eq!(lines[0]["actor"], "policy");
    for d in [&high, &refund, &unsure] {
        assert_eq!(t.state(d), "pending", "{d}");
    }
    assert_eq!(t.column(&low, "decided_by").as_deref(), Some("policy"));
    let actors = t.env.count(&format!(
        "SELECT COUNT(*) FROM events WHERE draft = '{low}' AND kind IN ('draft.approved', 'draft.sending', 'draft.sent', 'smtp.send') AND actor = 'policy'"
    ));
    assert_eq!(actors, 4, "every step of an auto-send is recorded with actor policy");
    // Without --auto, nothing pending is ever sent.
    let manual = pending(&t, "low", "shipping", 0.95, "manual");
    assert!(jsonl(&t.run(&["send"]).stdout).is_empty());
    assert_eq!(t.state(&manual), "pending");
}

#[test]
fn auto_send_respects_the_daily_cap() {
    let t = Setup::new(&auto_policy(""));
    let drafts: Vec<String> = (0..4).map(|i| pending(&t, "low", "shipping", 0.95, &format!("cap{i}"))).collect();
    let out = t.run(&["send", "--auto"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout).len(), 2);
    assert!(stderr(&out).contains("daily cap (2) is reached"), "{}", stderr(&out));
    // A later run the same day sends nothing more.
    assert!(jsonl(&t.run(&["send", "--auto"]).stdout).is_empty());
    let sent = drafts.iter().filter(|d| t.state(d) == "sent").count();
    let pending_left = drafts.iter().filter(|d| t.state(d) == "pending").count();
    assert_eq!((sent, pending_left), (2, 2));
    // Human-approved drafts do not count against the policy's cap.
    t.ledger().transition_draft(&drafts[2], DraftState::Approved, "alice", None, None).unwrap();
    let out = jsonl(&t.run(&["send", "--auto"]).stdout);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["draft"], drafts[2].as_str());
}

#[test]
fn auto_send_stops_when_paused_by_file_or_switched_off() {
    let pause = tempfile::tempdir().unwrap();
    let pause_file: PathBuf = pause.path().join("PAUSE");
    let policy = auto_policy(&format!("pause_file = \"{}\"\n", pause_file.display()));
    let t = Setup::new(&policy);
    let low = pending(&t, "low", "shipping", 0.95, "paused");
    let human = t.approved("customer@shop.example", &unique("human"));

    std::fs::write(&pause_file, "").unwrap();
    let out = t.run(&["send", "--auto"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = jsonl(&out.stdout);
    assert_eq!(lines.len(), 1, "only the human-approved draft goes: {lines:?}");
    assert_eq!(lines[0]["draft"], human.as_str());
    assert!(stderr(&out).contains("paused"), "{}", stderr(&out));
    assert_eq!(t.state(&low), "pending");

    std::fs::remove_file(&pause_file).unwrap();
    let config = std::fs::read_to_string(t.env.config()).unwrap().replace("auto_send = true", "auto_send = false");
    t.env.write_config(&config);
    let out = t.run(&["send", "--auto"]);
    assert!(jsonl(&out.stdout).is_empty());
    assert!(stderr(&out).contains("policy.auto_send = false"), "{}", stderr(&out));
    assert_eq!(t.state(&low), "pending");

    t.env.write_config(&config.replace("auto_send = false", "auto_send = true"));
    let out = jsonl(&t.run(&["send", "--auto"]).stdout);
    assert_eq!(out.len(), 1);
    assert_eq!(t.state(&low), "sent");
}

#[test]
fn an_unreachable_server_leaves_drafts_approved() {
    let t = Setup::new("");
    let draft = t.approved("customer@shop.example", &unique("down"));
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let config = std::fs::read_to_string(t.env.config()).unwrap();
    let smtp_port = servers().port("SMTP_PORT");
    t.env.write_config(&config.replace(&format!("port = {smtp_port}"), &format!("port = {port}")));
    let out = t.run(&["send"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("SMTP"), "{}", stderr(&out));
    let lines = jsonl(&out.stdout);
    assert_eq!(lines[0]["state"], "skipped");
    assert_eq!(t.state(&draft), "approved");
    let attempts: i64 = t.env.db().query_row("SELECT attempts FROM drafts WHERE id = ?1", [&draft], |r| r.get(0)).unwrap();
    assert_eq!(attempts, 0, "a server that is down is not the draft's fault");
}

#[test]
fn sigterm_finishes_the_draft_under_way_and_stops() {
    use std::io::BufRead;
    let t = Setup::new("");
    let drafts: Vec<String> = (0..3).map(|i| t.approved("customer@shop.example", &unique(&format!("term{i}")))).collect();
    let mut c = t.env.cmd(&["send", "--rate", "6"]);
    c.env(PASSWORD_ENV, "secret").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["state"], "sent");
    let started = Instant::now();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "it stops during the rate-limit wait");
    assert_eq!(status.code(), Some(1), "a stopped batch is a partial run");
    assert!(lines.next().is_none());
    let states: Vec<String> = drafts.iter().map(|d| t.state(d)).collect();
    assert_eq!(states, ["sent", "approved", "approved"]);
}

#[test]
fn two_senders_at_once_deliver_each_draft_once() {
    let t = Setup::new("");
    let drafts: Vec<String> = (0..6).map(|i| t.approved("customer@shop.example", &unique(&format!("twin{i}")))).collect();
    let spawn = || {
        let mut c = t.env.cmd(&["send"]);
        c.env(PASSWORD_ENV, "secret").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let sent: usize = [&a, &b]
        .iter()
        .map(|o| jsonl(&o.stdout).iter().filter(|l| l["state"] == "sent").count())
        .sum();
    assert_eq!(sent, drafts.len(), "{}\n{}", stderr(&a), stderr(&b));
    let ids: Vec<String> = drafts.iter().map(|d| t.message_id(d)).collect();
    assert_eq!(delivered_each(&ids), vec![1; drafts.len()]);
    for d in &drafts {
        assert_eq!(t.state(d), "sent");
    }
    assert!(t.ledger().check_integrity().unwrap().is_empty());
}
