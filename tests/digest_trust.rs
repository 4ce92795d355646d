//! The weekly acceptance figures of `mailroom digest --since 7d` over a ledger built through
//! the real CLI with a known set of decisions, checked against counts worked out by hand; and
//! `mailroom send --auto --shadow`, which records what the auto-send policy would do and
//! sends nothing.
//!
//! No mail server: mail is imported from .eml files, replies people wrote in their mail
//! client are imported the same way (a team address answering in the customer's thread), and
//! no draft is sent (the account's SMTP server does not exist).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use common::{Env, jsonl, stderr};
use serde_json::{Value, json};

fn config(env: &Env) -> String {
    format!(
        r#"[team]
name = "Northwind Goods Support"
timezone = "UTC"
domains = ["shop.example"]

[accounts.support]
smtp = {{ host = "127.0.0.1", port = 1, tls = "none", from = "Northwind Goods Support <support@shop.example>", timeout_secs = 2 }}

[draft]
knowledge_dir = "{knowledge}"

[policy]
auto_send = false
categories = ["shipping"]
min_confidence = 0.9
daily_cap = 20
approve_sends = "queue"

[cases]
waiting_customer_days = 2
on_timeout = "close"
"#,
        knowledge = common::examples().join("knowledge").display(),
    ) + &format!("# ledger of {}\n", env.path().display())
}

fn ok(env: &Env, args: &[&str], input: &[u8]) -> Vec<Value> {
    let out = env.run(args, input);
    assert!(out.status.success(), "mailroom {args:?} failed:\n{}", stderr(&out));
    jsonl(&out.stdout)
}

