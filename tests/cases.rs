//! Service cases end to end: real threads through Dovecot (IMAP) and Postfix (SMTP), started
//! once for this test binary, and the `cases`, `review assign` and `export --case` commands.
//!
//! Each server test reads its own mailboxes of the team user (`in-TAG`, `Sent-TAG`), so tests
//! run in parallel without seeing each other's mail. The customer is the server user
//! `customer`: our replies really arrive in their INBOX, and their answers quote them.

mod common;

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::servers::servers;
use common::{Env, jsonl, rt, stderr, unique};
use mailroom::config::ImapConfig;
use mailroom::mail::imap::ImapSession;
use mailroom::mail::parse::parse_message;
use serde_json::{Value, json};

const PASSWORD_ENV: &str = "MR_CASES_TEST_PASSWORD";
const CUSTOMER: &str = "Daniel Okafor <customer@example.test>";



fn imap_config(user: &str) -> ImapConfig {
    let s = servers();
    let text = format!(
        "host = \"127.0.0.1\"\nport = {}\ntls = \"starttls\"\nuser = \"{user}\"\npassword = \"secret\"\nca_file = \"{}\"\n",
        s.port("IMAP_PORT"),
        s.ca_file()
    );
    toml::from_str(&text).expect("imap config")
}

/// Runs IMAP commands as a server user (what a mail client or the customer's MTA does).
fn imap<T>(user: &str, f: impl AsyncFnOnce(&mut ImapSession) -> T) -> T {
    rt().block_on(async {
        let mut s = ImapSession::connect(&imap_config(user), user).await.expect("test login");
        let out = f(&mut s).await;
        s.logout().await;
        out
    })
}

fn date_now() -> String {
    chrono::Utc::now().to_rfc2822()
}

/// One team mailbox pair and a mailroom set up to fetch it and send through Postfix.
struct Desk {
    env: Env,
    inbox: String,
    sent: String,
}

impl Desk {
    fn new(tag: &str) -> Desk {
        let s = servers();
        let tag = unique(tag);
        let (inbox, sent) = (format!("in-{tag}"), format!("Sent-{tag}"));
        imap("test", async |i| {
            i.create(&inbox).await.expect("create inbox");
            i.create(&sent).await.expect("create sent");
        });
        let env = Env::new();
        env.write_config(&format!(
            r#"[team]
name = "Northwind Goods Support"
timezone = "UTC"
sign_off = "Kind regards,\nMaria\nNorthwind Goods Customer Support"

[accounts.support]
imap = {{ host = "127.0.0.1", port = {imap}, tls = "starttls", user = "test", password_env = "{PASSWORD_ENV}", ca_file = "{ca}", mailboxes = ["{inbox}"], sent_mailbox = "{sent}" }}
smtp = {{ host = "127.0.0.1", port = {smtp}, tls = "starttls", user = "test", password_env = "{PASSWORD_ENV}", ca_file = "{ca}", from = "Northwind Goods Support <test@example.test>", append_sent = true }}

[draft]
knowledge_dir = "{knowledge}"

[policy]
rate_per_minute = 0
approve_sends = "queue"
"#,
            imap = s.port("IMAP_PORT"),
            smtp = s.port("SMTP_PORT"),
            ca = s.ca_file(),
            knowledge = common::examples().join("knowledge").display(),
        ));
        Desk { env, inbox, sent }
    }

    fn run(&self, args: &[&str], input: &[u8]) -> Output {
        let mut c = self.env.cmd(args);
        c.env(PASSWORD_ENV, "secret").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn mailroom");
        {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
        }
        child.wait_with_output().expect("wait mailroom")
    }

    fn ok(&self, args: &[&str], input: &[u8]) -> Vec<Value> {
        let out = self.run(args, input);
        assert!(out.status.success(), "mailroom {args:?} failed:\n{}", stderr(&out));
        jsonl(&out.stdout)
    }

    /// Mail arriving in the team's inbox.
    fn deliver(&self, raw: &str) {
        imap("test", async |i| i.append(&self.inbox, &[], raw.as_bytes()).await.expect("append"));
    }

    /// A reply a person wrote in their own mail client: the client files it in Sent.
    fn file_in_sent(&self, raw: &str) {
        imap("test", async |i| i.append(&self.sent, &["\\Seen"], raw.as_bytes()).await.expect("append"));
    }

