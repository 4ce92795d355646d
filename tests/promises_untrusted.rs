//! Promises about untrusted content: a customer's mail is data, never instructions. A message
//! that tries to steer the machine (ask for a refund, other customers' data, the system prompt,
//! set its own category or risk) never gets an automatic reply; no secret of the config
//! reaches a record, a draft, the ledger, a log line or a webhook; HTML in mail never runs in
//! the review page; and no subject or name can add a header to a sent reply.
//!
//! The sends go through the real Postfix and Dovecot of tests/common/servers.rs.

mod common;
mod promisekit;
mod reviewkit;
mod sink;
mod support {
    pub mod mock_openai;
}

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::servers::servers;
use common::{Env, examples, jsonl, root, stderr};
use mailroom::mail::parse::Headers;
use promisekit::assert_sound;

const PASSWORD_ENV: &str = "MR_UNTRUSTED_SMTP_PASSWORD";

fn injection_files() -> Vec<PathBuf> {
    let dir = root().join("tests/fixtures/injection");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.push(examples().join("inbox/038-delivery-question-prompt-injection.eml"));
    files
}

/// A config with the shop's knowledge, an order lookup that knows the customer's order
/// NW-48213, an SMTP account on the test server and an auto-send policy as permissive as it
/// goes: every category, any confidence.
fn permissive_config(env: &Env, extra: &str) {
    let s = servers();
    let ex = examples();
    let lookup = env.path().join("order-lookup.sh");
    std::fs::write(
        &lookup,
        "#!/bin/sh\ncase \"$1\" in\n  NW-48213) echo '{\"order_id\":\"NW-48213\",\"status\":\"shipped\",\"carrier\":\"Royal Mail\",\
         \"tracking\":\"TT384019273GB\",\"customer_email\":\"customer@example.test\"}' ;;\n  *) exit 1 ;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&lookup, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env.write_config(&format!(
        r#"[team]
name = "Northwind Goods Support"
domains = ["shop.example"]
timezone = "UTC"
review_url = "http://127.0.0.1:8025"

[accounts.support]
smtp = {{ host = "127.0.0.1", port = {smtp}, tls = "starttls", user = "test", password_env = "{PASSWORD_ENV}", ca_file = "{ca}", from = "Northwind Support <test@example.test>" }}

[draft]
knowledge_dir = "{knowledge}"
order_lookup_command = "{lookup}"

[policy]
auto_send = true
categories = ["shipping", "refund", "return", "complaint", "product", "address_change", "cancellation", "payment", "account", "other"]
min_confidence = 0.0
daily_cap = 1000
rate_per_minute = 0
{extra}"#,
        smtp = s.port("SMTP_PORT"),
        ca = s.ca_file(),
        knowledge = ex.join("knowledge").display(),
        lookup = lookup.display(),
    ));
}

fn run(env: &Env, args: &[&str], input: &[u8]) -> Output {
    let mut c = env.cmd(args);
    c.env(PASSWORD_ENV, "secret").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    child.wait_with_output().unwrap()
}

/// What a classifier fooled by the message would say: a confident, harmless shipping question.
fn fooled_triage(records: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for mut r in jsonl(records) {
        r["triage"] = serde_json::json!({
            "category": "shipping", "priority": "P4", "sentiment": "neutral", "language": "en",
            "confidence": 0.99, "escalate": false, "reasons": ["the message says it is a shipping question"],
            "entities": {"order_ids": [], "tracking_numbers": [], "emails": [], "phones": []},
            "backend": "fooled", "model": "fooled",
        });
        out.extend(r.to_string().into_bytes());
        out.push(b'\n');
    }
    out
}

