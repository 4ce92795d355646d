//! `mailroom classify` with the embedded backend, end to end through the CLI.

mod common;

use common::{Env, examples, jsonl, stderr};
use serde_json::json;

fn eml(from: &str, date: &str, subject: &str, body: &str, n: u32) -> String {
    format!(
        "From: {from}\r\nTo: support@shop.example\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <m{n}@customer.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

fn fetch(env: &Env, files: &[std::path::PathBuf]) -> Vec<u8> {
    let mut args = vec!["fetch".to_string(), "--eml".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.run(&args, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    out.stdout
}

#[test]
fn the_sample_inbox_gets_a_full_triage_stored_once() {
    let env = Env::new();
    let mut files: Vec<_> = std::fs::read_dir(examples().join("inbox")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let records = fetch(&env, &files);
    let n = jsonl(&records).len();
    assert!(n >= 50, "{n}");
    let out = env.run(&["classify"], &records);
    assert!(out.status.success(), "{}", stderr(&out));
    let recs = jsonl(&out.stdout);
    assert_eq!(recs.len(), n);
    let categories = ["shipping", "refund", "return", "complaint", "product", "address_change", "cancellation", "payment", "account", "other"];
    for r in &recs {
        let t = &r["triage"];
        assert!(categories.contains(&t["category"].as_str().unwrap()), "{t}");
        assert!(["P1", "P2", "P3", "P4"].contains(&t["priority"].as_str().unwrap()), "{t}");
        assert!(["angry", "negative", "neutral", "positive"].contains(&t["sentiment"].as_str().unwrap()));
        assert_eq!(t["language"].as_str().unwrap().len(), 2);
        let c = t["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
        assert!(t["escalate"].is_boolean() && t["review_required"].is_boolean());
        assert!(!t["reasons"].as_array().unwrap().is_empty());
        for k in ["order_ids", "tracking_numbers", "emails", "phones"] {
            assert!(t["entities"][k].is_array(), "{k}");
        }
        assert_eq!(t["backend"], "embedded");
        assert!(r["subject"].is_string() && r["id"].is_string(), "other keys pass through");
    }
    let languages: std::collections::BTreeSet<&str> = recs.iter().map(|r| r["triage"]["language"].as_str().unwrap()).collect();
    for l in ["en", "de", "fr", "es", "zh"] {
        assert!(languages.contains(l), "{languages:?}");
    }
    assert_eq!(env.count("SELECT COUNT(*) FROM stage_results WHERE stage = 'triage'"), n as i64);
    // Reclassifying the ledger gives the same answers and adds no versions.
    let exported = env.run(&["export"], b"");
    let again = env.run(&["classify"], &exported.stdout);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(jsonl(&again.stdout).len(), n);
    assert_eq!(env.count("SELECT COUNT(*) FROM stage_results WHERE stage = 'triage'"), n as i64);
    let summary = env.count("SELECT COUNT(*) FROM stage_results WHERE stage = 'triage' AND summary IS NOT NULL AND model LIKE 'mailroom-triage%'");
    assert_eq!(summary, n as i64);
}

#[test]
fn repeated_contact_and_vip_senders_are_escalated() {
    let env = Env::new();
    env.write_config("[team]\nvip = [\"@bigbuyer.example\"]\n\n[classify]\nrepeat_contact_days = 7\n");
    let dir = env.path();
    let msgs = [
        ("jo@customer.example", "Mon, 02 Nov 2026 09:00:00 +0000", "Where is my order?", "Hi, my parcel has not arrived yet. Order #55120."),
        ("jo@customer.example", "Wed, 04 Nov 2026 09:00:00 +0000", "Still no parcel", "Hello again, still nothing. Order #55120."),
        ("ann@other.example", "Wed, 04 Nov 2026 10:00:00 +0000", "Where is my order?", "My parcel has not arrived. Order #55121."),
        ("lee@bigbuyer.example", "Wed, 04 Nov 2026 11:00:00 +0000", "Question", "Is the teapot available in blue?"),
    ];
    let mut files = Vec::new();
    for (i, (from, date, subject, body)) in msgs.iter().enumerate() {
        let p = dir.join(format!("{i}.eml"));
        std::fs::write(&p, eml(from, date, subject, body, i as u32)).unwrap();
        files.push(p);
    }
    let records = fetch(&env, &files);
    let out = env.run(&["classify"], &records);
    assert!(out.status.success(), "{}", stderr(&out));
    let recs = jsonl(&out.stdout);
    let by_subject = |s: &str, from: &str| {
        recs.iter().find(|r| r["subject"] == s && r["from"]["address"] == from).unwrap()["triage"].clone()
    };
    let first = by_subject("Where is my order?", "jo@customer.example");
    let second = by_subject("Still no parcel", "jo@customer.example");
    let other = by_subject("Where is my order?", "ann@other.example");
    let vip = by_subject("Question", "lee@bigbuyer.example");
    assert_eq!(first["escalate"], false, "{first}");
    assert_eq!(second["escalate"], true, "{second}");
    assert_eq!(second["priority"], "P2");
    assert!(second["reasons"].to_string().contains("repeated contact (1 earlier message"), "{second}");
    assert_eq!(other["escalate"], false);
    assert_eq!(first["entities"]["order_ids"], json!(["55120"]));
    assert_eq!(vip["escalate"], true);
    assert!(vip["reasons"].to_string().contains("VIP"), "{vip}");
}

#[test]
fn bad_lines_are_reported_and_skipped_and_unknown_records_are_not_stored() {
    let env = Env::new();
    let input = "{\"id\":\"x1\",\"subject\":\"Refund\",\"text\":\"I want a refund\",\"user_key\":42}\nnot json\n{\"subject\":\"no id\"}\n{\"id\":\"x2\",\"text\":\"Where is my parcel?\"}\n";
    let out = env.run(&["classify"], input.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("stdin:2"), "{err}");
    assert!(err.contains("stdin:3"), "{err}");
    assert!(err.contains("not in the ledger"), "{err}");
    let recs = jsonl(&out.stdout);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["user_key"], 42);
    assert_eq!(recs[0]["triage"]["category"], "refund");
    assert_eq!(recs[1]["triage"]["category"], "shipping");
    let strict = env.run(&["--strict", "classify"], input.as_bytes());
    assert_eq!(strict.status.code(), Some(1));
    assert_eq!(jsonl(&strict.stdout).len(), 1);
}

#[test]
fn a_team_retrains_with_its_own_taxonomy_and_labels() {
    let env = Env::new();
    env.write_config(
        "[classify]\ncategories = [\n  { name = \"warranty\", description = \"broken after weeks of use, guarantee claims\" },\n  { name = \"shipping\" },\n  { name = \"refund\" },\n]\n",
    );
    let labels = env.path().join("labels.jsonl");
    let mut lines = String::new();
    for (i, t) in [
        "My coffee grinder broke after three months, is it still under guarantee?",
        "The toaster stopped working after half a year, can you repair it under warranty?",
        "Mein Mixer ist nach acht Monaten defekt, greift die Garantie?",
        "The handle of the pan came off after some weeks of normal use.",
        "Ma bouilloire ne chauffe plus après un an, est-elle sous garantie ?",
        "The vacuum's motor died after five months, please honour the warranty.",
    ]
    .iter()
    .enumerate()
    {
        lines += &format!("{}\n", json!({"subject": format!("Problem {i}"), "text": t, "category": "warranty"}));
    }
    lines += &format!("{}\n", json!({"text": "Where is my parcel?", "category": "shipping"}));
    lines += &format!("{}\n", json!({"text": "I am a bad label", "category": "nonsense"}));
    std::fs::write(&labels, lines).unwrap();
    let out = env.run(&["classify", "--train", "--labels", labels.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1), "one bad label line: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("labels.jsonl:8") && err.contains("not in the taxonomy"), "{err}");
    assert!(err.contains("trained"), "{err}");
    assert!(env.path().join("classify-model.bin").exists());
    let input = json!({"id": "w", "subject": "Kettle", "text": "My kettle broke after four months of use. Is that covered by the warranty?"}).to_string() + "\n";
    let out = env.run(&["classify"], input.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    let t = &jsonl(&out.stdout)[0]["triage"];
    assert_eq!(t["category"], "warranty", "{t}");
    assert!(t["model"].as_str().unwrap().starts_with("mailroom-triage-team"), "{t}");

    let none = Env::new();
    let out = none.run(&["classify", "--train"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no category labels"));
}