    /// `fetch | filter | classify | draft`; returns the fetched and the drafted records.
    fn fetch_and_draft(&self) -> (Vec<Value>, Vec<Value>) {
        let fetched = self.ok(&["fetch"], b"");
        let mut lines: String = fetched.iter().map(|r| format!("{r}\n")).collect();
        for stage in ["filter", "classify"] {
            let out = self.ok(&[stage], lines.as_bytes());
            assert_eq!(out.len(), fetched.len(), "customer mail passes {stage}: {out:?}");
            lines = out.iter().map(|r| format!("{r}\n")).collect();
        }
        let drafted = self.ok(&["draft"], lines.as_bytes());
        (fetched, drafted)
    }

    fn case_of(&self, id: &str) -> Value {
        let shown = self.ok(&["cases", "show", id, "--json"], b"");
        shown.into_iter().next().expect("one case")
    }
}

/// The record with the triage classify would give it (classify is another stage).
fn triaged(record: &Value, category: &str) -> Value {
    let mut r = record.clone();
    r["triage"] = json!({
        "category": category, "priority": "P3", "sentiment": "neutral", "language": "en",
        "confidence": 0.92, "escalate": false, "reasons": [], "backend": "test"
    });
    r
}

fn question(message_id: &str) -> String {
    format!(
        "From: {CUSTOMER}\r\nTo: support@shop.example\r\nSubject: Parcel hasn't arrived\r\nDate: {}\r\n\
         Message-ID: <{message_id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Hello,\r\n\r\nI placed an order with you about two weeks ago (a set of glass storage jars and a bread bin)\r\n\
         and it still hasn't turned up. I haven't received any email with tracking either.\r\n\r\n\
         Can you please check what's going on?\r\n\r\nRegards,\r\nDaniel Okafor\r\n",
        date_now()
    )
}

