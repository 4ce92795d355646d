//! `mailroom digest` on a ledger built from the bundled sample inbox, with filter verdicts,
//! triage and drafts added through the library at known times, so every figure is known.
//!
//! The team works in Asia/Shanghai (UTC+8): a window of local days starts at 16:00 UTC, so
//! several messages fall on a different day than their UTC date, which the figures check.

mod common;
mod sink;

use std::path::Path;
use std::process::Command;

use mailroom::ledger::drafts::{NewDraft, insert_draft};
use mailroom::ledger::results::{NewResult, Stage, add_result};
use mailroom::ledger::{DraftState, Ledger};
use serde_json::{Value, json};

use common::{Env, examples, stderr};

const CONFIG: &str = r#"
[team]
name = "Northwind Goods"
timezone = "Asia/Shanghai"
review_url = "https://support.example/review/"
[review]
sla_hours = 24
"#;

/// The window every figure below is about: 3–6 November in Shanghai.
const WINDOW: [&str; 4] = ["--since", "2026-11-03", "--until", "2026-11-07"];

/// File number (as in `examples/inbox/NNN-*.eml`) → record id.
struct Inbox {
    ids: Vec<(String, String)>,
}

impl Inbox {
    fn id(&self, number: &str) -> &str {
        &self.ids.iter().find(|(f, _)| f.starts_with(&format!("inbox/{number}-"))).expect("file number").1
    }
}

fn minutes_after(t: &str, m: i64) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(t).expect("rfc3339");
    (t + chrono::TimeDelta::minutes(m)).with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Imports the sample inbox, then adds each message's labelled verdict and triage (five