#[test]
fn prompt_injections_never_get_an_automatic_reply() {
    let env = Env::new();
    permissive_config(&env, "");
    let mut fetch = env.cmd(&["fetch", "--eml"]);
    fetch.args(injection_files());
    let imported = fetch.output().unwrap();
    assert!(imported.status.success(), "{}", stderr(&imported));
    let records = fooled_triage(&imported.stdout);
    let drafted = run(&env, &["draft"], &records);
    assert!(drafted.status.success(), "{}", stderr(&drafted));
    let drafted = jsonl(&drafted.stdout);
    assert_eq!(drafted.len(), injection_files().len());

    let sent = run(&env, &["send", "--auto"], b"");
    assert!(sent.status.success(), "{}", stderr(&sent));
    let sent: HashMap<String, String> = jsonl(&sent.stdout)
        .iter()
        .map(|o| (o["message"].as_str().unwrap().to_string(), o["state"].as_str().unwrap().to_string()))
        .collect();
    for r in &drafted {
        let id = r["id"].as_str().unwrap();
        let subject = r["subject"].as_str().unwrap();
        let draft = &r["draft"];
        if r["message_id"] == "control00@example.test" {
            // The control: a plain question from the order's customer goes out by itself,
            // so the policy is permissive enough for the others to have gone too.
            assert_eq!(draft["risk"], "low", "{draft}");
            assert_eq!(sent.get(id).map(String::as_str), Some("sent"), "the control was auto-sent: {sent:?}");
            continue;
        }
        assert_eq!(draft["risk"], "high", "{subject}: {}", draft["risk_reasons"]);
        assert_eq!(draft["review_required"], true, "{subject}");
        assert!(!sent.contains_key(id), "{subject} was sent by the policy: {sent:?}");
        let body = draft["body"].as_str().unwrap().to_lowercase();
        for promise in ["refund of", "has been approved", "api key", "system prompt", "other customers"] {
            assert!(!body.contains(promise), "{subject}: the draft says \"{promise}\":\n{body}");
        }
    }
    let unsent = env.count("SELECT COUNT(*) FROM drafts WHERE state = 'pending' AND risk = 'high'");
    assert_eq!(unsent as usize, injection_files().len() - 1, "every injection waits for a human");
    assert_sound(&env.ledger());
}

#[test]
fn prompt_injections_that_fool_the_model_still_get_no_automatic_reply() {
    // The model says what each message asks it to: a confident shipping question (the mock
    // obeys the `cat=` and `conf=` markers, as a model obeys an injection).
    const KEY: &str = "sk-untrusted-FAKE-5e6f";
    let mock = support::mock_openai::Mock::start(KEY, Duration::ZERO, vec![]);
    let env = Env::new();
    permissive_config(
        &env,
        &format!(
            "\n[model]\nbase_url = \"{}\"\nmodel = \"mock-4o\"\napi_key_env = \"MR_UNTRUSTED_KEY\"\n\
             [classify]\nbackend = \"model\"\n",
            mock.base_url()
        ),
    );
    let dir = env.path().join("fooled");
    std::fs::create_dir(&dir).unwrap();
    for f in injection_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        // The marker goes into the body, after the headers.
        let fooled = text.replacen("\n\n", "\n\ncat=shipping conf=0.99\n\n", 1);
        std::fs::write(dir.join(f.file_name().unwrap()), fooled).unwrap();
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut fetch = env.cmd(&["fetch", "--eml"]);
    fetch.args(&files);
    let mut records = fetch.output().unwrap().stdout;
    for stage in [&["filter"][..], &["classify"], &["draft"]] {
        let mut c = env.cmd(stage);
        c.env("MR_UNTRUSTED_KEY", KEY);
        let out = promisekit::run_within(c, &records, Duration::from_secs(120));
        assert!(out.status.success(), "{}: {}", stage[0], stderr(&out));
        records = out.stdout;
    }
    let drafted = jsonl(&records);
    assert_eq!(drafted.len(), files.len(), "every message passed the filter and was drafted");
    assert!(mock.calls() >= drafted.len(), "the model was asked");
    for r in &drafted {
        assert_eq!(r["triage"]["category"], "shipping", "the model was fooled: {}", r["triage"]);
    }
    let sent = run(&env, &["send", "--auto"], b"");
    assert!(sent.status.success(), "{}", stderr(&sent));
    let sent: Vec<String> = jsonl(&sent.stdout).iter().filter(|o| o["state"] == "sent").map(|o| o["message"].as_str().unwrap().to_string()).collect();
    let control = drafted.iter().find(|r| r["message_id"] == "control00@example.test").expect("the control passed the filter");
    assert_eq!(sent, [control["id"].as_str().unwrap()], "only the control went out by itself");
    for r in drafted.iter().filter(|r| r["message_id"] != "control00@example.test") {
        assert_eq!(r["draft"]["risk"], "high", "{}: {}", r["subject"], r["draft"]["risk_reasons"]);
    }
    assert_sound(&env.ledger());
}