/// Waits for a message with this Message-ID in the customer's INBOX; returns its bytes.
fn customer_receives(message_id: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = imap("customer", async |i| {
            let uid = i.search_header_message_id("INBOX", message_id).await.expect("search")?;
            let m = i.fetch_range(&uid.to_string(), None).await.expect("fetch");
            m.into_iter().next().map(|m| m.raw)
        });
        if let Some(raw) = found {
            return raw;
        }
        assert!(Instant::now() < deadline, "our reply {message_id} never reached the customer");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The customer's answer to `reply` (as received), quoting it the way mail clients do.
fn answer_quoting(reply: &[u8], question_id: &str, message_id: &str, text: &str) -> String {
    let r = parse_message(reply, "x", "x", 1 << 20).record;
    let reply_id = r.message_id.clone().expect("our reply has a Message-ID");
    let quoted: String = r.text.lines().map(|l| format!("> {l}\r\n")).collect();
    format!(
        "From: {CUSTOMER}\r\nTo: {to}\r\nSubject: Re: {subject}\r\nDate: {date}\r\nMessage-ID: <{message_id}>\r\n\
         In-Reply-To: <{reply_id}>\r\nReferences: <{question_id}> <{reply_id}>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\r\n\
         On {date}, Northwind Goods Support <test@example.test> wrote:\r\n{quoted}",
        to = "support@shop.example",
        subject = r.subject.trim_start_matches("Re: "),
        date = date_now(),
    )
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key].as_array().unwrap().iter().map(|x| x.as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn question_reply_asking_for_the_order_number_and_the_answer_are_one_case() {
    let desk = Desk::new("thread");
    let question_id = format!("{}@inboxmail.example", unique("q"));
    desk.deliver(&question(&question_id));

    // 1. The question arrives: a new case, and a draft that asks for the order number.
    let (fetched, drafted) = desk.fetch_and_draft();
    assert_eq!(fetched.len(), 1);
    let q = fetched[0]["id"].as_str().unwrap().to_string();
    let d1 = &drafted[0]["draft"];
    assert_eq!(ids(d1, "missing_info"), ["order_number"], "{d1}");
    let d1_id = d1["id"].as_str().unwrap().to_string();
    let case = desk.case_of(&q);
    let case_id = case["id"].as_str().unwrap().to_string();
    assert_eq!(case["state"], "waiting_internal");
    assert_eq!(case["next_step"], format!("review draft {d1_id}"));
    assert_eq!(case["customer"]["address"], "customer@example.test");

    // 2. A person approves it and it goes out through Postfix: the case waits for the customer.
    desk.ok(&["review", "approve", &d1_id, "--as", "maria"], b"");
    let sent = desk.ok(&["send"], b"");
    assert_eq!(sent[0]["state"], "sent", "{sent:?}");
    let case = desk.case_of(&case_id);
    assert_eq!(case["state"], "waiting_customer");
    assert_eq!(ids(&case, "waiting_for"), ["order_number"]);
    assert_eq!(case["next_step"], "wait for the customer: order number");

    // 3. The customer answers our reply, quoting it.
    let out_id: String =
        desk.env.db().query_row("SELECT out_message_id FROM drafts WHERE id = ?1", [&d1_id], |r| r.get(0)).unwrap();
    let received = customer_receives(&out_id);
    let answer_id = format!("{}@inboxmail.example", unique("a"));
    let answer = answer_quoting(
        &received,
        &question_id,
        &answer_id,
        "Hi Maria,\r\n\r\nSorry, here it is: #NW-48466. I found the confirmation email in my spam folder.\r\n\r\nDaniel",
    );
    desk.deliver(&answer);
    let (fetched, drafted) = desk.fetch_and_draft();
    // Only the answer goes down the chain; our reply's copy in Sent is stored, not emitted.
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    let a = fetched[0]["id"].as_str().unwrap().to_string();

    // All three in one case, in order; the case waits on us again.
    let case = desk.case_of(&a);
    assert_eq!(case["id"], case_id.as_str());
    let roles: Vec<&str> = case["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["customer", "ours", "customer"]);
    assert_eq!(case["messages"][1]["message_id"].as_str().map(|m| format!("<{m}>")), Some(out_id.clone()));
    assert_eq!(case["state"], "waiting_internal");
    let d2 = &drafted[0]["draft"];
    let d2_id = d2["id"].as_str().unwrap();
    assert_eq!(case["next_step"], format!("review draft {d2_id}"));
    // The second draft knows the order number: the checklist no longer asks for it.
    assert!(ids(d2, "missing_info").is_empty(), "{d2}");
    assert!(d2["body"].as_str().unwrap().contains("NW-48466"), "{}", d2["body"]);
    assert_eq!(d2["case"], case_id.as_str());
    // Whatever classify made of the short answer alone, it answers our shipping question.
    assert_eq!(d2["category"], "shipping", "classified {}: {d2}", drafted[0]["triage"]["category"]);
    assert_eq!(desk.case_of(&case_id)["category"], "shipping");
    let story: Vec<String> =
        case["story"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap().to_string()).collect();
    assert!(story.iter().any(|t| t.contains("the customer answered (we waited for: order number)")), "{story:#?}");

    // The second reply asks for nothing: sent, the case is resolved.
    desk.ok(&["review", "approve", d2_id, "--as", "maria"], b"");
    assert_eq!(desk.ok(&["send"], b"")[0]["state"], "sent");
    assert_eq!(desk.case_of(&case_id)["state"], "resolved");
}

#[test]
fn a_reply_written_in_a_mail_client_marks_the_pending_draft_handled() {
    let desk = Desk::new("takeover");
    let question_id = format!("{}@inboxmail.example", unique("q"));
    desk.deliver(&question(&question_id));
    let (fetched, drafted) = desk.fetch_and_draft();
    let q = fetched[0]["id"].as_str().unwrap().to_string();
    let d1 = drafted[0]["draft"]["id"].as_str().unwrap().to_string();

    // Tom answers from Thunderbird; his client files the reply in Sent.
    desk.file_in_sent(&format!(
        "From: Tom Becker <test@example.test>\r\nTo: {CUSTOMER}\r\nSubject: Re: Parcel hasn't arrived\r\n\
         Date: {}\r\nMessage-ID: <{}@example.test>\r\nIn-Reply-To: <{question_id}>\r\nReferences: <{question_id}>\r\n\
         User-Agent: Mozilla Thunderbird\r\n\r\nHi Daniel,\r\n\r\nI found your order NW-48466: it left our warehouse today.\r\n\r\nTom\r\n",
        date_now(),
        unique("tom")
    ));
    let fetched = desk.ok(&["fetch"], b"");
    assert!(fetched.is_empty(), "the team's own mail is not emitted: {fetched:?}");

    let (state, by, reason): (String, String, String) = desk
        .env
        .db()
        .query_row("SELECT state, decided_by, decision_reason FROM drafts WHERE id = ?1", [&d1], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((state.as_str(), by.as_str()), ("handled", "Tom Becker <test@example.test>"));
    assert!(reason.starts_with("answered from a mail client"), "{reason}");
    let case = desk.case_of(&q);
    assert_eq!(case["state"], "resolved");
    let roles: Vec<&str> = case["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["customer", "team"]);
    // Nobody answers twice: the draft is out of the review queue, and send has nothing to do.
    let queue = desk.ok(&["review", "list", "--json"], b"");
    assert!(queue.iter().all(|i| i["draft"] != d1.as_str()), "{queue:?}");
    assert!(desk.run(&["review", "approve", &d1], b"").status.code() == Some(1));
    assert!(desk.ok(&["send"], b"").is_empty());
    // Tom's reply is part of the case, and piped into draft it is passed through, not answered.
    let exported = desk.ok(&["export", "--case", &q], b"");
    assert_eq!(exported.len(), 2);
    let line = format!("{}\n", triaged(&exported[1], "shipping"));
    let out = desk.ok(&["draft"], line.as_bytes());
    assert!(out[0].get("draft").is_none(), "{:?}", out[0]);
}

/// A ledger with the sample inbox's three threads, imported from files.
fn sample_threads() -> Env {
    let env = Env::new();
    let inbox = common::examples().join("inbox");
    let mut files: Vec<String> = Vec::new();
    for n in ["004", "018", "010", "053", "024", "062", "001"] {
        let entry = std::fs::read_dir(&inbox)
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with(n))
            .unwrap_or_else(|| panic!("examples/inbox/{n}-*.eml"));
        files.push(entry.path().display().to_string());
    }
    let mut args = vec!["fetch", "--eml"];
    args.extend(files.iter().map(String::as_str));
    let out = env.run(&args, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    env
}

#[test]
fn the_sample_threads_group_into_cases_that_list_show_assign_and_export() {
    let env = sample_threads();
    let out = env.run(&["cases", "--json"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let cases = jsonl(&out.stdout);
    let mut by_subject: Vec<(String, i64)> = cases
        .iter()
        .map(|c| (c["subject"].as_str().unwrap().to_string(), c["message_count"].as_i64().unwrap()))
        .collect();
    by_subject.sort();
    assert_eq!(
        by_subject,
        [
            ("Demande d'échange – commande NW-48290".to_string(), 2),
            ("Parcel hasn't arrived".to_string(), 2),
            ("Where is my order #NW-48213?".to_string(), 1),
            ("¿Dónde está mi paquete??".to_string(), 2),
        ]
    );
    let parcel = cases.iter().find(|c| c["subject"] == "Parcel hasn't arrived").unwrap();
    let id = parcel["id"].as_str().unwrap();
    assert_eq!(parcel["customer"]["name"], "Daniel Okafor");

    // An owner, by a unique prefix of the case id.
    let out = env.run(&["review", "assign", &id[..6], "maria"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout)[0]["owner"], "maria");
    let mine = jsonl(&env.run(&["cases", "--owner", "maria", "--json"], b"").stdout);
    assert_eq!(mine.len(), 1);

    // The story in order, and the messages as records.
    let shown = jsonl(&env.run(&["cases", "show", id, "--json"], b"").stdout);
    let story = shown[0]["story"].as_array().unwrap();
    assert!(story.iter().any(|l| l["text"].as_str().unwrap().contains("assigned to maria")), "{story:?}");
    let dates: Vec<&str> = shown[0]["messages"].as_array().unwrap().iter().map(|m| m["at"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2026-11-01T13:45:17Z", "2026-11-02T18:03:47Z"]);
    let exported = jsonl(&env.run(&["export", "--case", id], b"").stdout);
    let subjects: Vec<&str> = exported.iter().map(|r| r["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["Parcel hasn't arrived", "Re: Parcel hasn't arrived"]);
    let out = env.run(&["export", "--case", "cnotacase"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // A person parks it with a partner; it leaves the open list only when closed.
    let out = env.run(&["cases", "set", id, "waiting_partner", "--waiting-for", "carrier claim", "--as", "maria"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let partner = jsonl(&env.run(&["cases", "--state", "waiting_partner", "--json"], b"").stdout);
    assert_eq!(ids(&partner[0], "waiting_for"), ["carrier claim"]);
    env.run(&["cases", "set", id, "cancelled", "--note", "duplicate"], b"");
    let open = jsonl(&env.run(&["cases", "--json"], b"").stdout);
    assert_eq!(open.len(), 3);
    let all = jsonl(&env.run(&["cases", "--all", "--json"], b"").stdout);
    assert_eq!(all.len(), 4);
    let out = env.run(&["cases", "--state", "open"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expected one of new, waiting_internal"), "{}", stderr(&out));
}

#[test]
fn sweep_and_digest_report_cases() {
    let env = sample_threads();
    let out = env.run(&["cases", "sweep", "--dry-run"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(jsonl(&out.stdout).is_empty(), "nothing waits for a customer");
    let out = env.run(&["digest", "--since", "2026-11-01", "--until", "2026-11-10", "--json"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["cases"]["opened"], 4);
    let open: Vec<(String, i64)> = d["cases"]["open"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap().to_string(), o["count"].as_i64().unwrap()))
        .collect();
    // Nobody has looked at any of them yet: a second message keeps a case new.
    assert_eq!(open[0], ("new".to_string(), 4));
    assert_eq!(open[1], ("waiting_internal".to_string(), 0));
    assert!(d["trust"].as_array().unwrap().is_empty());
}