fn lines(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

/// A date `hours` before the test began, as a Date header (one base time, so differences
/// between Date headers are exact).
fn ago(hours: i64) -> String {
    static BASE: OnceLock<DateTime<Utc>> = OnceLock::new();
    (*BASE.get_or_init(Utc::now) - Duration::hours(hours)).to_rfc2822()
}

/// A customer asking where their order is (a shipping question with the order number).
fn where_is_my_order(tag: &str, hours: i64) -> String {
    format!(
        "From: Customer {tag} <{tag}@customer.example>\r\nTo: support@shop.example\r\n\
         Subject: Where is my order #NW-48213? ({tag})\r\nDate: {}\r\nMessage-ID: <{tag}@customer.example>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Hi there,\r\n\r\nI ordered the enamel casserole dish on 24 October (order #NW-48213) and the\r\n\
         confirmation said it would be dispatched within 1-2 working days. It's now been a week and\r\n\
         I haven't had a shipping email or any tracking number. Could you check where it is?\r\n\r\nThanks,\r\n{tag}\r\n",
        ago(hours)
    )
}

/// A reply a person of the team wrote in their own mail client to customer `tag`.
fn team_reply(tag: &str, hours: i64, text: &str) -> String {
    format!(
        "From: Maria Lopez <maria@shop.example>\r\nTo: Customer {tag} <{tag}@customer.example>\r\n\
         Subject: Re: Where is my order #NW-48213? ({tag})\r\nDate: {}\r\nMessage-ID: <reply-{tag}@shop.example>\r\n\
         In-Reply-To: <{tag}@customer.example>\r\nReferences: <{tag}@customer.example>\r\n\
         User-Agent: Mozilla Thunderbird\r\n\r\n{text}\r\n\r\nMaria\r\n",
        ago(hours)
    )
}

/// The sample spam message, arriving now.
fn spam() -> String {
    let raw = std::fs::read_to_string(common::examples().join("inbox/002-cheap-meds-spam.eml")).expect("sample spam");
    raw.lines()
        .map(|l| if l.starts_with("Date:") { format!("Date: {}", ago(1)) } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn write(env: &Env, name: &str, raw: &str) -> String {
    let path: PathBuf = env.path().join(format!("{name}.eml"));
    std::fs::write(&path, raw).expect("write eml");
    path.display().to_string()
}

/// The record with the triage classify would give it: the category and confidence are what
/// the policy looks at, so the test fixes them.
fn triaged(record: &Value, category: &str, confidence: f64) -> Value {
    let mut r = record.clone();
    r["triage"] = json!({
        "category": category, "priority": "P3", "sentiment": "neutral", "language": "en",
        "confidence": confidence, "escalate": false, "reasons": [], "backend": "test"
    });
    r
}

/// Imports files; returns the emitted records by customer tag (the part before `@`).
fn fetch(env: &Env, files: &[String]) -> BTreeMap<String, Value> {
    let mut args = vec!["fetch", "--eml"];
    args.extend(files.iter().map(String::as_str));
    ok(env, &args, b"")
        .into_iter()
        .map(|r| (r["from"]["address"].as_str().unwrap_or("").split('@').next().unwrap_or("").to_string(), r))
        .collect()
}

/// `draft` for these records; returns draft ids by customer tag.
fn draft(env: &Env, records: &[(&str, Value)]) -> BTreeMap<String, String> {
    let input: Vec<Value> = records.iter().map(|(_, r)| r.clone()).collect();
    let out = ok(env, &["draft"], lines(&input).as_bytes());
    assert_eq!(out.len(), records.len());
    records
        .iter()
        .zip(out)
        .map(|((tag, _), r)| {
            let id = r["draft"]["id"].as_str().unwrap_or_else(|| panic!("no draft for {tag}: {r}")).to_string();
            (tag.to_string(), id)
        })
        .collect()
}

fn shadow(env: &Env) -> Vec<Value> {
    ok(env, &["send", "--auto", "--shadow"], b"")
}

fn draft_states(env: &Env) -> Vec<String> {
    let db = env.db();
    let mut stmt = db.prepare("SELECT state FROM drafts ORDER BY id").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

fn case_of(env: &Env, draft: &str) -> String {
    env.db()
        .query_row(
            "SELECT cm.case_id FROM case_messages cm JOIN drafts d ON d.message = cm.message WHERE d.id = ?1",
            [draft],
            |r| r.get(0),
        )
        .unwrap()
}

/// Nine customer messages of the last days (a–g, w1, w2) and a spam message, imported and
/// filtered; drafts for a–f. Returns the env, the draft ids by tag, and the passed records.
fn drafted() -> (Env, BTreeMap<String, String>, BTreeMap<String, Value>) {
    let env = Env::new();
    env.write_config(&config(&env));
    let mut files = Vec::new();
    for (tag, hours) in [("a", 5), ("b", 5), ("c", 5), ("d", 5), ("e", 5), ("f", 5), ("g", 5), ("w1", 96), ("w2", 2)] {
        files.push(write(&env, tag, &where_is_my_order(tag, hours)));
    }
    files.push(write(&env, "spam", &spam()));
    let fetched = fetch(&env, &files);
    assert_eq!(fetched.len(), 10, "{:?}", fetched.keys());
    let passed: BTreeMap<String, Value> =
        ok(&env, &["filter"], lines(&fetched.values().cloned().collect::<Vec<_>>()).as_bytes())
            .into_iter()
            .map(|r| (r["from"]["address"].as_str().unwrap().split('@').next().unwrap().to_string(), r))
            .collect();
    assert_eq!(passed.len(), 9, "the spam is dropped, the customers pass: {:?}", passed.keys());
    // The policy allows shipping at confidence ≥ 0.9 and low risk (refund drafts are high risk).
    let r = |tag: &'static str, category: &str, confidence: f64| (tag, triaged(&passed[tag], category, confidence));
    let drafts = draft(
        &env,
        &[
            r("a", "shipping", 0.95),
            r("b", "shipping", 0.95),
            r("c", "shipping", 0.80), // below min_confidence
            r("d", "refund", 0.95),   // not in policy.categories, and high risk
            r("e", "refund", 0.95),
            r("f", "shipping", 0.95),
        ],
    );
    (env, drafts, passed)
}

#[test]
fn shadow_auto_send_records_the_verdicts_and_sends_nothing() {
    let (env, drafts, _) = drafted();
    // policy.auto_send is false: a real `send --auto` holds everything …
    let out = env.run(&["send", "--auto"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(jsonl(&out.stdout).is_empty());
    assert!(stderr(&out).contains("auto-send is off"), "{}", stderr(&out));
    // … while the shadow run says what it would have done with each pending draft.
    let verdicts = shadow(&env);
    let got: BTreeMap<&str, &str> =
        verdicts.iter().map(|v| (v["draft"].as_str().unwrap(), v["verdict"].as_str().unwrap())).collect();
    let want: BTreeMap<&str, &str> = [
        ("a", "would_send"),
        ("b", "would_send"),
        ("c", "would_hold"),
        ("d", "would_hold"),
        ("e", "would_hold"),
        ("f", "would_send"),
    ]
    .into_iter()
    .map(|(tag, v)| (drafts[tag].as_str(), v))
    .collect();
    assert_eq!(got, want);
    let c = verdicts.iter().find(|v| v["draft"] == drafts["c"].as_str()).unwrap();
    assert!(c["reason"].as_str().unwrap().contains("confidence 0.80 is below 0.90"), "{c}");
    assert_eq!((c["category"].as_str(), c["risk"].as_str(), c["confidence"].as_f64()), (Some("shipping"), Some("low"), Some(0.8)));

    // Nothing was sent or even tried, and every draft is still pending.
    assert_eq!(draft_states(&env), vec!["pending"; 6]);
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind LIKE 'smtp.%'"), 0);
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind IN ('draft.approved', 'draft.sending')"), 0);
    // Once per draft: a second run records nothing new.
    assert!(shadow(&env).is_empty());
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'policy.shadow'"), 6);
    let detail: String = env
        .db()
        .query_row("SELECT detail_json FROM events WHERE kind = 'policy.shadow' AND draft = ?1", [&drafts["a"]], |r| r.get(0))
        .unwrap();
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["verdict"], "would_send");
    assert_eq!(detail["category"], "shipping");
    // --shadow only makes sense with --auto.
    assert_eq!(env.run(&["send", "--shadow"], b"").status.code(), Some(2));
}

/// A figure of the digest's `acceptance` object.
fn figure<'a>(d: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(&d["acceptance"], |v, k| &v[k])
}

#[test]
fn digest_figures_over_known_decisions_match_counts_by_hand() {
    let (env, drafts, passed) = drafted();
    // Shadow a–f (twice: recorded once). Verdicts: a, b, f would send; c, d, e would hold.
    assert_eq!(shadow(&env).len(), 6);
    assert!(shadow(&env).is_empty());
    // g is drafted after the shadow runs: decided, but never shadowed.
    let g = draft(&env, &[("g", triaged(&passed["g"], "shipping", 0.95))]);

    // The decisions, through the review commands.
    let review = |args: &[&str], input: &[u8]| ok(&env, &[&["review"][..], args].concat(), input);
    review(&["approve", &drafts["a"], "--queue", "--as", "alice"], b""); // as written
    review(&["edit", &drafts["b"], "--body-file", "-", "--as", "bob"], b"Hello,\n\nYour parcel left today.\n\nMaria\n");
    review(&["approve", &drafts["b"], "--queue", "--as", "bob"], b""); // edited, then approved
    review(&["reject", &drafts["c"], "--reason", "wrong order", "--as", "carol"], b"");
    review(&["approve", &drafts["d"], "--queue", "--as", "alice"], b""); // as written
    review(&["approve", &g["g"], "--queue", "--as", "alice"], b""); // as written
    // f stays pending.

    // Maria answers e, w1 and w2 from her mail client. e's answer asks nothing: e's draft
    // becomes handled and its case resolved. w1 and w2 are asked a question: their cases wait
    // on the customer (w1 since 72 hours ago, w2 since 1 hour ago).
    let replies = [
        write(&env, "reply-e", &team_reply("e", 3, "Your parcel is on its way; tracking follows today.")),
        write(&env, "reply-w1", &team_reply("w1", 72, "Could you send us the order number, please?")),
        write(&env, "reply-w2", &team_reply("w2", 1, "Could you send us a photo of the label, please?")),
    ];
    fetch(&env, &replies);
    assert_eq!(env.count(&format!("SELECT COUNT(*) FROM drafts WHERE id = '{}' AND state = 'handled'", drafts["e"])), 1);
    // The waiting timeout (2 days, close): w1's case is cancelled, w2's still waits.
    let swept = ok(&env, &["cases", "sweep"], b"");
    assert_eq!(swept.len(), 1, "{swept:?}");
    assert_eq!(swept[0]["action"], "closed");
    // Someone closes c's case straight in the database: a state change without its event.
    let c_case = case_of(&env, &drafts["c"]);
    env.db().execute("UPDATE cases SET state = 'resolved' WHERE id = ?1", [&c_case]).unwrap();

    let out = env.run(&["digest", "--since", "7d", "--format", "json"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let d: Value = serde_json::from_slice(&out.stdout).expect("digest JSON");

    // Cases opened: the nine customers (the spam's case is filtered out). Resolved: e's, by
    // Maria's answer (c's was closed without an event, so no move is counted). Cancelled: w1.
    assert_eq!(figure(&d, "cases_opened"), 9);
    assert_eq!(figure(&d, "cases_resolved"), 1);
    assert_eq!((d["cases"]["opened"].as_i64(), d["cases"]["cancelled"].as_i64()), (Some(9), Some(1)));

    // Reception: 10 messages received (Maria's three replies are the team's own). Covered:
    // the spam (filtered out) and a, d, g (approved as written), f (pending, untouched) = 5.
    // Not covered: b (edited), c (rejected), e (handled), w1, w2 (never drafted).
    assert_eq!(
        figure(&d, "reception"),
        &json!({"received": 10, "filtered_out": 1, "drafted": 4, "covered": 5, "share": 0.5})
    );

    // Review pass rate: decided a, b, c, d, e, g = 6; as written a, d, g = 3.
    assert_eq!(figure(&d, "review"), &json!({"decided": 6, "approved_as_written": 3, "share": 0.5}));

    // Shadow agreement. shipping: a, b, c, f shadowed (a, b, f would send); a, b, c decided;
    // a (would send, approved as written) and c (would hold, rejected) agree, b (would send,
    // edited) does not: 2 of 3, one would-send overruled. refund: d, e shadowed (would hold),
    // both decided; e (handled) agrees, d (approved as written) does not: 1 of 2.
    let shadow_rows: Vec<Value> = figure(&d, "shadow").as_array().unwrap().clone();
    let row = |c: &str| shadow_rows.iter().find(|r| r["category"] == c).unwrap_or_else(|| panic!("{c}: {shadow_rows:?}"));
    let counts = |r: &Value| {
        ["shadowed", "would_send", "decided", "agreed", "would_send_overruled"].map(|k| r[k].as_i64().unwrap())
    };
    assert_eq!(counts(row("shipping")), [4, 3, 3, 2, 1]);
    assert_eq!(counts(row("refund")), [2, 0, 2, 1, 0]);
    assert_eq!(counts(row("all")), [6, 3, 5, 3, 1]);
    assert!((row("shipping")["share"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(row("refund")["share"], 0.5);
    assert_eq!(row("all")["share"], 0.6);
    assert_eq!(shadow_rows.len(), 3);
    // The agreement events say who decided what.
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'policy.agreement'"), 5);
    let human: String = env
        .db()
        .query_row(
            "SELECT json_extract(detail_json, '$.human') FROM events WHERE kind = 'policy.agreement' AND draft = ?1",
            [&drafts["e"]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(human, "handled");

    // Waiting timeouts: w1 and w2 waited on the customer; w1 timed out.
    assert_eq!(figure(&d, "waiting_timeouts"), &json!({"waited": 2, "timed_out": 1, "share": 0.5}));

    // First replies (all from Maria's mail client, times from the Date headers): e after
    // 5h − 3h = 120 min, w1 after 96h − 72h = 1440 min, w2 after 2h − 1h = 60 min: median 120.
    assert_eq!(figure(&d, "first_reply"), &json!({"count": 3, "median_minutes": 120.0}));

    // Evidence: the nine live cases; c's has a state change without its event.
    assert_eq!(
        figure(&d, "evidence"),
        &json!({"cases": 9, "complete": 8, "share": 8.0 / 9.0, "incomplete_cases": [c_case]})
    );

    // The trust table agrees: shipping a, b, c, g decided (a, g as written); refund d, e.
    let trust: BTreeMap<String, [i64; 5]> = d["trust"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let n = |k: &str| t[k].as_i64().unwrap();
            (t["category"].as_str().unwrap().to_string(), [n("decided"), n("approved_unchanged"), n("approved_edited"), n("rejected"), n("handled")])
        })
        .collect();
    assert_eq!(trust["shipping"], [4, 2, 1, 1, 0]);
    assert_eq!(trust["refund"], [2, 1, 0, 0, 1]);

    // Every rendering shows the figures.
    for (format, needle) in [
        ("markdown", "Review pass rate: 50% (3 of 6 decided drafts approved as written)"),
        ("html", "<li>Waiting timeouts: 1 of 2 cases waiting on the customer timed out (50%)</li>"),
        ("table", "Shadow policy, shipping: agreed 2/3 (67%); 4 shadowed, 3 would send; 1 would-send overruled"),
    ] {
        let out = env.run(&["digest", "--since", "7d", "--format", format], b"");
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(needle), "{format}:\n{text}");
        assert!(text.contains("Evidence: 8 of 9 cases"), "{format}:\n{text}");
    }
}