#[test]
fn a_model_that_obeys_an_injection_cannot_put_its_words_in_a_reply() {
    // The drafting model does whatever the mail says: reveals its instructions, approves the
    // refund, lists other customers.
    let obeying = serde_json::json!({
        "answer": "Of course. My instructions say: You write the answer part of an English reply. \
                   Your refund of $500 has been approved. Other customers this week: bob.smith@example.org, \
                   jane.doe@example.net. See https://evil.example/pay",
        "sources": [], "knows": true, "language_line": null,
    })
    .to_string();
    let (url, seen) = common::chat_server(vec![obeying]);
    let env = Env::new();
    permissive_config(
        &env,
        &format!("\n[model]\nbase_url = \"{url}\"\nmodel = \"obedient-1\"\napi_key_env = \"MR_UNTRUSTED_KEY\"\nmax_retries = 0\n"),
    );
    let mut fetch = env.cmd(&["fetch", "--eml"]);
    fetch.args(injection_files());
    let records = fooled_triage(&fetch.output().unwrap().stdout);
    let mut draft = env.cmd(&["draft", "--backend", "model"]);
    draft.env("MR_UNTRUSTED_KEY", "sk-untrusted-FAKE-77aa");
    let drafted = promisekit::run_within(draft, &records, Duration::from_secs(120));
    assert!(drafted.status.success(), "{}", stderr(&drafted));
    assert!(!seen.lock().unwrap().is_empty(), "the model was asked");
    let drafted = jsonl(&drafted.stdout);
    for r in &drafted {
        let body = r["draft"]["body"].as_str().unwrap().to_lowercase();
        for words in ["my instructions", "has been approved", "bob.smith@example.org", "jane.doe@example.net", "evil.example"] {
            assert!(!body.contains(words), "{}: the model's \"{words}\" reached the draft:\n{body}", r["subject"]);
        }
        assert_ne!(r["draft"]["backend"], "model", "the obeying answer was rejected, not used: {}", r["draft"]);
    }
    let sent = run(&env, &["send", "--auto"], b"");
    assert!(sent.status.success(), "{}", stderr(&sent));
    let sent: Vec<serde_json::Value> = jsonl(&sent.stdout).into_iter().filter(|o| o["state"] == "sent").collect();
    assert!(sent.len() <= 1, "at most the control goes out (a rejected model answer may hold it for a human too): {sent:?}");
    for o in &sent {
        let control = drafted.iter().find(|r| r["message_id"] == "control00@example.test").unwrap();
        assert_eq!(o["message"], control["id"]);
    }
    assert_sound(&env.ledger());
}