/// minutes after it arrived) and the drafts of the plan below.
fn sample_ledger(env: &Env) -> Inbox {
    env.write_config(CONFIG);
    let mbox = examples().join("sample.mbox");
    let out = env.run(&["fetch", "--mbox", mbox.to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let records = common::jsonl(&out.stdout);
    let labels: Vec<Value> = std::fs::read_to_string(examples().join("labels.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), labels.len(), "one record per labelled message");

    let mut ledger = Ledger::open(&env.ledger()).unwrap();
    let mut ids = Vec::new();
    for (record, label) in records.iter().zip(&labels) {
        let file = label["file"].as_str().unwrap();
        let raw = std::fs::read(examples().join(file)).unwrap();
        let message_id = record["message_id"].as_str().unwrap();
        assert!(String::from_utf8_lossy(&raw).contains(message_id), "{file} is not record {message_id}");
        let id = record["id"].as_str().unwrap().to_string();
        let arrived = record["date"].as_str().unwrap().to_string();
        let verdict = label["verdict"].as_str().unwrap();
        let filter = json!({"verdict": verdict, "reasons": []});
        add(&mut ledger, &id, Stage::Filter, verdict, &filter, &minutes_after(&arrived, 1));
        if verdict == "pass" {
            let category = label["category"].as_str().unwrap();
            // The VIP's angry mail and a smashed-plates complaint are escalated.
            let escalate = file.contains("/041-") || file.contains("/040-");
            let triage = json!({"category": category, "priority": label["priority"], "escalate": escalate});
            add(&mut ledger, &id, Stage::Triage, category, &triage, &minutes_after(&arrived, 5));
        }
        ids.push((file.to_string(), id));
    }
    let inbox = Inbox { ids };

    // (file, minutes to draft, what happened next). Times are minutes after arrival unless absolute.
    use Next::*;
    let plan: &[(&str, i64, Next)] = &[
        // In the window:
        ("026", 30, Stays),
        ("028", 60, Rejected { by: "alice", at: 120 }),
        ("041", 20, Sent { by: "alice", approved: 60, sent: 65 }),
        ("051", 40, Stays),
        ("021", 10, Sent { by: "policy", approved: 10, sent: 12 }),
        ("031", 50, Failed { by: "bob", approved: 90, failed: 100 }),
        ("022", 15, Handled { by: "bob", at: 45 }),
        // In the previous window (30 Oct – 2 Nov):
        ("009", 25, SentAt { by: "bob", approved: "2026-11-03T09:00:00Z", sent: "2026-11-03T09:05:00Z" }),
        ("001", 5, Sent { by: "carol", approved: 35, sent: 40 }),
        ("013", 45, Stays),
    ];
    for (number, after, next) in plan {
        let id = inbox.id(number).to_string();
        let arrived: String =
            ledger.conn().query_row("SELECT date_utc FROM messages WHERE id = ?1", [&id], |r| r.get(0)).unwrap();
        let draft = format!("draft-{number}");
        let json = json!({});
        let new = NewDraft {
            id: &draft,
            message: &id,
            subject: "Re: your message",
            body: "Hello",
            risk: "low",
            category: None,
            priority: None,
            confidence: None,
            draft_json: &json,
        };
        ledger.write(|tx| insert_draft(tx, &new, None)).unwrap();
        let mut move_to = |to: DraftState, by: &str| {
            ledger.transition_draft(&draft, to, by, None, None).unwrap();
        };
        match next {
            Stays => {}
            Rejected { by, .. } => move_to(DraftState::Rejected, by),
            Handled { by, .. } => move_to(DraftState::Handled, by),
            Sent { by, .. } | SentAt { by, .. } => {
                move_to(DraftState::Approved, by);
                move_to(DraftState::Sending, "send");
                move_to(DraftState::Sent, "send");
            }
            Failed { by, .. } => {
                move_to(DraftState::Approved, by);
                move_to(DraftState::Sending, "send");
                move_to(DraftState::Failed, "send");
            }
        }
        // Then put every time where the plan says.
        let at = |m: i64| minutes_after(&arrived, m);
        let set = |sql: &str, values: &[&str]| {
            let mut params: Vec<&dyn rusqlite::ToSql> = vec![&draft];
            for v in values {
                params.push(v);
            }
            ledger.conn().execute(sql, params.as_slice()).unwrap();
        };
        let created = at(*after);
        set("UPDATE drafts SET created_at = ?2, updated_at = ?2 WHERE id = ?1", &[&created]);
        match next {
            Stays => {}
            Rejected { at: m, .. } | Handled { at: m, .. } => {
                set("UPDATE drafts SET decided_at = ?2, updated_at = ?2 WHERE id = ?1", &[&at(*m)])
            }
            Sent { approved, sent, .. } => set(
                "UPDATE drafts SET decided_at = ?2, sent_at = ?3, updated_at = ?3 WHERE id = ?1",
                &[&at(*approved), &at(*sent)],
            ),
            SentAt { approved, sent, .. } => {
                set("UPDATE drafts SET decided_at = ?2, sent_at = ?3, updated_at = ?3 WHERE id = ?1", &[approved, sent])
            }
            Failed { approved, failed, .. } => {
                set("UPDATE drafts SET decided_at = ?2, updated_at = ?3 WHERE id = ?1", &[&at(*approved), &at(*failed)])
            }
        }
    }
    inbox
}

enum Next {
    Stays,
    Rejected { by: &'static str, at: i64 },
    Handled { by: &'static str, at: i64 },
    Sent { by: &'static str, approved: i64, sent: i64 },
    SentAt { by: &'static str, approved: &'static str, sent: &'static str },
    Failed { by: &'static str, approved: i64, failed: i64 },
}

fn add(ledger: &mut Ledger, id: &str, stage: Stage, summary: &str, result: &Value, at: &str) {
    let r = NewResult {
        message: id,
        stage,
        summary,
        backend: "test",
        model: "labels",
        prompt_version: "1",
        result,
        run_id: None,
    };
    ledger.write(|tx| add_result(tx, &r)).unwrap();
    ledger
        .conn()
        .execute(
            "UPDATE stage_results SET created_at = ?3 WHERE message = ?1 AND stage = ?2",
            rusqlite::params![id, stage.as_str(), at],
        )
        .unwrap();
}

fn digest_json(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["digest", "--json"];
    all.extend_from_slice(args);
    let out = env.run(&all, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("digest --json prints one JSON object")
}

fn pairs(list: &Value) -> Vec<(String, i64)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["count"].as_i64().unwrap()))
        .collect()
}

fn owned(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

#[test]
fn every_figure_of_a_window_of_the_sample_inbox() {
    let env = Env::new();
    let inbox = sample_ledger(&env);
    let d = digest_json(&env, &WINDOW);

    assert_eq!(d["team"], "Northwind Goods");
    assert_eq!(d["timezone"], "Asia/Shanghai");
    let window = json!({
        "start": "2026-11-02T16:00:00Z", "end": "2026-11-06T16:00:00Z",
        "local_start": "2026-11-03 00:00", "local_end": "2026-11-07 00:00", "label": "2026-11-03 – 2026-11-06"
    });
    assert_eq!(d["window"], window);
    assert_eq!(d["previous_window"]["start"], "2026-10-29T16:00:00Z");
    assert_eq!(d["previous_window"]["end"], "2026-11-02T16:00:00Z");
    assert_eq!(d["previous_window"]["label"], "2026-10-30 – 2026-11-02");

    let counts = json!({
        "new": 34, "passed": 25, "dropped": 9, "triaged": 25, "drafted": 7, "pending": 3,
        "approved": 3, "sent": 3, "auto_sent": 1, "handled": 1, "rejected": 1, "failed": 1
    });
    assert_eq!(d["counts"], counts);
    let previous = json!({
        "new": 18, "passed": 11, "dropped": 7, "triaged": 11, "drafted": 3, "pending": 2,
        "approved": 1, "sent": 1, "auto_sent": 0, "handled": 0, "rejected": 0, "failed": 0
    });
    assert_eq!(d["previous"], previous);
    let change = json!({
        "new": 16, "passed": 14, "dropped": 2, "triaged": 14, "drafted": 4, "pending": 1,
        "approved": 2, "sent": 2, "auto_sent": 1, "handled": 1, "rejected": 1, "failed": 1
    });
    assert_eq!(d["change"], change);

    let f = &d["filter"];
    assert_eq!(
        pairs(&f["verdicts"]),
        owned(&[
            ("pass", 25),
            ("spam", 3),
            ("blank", 1),
            ("test", 1),
            ("autoreply", 2),
            ("bounce", 1),
            ("bulk", 1),
            ("duplicate", 0)
        ])
    );
    assert_eq!((f["filtered"].as_i64(), f["unfiltered"].as_i64()), (Some(34), Some(0)));
    assert!((f["spam_ratio"].as_f64().unwrap() - 3.0 / 34.0).abs() < 1e-9);
    assert_eq!((f["dropped"].as_i64(), f["model_calls_saved"].as_i64()), (Some(9), Some(18)));

    // Pending at the end: 026 (2d 23h 44m), 051 (49m) and 013 from the previous window (4d 4h 22m).
    let p = &d["pending"];
    assert_eq!((p["count"].as_i64(), p["overdue"].as_i64(), p["sla_hours"].as_i64()), (Some(3), Some(2), Some(24)));
    let hours = |h: i64, m: i64, s: i64| (h * 3600 + m * 60 + s) as f64 / 3600.0;
    assert!((p["oldest_age_hours"].as_f64().unwrap() - hours(100, 22, 25)).abs() < 1e-9, "{p}");
    assert!((p["median_age_hours"].as_f64().unwrap() - hours(71, 44, 9)).abs() < 1e-9, "{p}");

    assert_eq!(
        pairs(&d["categories"]),
        owned(&[
            ("shipping", 6),
            ("complaint", 5),
            ("payment", 3),
            ("refund", 3),
            ("address_change", 2),
            ("product", 2),
            ("return", 2),
            ("cancellation", 1),
            ("other", 1)
        ])
    );
    assert_eq!(pairs(&d["priorities"]), owned(&[("P1", 4), ("P2", 10), ("P3", 8), ("P4", 3)]));

    // First drafts 10, 15, 20, 30, 40, 50, 60 minutes after arrival; sends after 12 min,
    // 65 min, and 36h 0m 40s (009, approved the morning after the previous window).
    assert_eq!(d["response"]["first_draft"], json!({"count": 7, "median_minutes": 30.0}));
    assert_eq!(d["response"]["send"], json!({"count": 3, "median_minutes": 65.0}));

    let urgent: Vec<(String, String, bool, String, String, Value)> = d["urgent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["priority"].as_str().unwrap().to_string(),
                s["escalate"].as_bool().unwrap(),
                s["sender"].as_str().unwrap().to_string(),
                s["link"].as_str().unwrap().to_string(),
                s["draft_state"].clone(),
            )
        })
        .collect();
    let link = |n: &str| format!("https://support.example/review/m/{}", inbox.id(n));
    let row = |n: &str, p: &str, e: bool, sender: &str, state: Value| {
        (inbox.id(n).to_string(), p.to_string(), e, sender.to_string(), link(n), state)
    };
    assert_eq!(
        urgent,
        vec![
            row("041", "P1", true, "Richard Hale <ceo@bigretail.example>", json!("sent")),
            row("026", "P1", false, "Ryan Cooper <ryan.cooper@mailhub.example>", json!("pending")),
            row("028", "P1", false, "Kevin O'Brien <kevin.obrien@mailhub.example>", json!("rejected")),
            row("051", "P1", false, "Margaret Wilson <maggie.wilson@postbox.example>", json!("pending")),
            row("040", "P2", true, "Ahmed Hassan <ahmed.hassan@mailhub.example>", Value::Null),
        ]
    );
    assert_eq!(d["urgent"][1]["subject"], "Your electric kettle overheated and caught fire!!");
    assert_eq!(d["urgent"][1]["category"], "complaint");
    assert_eq!(d["urgent"][1]["arrived_at"], "2026-11-03T15:45:51Z");

    let volume: Vec<(String, i64, i64)> = d["volume"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (v["date"].as_str().unwrap().to_string(), v["messages"].as_i64().unwrap(), v["dropped"].as_i64().unwrap())
        })
        .collect();
    let mut expected: Vec<(String, i64, i64)> = (24..=31).map(|d| (format!("2026-10-{d}"), 0, 0)).collect();
    for (day, n, dropped) in [(1, 7, 2), (2, 11, 5), (3, 9, 2), (4, 8, 2), (5, 9, 2), (6, 8, 3)] {
        expected.push((format!("2026-11-0{day}"), n, dropped));
    }
    assert_eq!(volume, expected);
}

#[test]
fn a_calendar_day_is_compared_with_the_day_before() {
    let env = Env::new();
    sample_ledger(&env);
    let d = digest_json(&env, &["--date", "2026-11-06"]);
    assert_eq!(d["window"]["start"], "2026-11-05T16:00:00Z");
    assert_eq!(d["window"]["end"], "2026-11-06T16:00:00Z");
    assert_eq!(d["window"]["label"], "2026-11-06");
    assert_eq!(d["previous_window"]["label"], "2026-11-05");
    assert_eq!(
        (d["counts"]["new"].as_i64(), d["previous"]["new"].as_i64(), d["change"]["new"].as_i64()),
        (Some(8), Some(9), Some(-1))
    );
    assert_eq!(d["counts"]["dropped"], 3);
    // Only 051 (P1) arrived on the 6th among the urgent ones.
    let urgent: Vec<&str> = d["urgent"].as_array().unwrap().iter().map(|s| s["priority"].as_str().unwrap()).collect();
    assert_eq!(urgent, ["P1", "P2"]);
}

#[test]
fn markdown_shows_the_comparison_and_the_samples() {
    let env = Env::new();
    let inbox = sample_ledger(&env);
    let mut args = vec!["digest", "--format", "markdown"];
    args.extend_from_slice(&WINDOW);
    let out = env.run(&args, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# Northwind Goods digest: 2026-11-03 – 2026-11-06\n"), "{text}");
    assert!(text.contains("| New messages | 34 | 18 | +16 |"), "{text}");
    assert!(text.contains("| Auto-sent (policy) | 1 | 0 | +1 |"), "{text}");
    assert!(text.contains("**Pending review:** 3 (oldest 4d 4h, median 2d 23h; 2 over the 24h SLA)"), "{text}");
    assert!(text.contains("spam ratio 9%"), "{text}");
    assert!(text.contains("9 dropped before classify and draft (18 model calls saved)"), "{text}");
    assert!(text.contains("arrival to first draft 30m (n=7), arrival to send 1h 5m (n=3)"), "{text}");
    assert!(text.contains(&format!("[review](https://support.example/review/m/{})", inbox.id("026"))), "{text}");
    assert!(text.contains("`        ▅█▇▆▇▆` 2026-10-24 to 2026-11-06, 52 messages (most in one day: 11)"), "{text}");
}

#[test]
fn table_lists_counts_samples_and_a_sparkline() {
    let env = Env::new();
    let inbox = sample_ledger(&env);
    let mut args = vec!["digest", "--format", "table"];
    args.extend_from_slice(&WINDOW);
    let out = env.run(&args, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let row = text.lines().find(|l| l.contains("New messages")).expect("a row for new messages");
    let cells: Vec<&str> = row.split(['│', '┆']).map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(cells, ["New messages", "34", "18", "+16"], "{text}");
    assert!(
        text.contains("P1 (escalated) shipping: URGENT: wholesale order #NW-47990 (PO-7781) still not delivered"),
        "{text}"
    );
    // Links stay on one line, whole, so a terminal can open them.
    assert!(
        text.lines().any(|l| l.trim() == format!("https://support.example/review/m/{}", inbox.id("041"))),
        "{text}"
    );
    assert!(text.contains("Messages per day 2026-10-24 to 2026-11-06:         ▅█▇▆▇▆ (most: 11)"), "{text}");
}

#[test]
fn notify_posts_the_digest_to_the_webhooks() {
    let env = Env::new();
    sample_ledger(&env);
    let hook = sink::Sink::start();
    env.write_config(&format!("{CONFIG}\n{}", hook.config()));
    let mut args = vec!["digest", "--deliver", "notify"];
    args.extend_from_slice(&WINDOW);
    let out = env.run(&args, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "nothing on stdout when delivering elsewhere");
    assert!(stderr(&out).contains("digest posted to webhook \"team\""), "{}", stderr(&out));
    let posts = hook.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["type"], "mailroom.digest");
    assert_eq!(posts[0]["title"], "Northwind Goods digest 2026-11-03 – 2026-11-06: 34 new, 3 pending, 3 sent");
    assert_eq!(posts[0]["data"]["counts"]["new"], 34);
    let text = posts[0]["text"].as_str().unwrap();
    assert!(text.contains("New 34 (+16) · dropped 9 (+2) · drafted 7 (+4) · sent 3 (+2) (auto 1)"), "{text}");
    assert!(text.contains("- P1 shipping: URGENT: wholesale order #NW-47990 (PO-7781) still not delivered"), "{text}");
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'notify.post' AND status = 'ok'"), 1);

    // A webhook that refuses: exit 1, the error names the webhook and not its URL.
    hook.answer(500);
    let out = env.run(&args, b"");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("webhook \"team\": HTTP 500"), "{err}");
    assert!(!err.contains(&hook.url), "{err}");
}

#[test]
fn mistakes_are_usage_errors() {
    let env = Env::new();
    env.write_config(CONFIG);
    for args in [
        &["digest", "--since", "3x"][..],
        &["digest", "--date", "6.11.2026"],
        &["digest", "--since", "2026-11-07", "--until", "2026-11-03"],
        &["digest", "--deliver", "email"],
    ] {
        let out = env.run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
    let out = env.run(&["digest", "--deliver", "notify"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("[[notify.webhooks]]"), "{}", stderr(&out));
    env.write_config("[team]\ntimezone = \"Mars/Olympus\"\n");
    let out = env.run(&["digest"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Mars/Olympus"), "{}", stderr(&out));
}

/// Runs headless Chromium on `page`: (screenshot PNG bytes, the rendered DOM).
fn chromium(page: &Path, dir: &Path) -> (Vec<u8>, String) {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
        .expect("Chromium is needed for this test: run scripts/install-deps.sh (apt-get install chromium)");
    let common = |profile: &str| {
        let mut c = Command::new(browser);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,2000",
        ])
        .arg(format!("--user-data-dir={}", dir.join(profile).display()));
        c
    };
    let png = dir.join("digest.png");
    let url = format!("file://{}", page.display());
    let shot = common("profile-shot").arg(format!("--screenshot={}", png.display())).arg(&url).output().unwrap();
    assert!(png.exists(), "no screenshot: {}", String::from_utf8_lossy(&shot.stderr));
    let dom = common("profile-dom").arg("--dump-dom").arg(&url).output().unwrap();
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    (std::fs::read(&png).unwrap(), String::from_utf8_lossy(&dom.stdout).into_owned())
}

#[test]
fn html_renders_in_a_browser_with_chart_and_tables() {
    let env = Env::new();
    sample_ledger(&env);
    let mut args = vec!["digest", "--format", "html"];
    args.extend_from_slice(&WINDOW);
    let out = env.run(&args, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let page = env.path().join("digest.html");
    std::fs::write(&page, &out.stdout).unwrap();

    let (png, dom) = chromium(&page, env.path());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert!(png.len() > 20_000, "screenshot is suspiciously small ({} bytes)", png.len());
    // Width and height from the IHDR chunk.
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 2000));

    assert!(dom.contains("<svg id=\"volume-chart\""), "no chart in the DOM");
    assert_eq!(dom.matches("class=\"bar\"").count(), 14, "one bar per day");
    for table in ["id=\"counts\"", "id=\"verdicts\"", "id=\"categories\"", "id=\"priorities\"", "id=\"urgent\""] {
        assert!(dom.contains(table), "table {table} missing from the DOM");
    }
    assert!(dom.contains("Your electric kettle overheated and caught fire!!"));
    // The HTML-only complaint with a script tag in its body must not have become markup:
    // subjects are text, so the DOM has no script element at all.
    assert!(!dom.contains("<script"), "a script element reached the page");
}