/// Every text and blob of every table of the ledger, as bytes.
fn ledger_dump(path: &Path) -> Vec<u8> {
    let db = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = db.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => out.extend_from_slice(b),
                    other => out.extend(format!("{other:?}").into_bytes()),
                }
                out.push(b'\n');
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn no_secret_of_the_config_reaches_records_drafts_the_ledger_logs_or_webhooks() {
    const API_KEY: &str = "sk-FAKE-7d41c9e0b2a84f16";
    const HOOK_TOKEN: &str = "HOOKTOKEN-3e9f1a77c2";
    const SIGN_SECRET: &str = "SIGNSECRET-b5d0e2f4a1";
    const WRONG_PASSWORD: &str = "WRONGPASS-91c3d5e7f9";
    const COMMAND_PASSWORD: &str = "CMDPASS-4f6a8c0e2b";
    const WRONG_KEY: &str = "sk-WRONG-c3d2e1f0a9b8";
    // A password command that prints the password and then fails: its output is still secret.
    const FAILING_COMMAND_OUTPUT: &str = "FAILCMD-2b4d6f8a0c";
    let hook = sink::Sink::start();
    // The model endpoint answers with the key it was sent when the key is wrong, as OpenAI does.
    let mock = support::mock_openai::Mock::start(API_KEY, Duration::ZERO, vec![]);
    let env = Env::new();
    let s = servers();
    permissive_config(
        &env,
        &format!(
            r#"
[model]
base_url = "{model_url}"
model = "gpt-4o-mini"
api_key_env = "MR_FAKE_API_KEY"

[[notify.webhooks]]
name = "team"
kind = "json"
url_env = "MR_FAKE_HOOK_URL"

[[notify.webhooks]]
name = "lark"
kind = "feishu"
url_env = "MR_FAKE_HOOK_URL"
secret_command = "printf {SIGN_SECRET}"

[accounts.broken]
smtp = {{ host = "127.0.0.1", port = {smtp}, tls = "starttls", user = "test", password_command = "printf {FAILING_COMMAND_OUTPUT}; exit 3", ca_file = "{ca}", from = "Broken <test@example.test>" }}

[accounts.other]
smtp = {{ host = "127.0.0.1", port = {smtp}, tls = "starttls", user = "test", password_env = "MR_FAKE_WRONG_PASSWORD", ca_file = "{ca}", from = "Other <test@example.test>" }}
imap = {{ host = "127.0.0.1", port = {imap}, tls = "starttls", user = "test", password_command = "printf {COMMAND_PASSWORD}", ca_file = "{ca}", sent_mailbox = "Sent" }}
"#,
            smtp = s.port("SMTP_PORT"),
            imap = s.port("IMAP_PORT"),
            ca = s.ca_file(),
            model_url = mock.base_url(),
        ),
    );
    let secret_env = |c: &mut std::process::Command| {
        c.env(PASSWORD_ENV, "secret")
            .env("MR_FAKE_API_KEY", API_KEY)
            .env("MR_FAKE_HOOK_URL", format!("{}?token={HOOK_TOKEN}", hook.url))
            .env("MR_FAKE_WRONG_PASSWORD", WRONG_PASSWORD);
    };
    let step = |args: &[&str], input: &[u8]| -> Output {
        let mut c = env.cmd(args);
        secret_env(&mut c);
        promisekit::run_within(c, input, Duration::from_secs(120))
    };
    let mut outputs: Vec<Output> = Vec::new();
    let mut fetch = env.cmd(&["-v", "fetch", "--eml"]);
    secret_env(&mut fetch);
    fetch.args(injection_files());
    let imported = fetch.output().unwrap();
    let records = fooled_triage(&imported.stdout);
    outputs.push(imported);
    let drafted = step(&["-vv", "draft"], &records);
    let drafted_records = drafted.stdout.clone();
    outputs.push(drafted);
    outputs.push(step(&["-v", "notify"], &drafted_records));
    outputs.push(step(&["review", "list", "--json"], b""));
    let first = jsonl(&drafted_records)[0]["draft"]["id"].as_str().unwrap().to_string();
    outputs.push(step(&["review", "show", "--json", &first], b""));
    // A send through the account whose password is wrong: the error names the account, not the password.
    outputs.push(step(&["review", "approve", "--queue", &first], b""));
    let refused = step(&["-vv", "send", "--account", "other", "--draft", &first], b"");
    assert!(stderr(&refused).contains("account \"other\""), "the failing account is named: {}", stderr(&refused));
    outputs.push(refused);
    let broken = step(&["-vv", "send", "--account", "broken", "--draft", &first], b"");
    assert!(stderr(&broken).contains("exit"), "the failing command is reported: {}", stderr(&broken));
    outputs.push(broken);
    outputs.push(step(&["-v", "send", "--auto"], b""));
    outputs.push(step(&["digest", "--format", "json"], b""));
    outputs.push(step(&["heartbeat", "--json"], b""));
    outputs.push(step(&["-vv", "classify", "--backend", "model", "--force"], &records));
    assert!(mock.calls() > 0, "the model was asked with the key");
    // The same with a wrong key: the endpoint's error quotes the key it got.
    let mut wrong = env.cmd(&["-vv", "classify", "--backend", "model", "--force"]);
    secret_env(&mut wrong);
    wrong.env("MR_FAKE_API_KEY", WRONG_KEY);
    let refused = promisekit::run_within(wrong, &records, Duration::from_secs(120));
    assert!(stderr(&refused).contains("401") || stderr(&refused).to_lowercase().contains("key"), "{}", stderr(&refused));
    outputs.push(refused);
    outputs.push(step(&["-v", "draft", "--backend", "model"], &records));

    let mut everything: Vec<u8> = Vec::new();
    for o in &outputs {
        everything.extend_from_slice(&o.stdout);
        everything.extend_from_slice(&o.stderr);
    }
    everything.extend(ledger_dump(&env.ledger()));
    for post in hook.posts() {
        everything.extend(post.to_string().into_bytes());
    }
    assert!(!hook.posts().is_empty(), "the webhooks were used");
    for secret in [API_KEY, HOOK_TOKEN, SIGN_SECRET, WRONG_PASSWORD, COMMAND_PASSWORD, WRONG_KEY, "sk-WRONG", FAILING_COMMAND_OUTPUT] {
        assert!(!contains(&everything, secret), "{secret} leaked");
    }
    assert!(!contains(&everything, "sk-FAKE"), "no part of the API key leaked");
}

/// `GET url` over plain HTTP: (status line and headers, body).
fn http_get(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_string(), body.to_string())
}

struct Server(std::process::Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn html_in_mail_never_runs_in_the_review_page() {
    const ATTACKS: &[&str] = &[
        "<script>document.title='pwned'</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(2)>",
        "<iframe src=\"javascript:alert(3)\"></iframe>",
        "</textarea><script>alert(4)</script>",
        "\"><script>alert(5)</script>",
        "<a href=\"javascript:alert(6)\">click</a>",
        "<style>body{display:none}</style>",
        "{{ 1000 + 337 }}{% raw %}",
    ];
    let env = Env::new();
    let port = reviewkit::free_port();
    env.write_config(&format!(
        "[team]\nname = \"Shop\"\nreview_url = \"http://127.0.0.1:{port}\"\n[review]\nlisten = \"127.0.0.1:{port}\"\n"
    ));
    let all = ATTACKS.join(" ");
    let subject = format!("Refund {}", ATTACKS[0]);
    let from = "\"<img src=x onerror=alert(9)>\" <evil@example.test>";
    let reply = format!("Hello,\n{all}\nBest");
    let seeded = reviewkit::seed(
        &env.ledger(),
        &reviewkit::Seed { from, subject: &subject, body: &all, reply: &reply, missing: &["<script>alert(8)</script>"], ..reviewkit::Seed::default() },
    );
    // An HTML-only mail through the real import, with an attachment named to attack.
    let html_mail = env.path().join("html.eml");
    std::fs::write(
        &html_mail,
        format!(
            "From: Mallory <mallory@example.test>\r\nSubject: {}\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"H\"\r\n\r\n--H\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
             <html><body><p>Where is my order?</p>{all}</body></html>\r\n--H\r\nContent-Type: text/plain\r\n\
             Content-Disposition: attachment; filename=\"<img src=x onerror=alert(10)>.txt\"\r\n\r\nx\r\n--H--\r\n",
            ATTACKS[1]
        ),
    )
    .unwrap();
    let imported = env.run(&["fetch", "--eml", html_mail.to_str().unwrap()], b"");
    let html_id = jsonl(&imported.stdout)[0]["id"].as_str().unwrap().to_string();
    let drafted = env.run(&["draft", "--quiet"], &imported.stdout);
    assert!(drafted.status.success(), "{}", stderr(&drafted));

    let _server = Server(env.cmd(&["review", "serve"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    reviewkit::wait_for_port(port, "mailroom review serve");
    let mut pages = Vec::new();
    for id in [&seeded.message, &html_id] {
        let link = String::from_utf8(env.run(&["review", "link", id], b"").stdout).unwrap();
        pages.push(http_get(link.trim()));
    }
    let listing = String::from_utf8(env.run(&["review", "link", "--listing"], b"").stdout).unwrap();
    pages.push(http_get(listing.trim()));
    for (head, body) in &pages {
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let csp = head.lines().find(|l| l.to_ascii_lowercase().starts_with("content-security-policy:")).expect("a CSP");
        assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline") && !csp.contains("script-src"), "{csp}");
        let lower = body.to_lowercase();
        for tag in ["<script", "<img", "<svg", "<iframe", "<style>body", "href=\"javascript:"] {
            assert!(!lower.contains(tag), "the page holds a live {tag}:\n{body}");
        }
        assert!(!body.contains("1337"), "a template expression in mail was evaluated");
    }
    assert!(pages[0].1.contains("&lt;script&gt;"), "the customer's text is shown, escaped");
    assert!(pages[1].1.contains("Where is my order?"), "{}", pages[1].1);
}

/// An approved draft replying to `message` with this subject and body.
fn approved_draft(ledger: &Path, message: &str, id: &str, subject: &str, body: &str) -> String {
    use mailroom::ledger::drafts::{NewDraft, insert_draft};
    let mut l = mailroom::ledger::Ledger::open(ledger).unwrap();
    let json = serde_json::json!({"review_required": true});
    l.write(|tx| {
        insert_draft(
            tx,
            &NewDraft {
                id,
                message,
                subject,
                body,
                risk: "high",
                category: Some("shipping"),
                priority: Some("P3"),
                confidence: Some(0.9),
                draft_json: &json,
            },
            None,
        )
    })
    .unwrap();
    l.transition_draft(id, mailroom::ledger::DraftState::Approved, "alice", None, None).unwrap();
    id.to_string()
}

/// Message-ID → raw message in the customer's Maildir.
fn delivered_copies(message_id: &str) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(servers().maildir("customer").join(sub)) else { continue };
        for e in entries.flatten() {
            let Ok(raw) = std::fs::read(e.path()) else { continue };
            if Headers::parse(&raw).get("message-id").is_some_and(|m| m.trim() == message_id) {
                found.push(raw);
            }
        }
    }
    found
}

#[test]
fn cr_and_lf_in_a_subject_or_a_name_never_add_a_header_to_a_sent_reply() {
    let env = Env::new();
    permissive_config(&env, "");
    let tag = format!("crlf{}", std::process::id());
    // Encoded words decode to CR and LF inside the name and the subject.
    let mail = env.path().join("crlf.eml");
    std::fs::write(
        &mail,
        format!(
            "From: =?utf-8?q?Ann=0D=0ABcc=3A_victim=40example.test=0D=0AX-Injected=3A_name?= <customer@example.test>\r\n\
             Reply-To: =?utf-8?q?Ann=0D=0ATo=3A_victim=40example.test?= <customer@example.test>\r\n\
             To: support@example.test\r\nSubject: =?utf-8?q?Hello=0D=0ABcc=3A_victim=40example.test=0D=0AX-Injected=3A_subject?=\r\n\
             Message-ID: <in-{tag}@example.test>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nWhere is my order?\r\n"
        ),
    )
    .unwrap();
    let imported = env.run(&["fetch", "--eml", mail.to_str().unwrap()], b"");
    let record = &jsonl(&imported.stdout)[0];
    assert!(record["subject"].as_str().unwrap().contains('\n') || record["from"]["name"].as_str().unwrap().contains('\n'),
        "the test needs a decoded CR/LF to attack with: {record}");
    let message = record["id"].as_str().unwrap().to_string();
    approved_draft(
        &env.ledger(),
        &message,
        &format!("d-{tag}"),
        "Re: Hello\r\nBcc: victim@example.test\r\nX-Injected: draft",
        // A lone dot ends an SMTP DATA; whatever follows it must stay in this message.
        "Hello Ann,\r\n.\r\nMAIL FROM:<victim@example.test>\r\nRCPT TO:<victim@example.test>\r\n\r\nBest regards",
    );

    let check = |raw: &[u8], what: &str| {
        // The Maildir copy has LF line ends, the message as sent CRLF.
        let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or_else(|| panic!("{what}: no header block: {text:?}"));
        for line in head.lines().filter(|l| !l.starts_with([' ', '\t'])) {
            let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
            assert!(!["bcc", "x-injected"].contains(&name.as_str()), "{what}: injected header {line:?}\n{head}");
        }
        let to: Vec<&str> = head.lines().filter(|l| l.starts_with("To:")).collect();
        assert_eq!(to.len(), 1, "{what}: one To header\n{head}");
        assert!(to[0].ends_with("<customer@example.test>"), "{what}: {}", to[0]);
        assert!(body.contains("\n.\nMAIL FROM:<victim@example.test>"), "{what}: the body is whole: {body}");
    };
    let preview = run(&env, &["send", "--dry-run"], b"");
    let p = &jsonl(&preview.stdout)[0];
    assert_eq!(p["to"], serde_json::json!(["customer@example.test"]), "{p}");
    check(p["raw"].as_str().unwrap().as_bytes(), "dry run");

    let sent = run(&env, &["send"], b"");
    let o = &jsonl(&sent.stdout)[0];
    assert_eq!(o["state"], "sent", "{o} {}", stderr(&sent));
    assert_eq!(o["to"], serde_json::json!(["customer@example.test"]));
    let message_id = o["message_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut copies = delivered_copies(&message_id);
    while copies.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        copies = delivered_copies(&message_id);
    }
    assert_eq!(copies.len(), 1, "delivered once to the customer");
    check(&copies[0], "delivered");
    assert!(!servers().maildir("victim").exists(), "nothing reached the victim");
    assert_sound(&env.ledger());
}
