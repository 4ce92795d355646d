//! `mailroom classify --backend model` against a mock OpenAI-compatible server.

mod common;
mod support {
    pub mod mock_openai;
}

use std::time::{Duration, Instant};

use common::{Env, jsonl, stderr};
use serde_json::json;
use support::mock_openai::{Mock, Scripted};

const KEY: &str = "sk-test-FAKE-KEY-9f3a7c1e5b";

fn env_for(mock: &Mock, extra: &str) -> Env {
    let env = Env::new();
    env.write_config(&format!(
        "[model]\nbase_url = \"{}\"\nmodel = \"mock-4o\"\napi_key_env = \"MOCK_OPENAI_KEY\"\nmax_retries = 3\ntimeout_secs = 10\n\n[classify]\nbackend = \"model\"\n{extra}",
        mock.base_url()
    ));
    env
}

fn run(env: &Env, args: &[&str], stdin: &[u8], key: &str) -> std::process::Output {
    let mut c = env.cmd(args);
    c.env("MOCK_OPENAI_KEY", key);
    c.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        let data = stdin.to_vec();
        std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
    }
    child.wait_with_output().expect("wait")
}

fn records(n: usize) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..n {
        let cat = ["refund", "shipping", "payment", "return"][i % 4];
        let r = json!({"id": format!("m{i:04}"), "subject": format!("Message {i}"), "text": format!("Hello, message number {i}. cat={cat}"), "from": {"address": format!("c{i}@example.com")}});
        out.push_str(&r.to_string());
        out.push('\n');
    }
    out.into_bytes()
}

fn model_events(env: &Env) -> Vec<(String, Option<i64>, Option<i64>, String)> {
    let db = env.db();
    let mut stmt = db.prepare("SELECT status, tokens_in, latency_ms, COALESCE(detail_json, '') FROM events WHERE kind = 'model.call' ORDER BY id").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn a_thousand_messages_at_j8_are_each_classified_once_and_a_rerun_is_free() {
    let mock = Mock::start(KEY, Duration::from_millis(2), vec![]);
    let env = env_for(&mock, "");
    let input = records(1000);
    let out = run(&env, &["classify", "-j", "8"], &input, KEY);
    assert!(out.status.success(), "{}", stderr(&out));
    let recs = jsonl(&out.stdout);
    assert_eq!(recs.len(), 1000);
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..1000).map(|i| format!("m{i:04}")).collect();
    assert_eq!(ids, expected, "output keeps input order, each id once");
    assert_eq!(mock.calls(), 1000);
    let per = mock.per_message();
    assert_eq!(per.len(), 1000);
    assert!(per.values().all(|&n| n == 1), "a message was asked about twice");
    assert!(mock.bad_requests().is_empty(), "{:?}", mock.bad_requests());
    for (i, r) in recs.iter().enumerate() {
        let t = &r["triage"];
        assert_eq!(t["backend"], "model");
        assert_eq!(t["model"], "mock-4o");
        assert_eq!(t["category"], ["refund", "shipping", "payment", "return"][i % 4]);
        assert!(t["prompt_version"].as_str().unwrap().starts_with("classify-v1+"));
    }
    let events = model_events(&env);
    assert_eq!(events.len(), 1000);
    assert!(events.iter().all(|(s, tokens, latency, _)| s == "ok" && *tokens == Some(312) && latency.is_some()));
    assert_eq!(env.count("SELECT COUNT(*) FROM model_cache"), 1000);

    let again = run(&env, &["classify", "-j", "8"], &input, KEY);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(mock.calls(), 1000, "the rerun made calls");
    let recs2 = jsonl(&again.stdout);
    assert_eq!(recs2.len(), 1000);
    assert_eq!(recs2[7]["triage"]["category"], recs[7]["triage"]["category"]);
    assert!(recs2[7]["triage"]["reasons"][0].as_str().unwrap().contains("cached"));
    assert_eq!(model_events(&env).len(), 1000);

    let forced = run(&env, &["classify", "--force"], &records(3), KEY);
    assert!(forced.status.success());
    assert_eq!(mock.calls(), 1003, "--force asks again");
}

#[test]
fn identical_messages_in_one_run_cost_one_call() {
    let mock = Mock::start(KEY, Duration::from_millis(50), vec![]);
    let env = env_for(&mock, "");
    let line = |id: &str| json!({"id": id, "subject": "Where is my parcel?", "text": "It has not arrived."}).to_string();
    let input = format!("{}\n{}\n{}\n", line("a"), line("b"), line("c"));
    let out = run(&env, &["classify", "-j", "4"], input.as_bytes(), KEY);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout).len(), 3);
    assert_eq!(mock.calls(), 1);
}

#[test]
fn rate_limit_is_retried_after_the_time_the_server_asks() {
    let mock = Mock::start(KEY, Duration::ZERO, vec![Scripted::RateLimit("1".into())]);
    let env = env_for(&mock, "");
    let started = Instant::now();
    let out = run(&env, &["classify"], &records(1), KEY);
    let took = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mock.calls(), 2);
    assert!(took >= Duration::from_secs(1), "did not wait for Retry-After: {took:?}");
    assert_eq!(jsonl(&out.stdout)[0]["triage"]["backend"], "model");
    let statuses: Vec<String> = model_events(&env).into_iter().map(|e| e.0).collect();
    assert_eq!(statuses, ["rate_limited", "ok"]);
}

#[test]
fn server_errors_and_retry_after_ms_are_retried() {
    let mock = Mock::start(KEY, Duration::ZERO, vec![Scripted::ServerError(500), Scripted::RateLimitMs(20)]);
    let env = env_for(&mock, "");
    let out = run(&env, &["classify"], &records(1), KEY);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mock.calls(), 3);
    let statuses: Vec<String> = model_events(&env).into_iter().map(|e| e.0).collect();
    assert_eq!(statuses, ["server_error", "rate_limited", "ok"]);
    assert!(model_events(&env)[0].3.contains("\"http_status\":500"));
}

#[test]
fn junk_answers_fall_back_to_the_embedded_model_and_are_reported() {
    let mock = Mock::start(KEY, Duration::ZERO, vec![]);
    let env = env_for(&mock, "");
    let input = [
        json!({"id": "ok1", "subject": "x", "text": "cat=shipping please"}),
        json!({"id": "bad", "subject": "Refund", "text": "[junk] I want my money back for order #4471"}),
        json!({"id": "ok2", "subject": "y", "text": "cat=payment thanks"}),
    ]
    .iter()
    .map(|v| v.to_string() + "\n")
    .collect::<String>();
    let out = run(&env, &["classify"], input.as_bytes(), KEY);
    assert_eq!(out.status.code(), Some(1), "a fallback is a partial failure");
    let err = stderr(&out);
    assert!(err.contains("classified by the embedded model"), "{err}");
    let recs = jsonl(&out.stdout);
    assert_eq!(recs.len(), 3, "every record is written");
    let bad = &recs[1]["triage"];
    assert_eq!(bad["backend"], "embedded");
    assert_eq!(bad["review_required"], true);
    assert_eq!(bad["category"], "refund");
    assert!(bad["reasons"][0].as_str().unwrap().contains("unusable answer"), "{bad}");
    assert_eq!(recs[0]["triage"]["category"], "shipping");
    assert_eq!(recs[2]["triage"]["category"], "payment");
    // junk is retried once, then given up; nothing junk is cached
    assert_eq!(mock.per_message().values().copied().max(), Some(2));
    assert_eq!(env.count("SELECT COUNT(*) FROM model_cache"), 2);
}

#[test]
fn low_confidence_becomes_other_with_review() {
    let mock = Mock::start(KEY, Duration::ZERO, vec![]);
    let env = env_for(&mock, "min_confidence = 0.6\n");
    let input = json!({"id": "m", "subject": "hm", "text": "cat=refund conf=0.31"}).to_string() + "\n";
    let out = run(&env, &["classify"], input.as_bytes(), KEY);
    assert!(out.status.success(), "{}", stderr(&out));
    let t = &jsonl(&out.stdout)[0]["triage"];
    assert_eq!(t["category"], "other");
    assert_eq!(t["review_required"], true);
    assert!(t["reasons"].as_array().unwrap().iter().any(|r| r.as_str().unwrap().contains("best guess refund")), "{t}");
}

#[test]
fn the_api_key_never_reaches_stderr_records_or_ledger() {
    let mock = Mock::start(KEY, Duration::ZERO, vec![Scripted::ServerError(502)]);
    let env = env_for(&mock, "");
    let out = run(&env, &["-v", "classify"], &records(5), KEY);
    assert!(out.status.success(), "{}", stderr(&out));
    // A wrong key: the server's 401 body quotes it, mailroom must not.
    let wrong = "sk-test-WRONG-KEY-0000c0ffee";
    let bad = run(&env, &["-v", "classify", "--force", "-j", "1"], &records(3), wrong);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(err.contains("authentication failed"), "{err}");
    assert_eq!(jsonl(&bad.stdout).len(), 3, "records still come out, classified by the embedded model");
    assert_eq!(mock.calls(), 1 + 5 + 1, "after an auth failure no more calls are made");
    drop(env.db());
    let mut ledger_bytes = Vec::new();
    for entry in std::fs::read_dir(env.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().starts_with("ledger.sqlite") {
            ledger_bytes.extend(std::fs::read(&p).unwrap());
        }
    }
    for secret in [KEY, wrong] {
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr), ("stdout", &bad.stdout), ("stderr", &bad.stderr), ("ledger", &ledger_bytes)] {
            let hay = String::from_utf8_lossy(bytes);
            assert!(!hay.contains(secret), "the key appeared in {what}");
            assert!(!hay.contains(&secret[8..20]), "part of the key appeared in {what}");
        }
    }
}

#[test]
fn model_backend_without_a_model_section_is_a_config_error() {
    let env = Env::new();
    env.write_config("[classify]\nbackend = \"model\"\n");
    let out = env.run(&["classify"], &records(1));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("[model]"));
}

#[test]
fn an_interrupted_batch_resumes_without_paying_twice() {
    let mock = Mock::start(KEY, Duration::from_millis(150), vec![]);
    let env = env_for(&mock, "");
    let input = records(40);
    let mut c = env.cmd(&["classify", "-j", "2"]);
    c.env("MOCK_OPENAI_KEY", KEY);
    let inpath = env.path().join("in.jsonl");
    std::fs::write(&inpath, &input).unwrap();
    c.stdin(std::fs::File::open(&inpath).unwrap()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    while mock.calls() < 4 {
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    let first = jsonl(&out.stdout);
    assert!(!first.is_empty() && first.len() < 40, "{}", first.len());
    assert!(first.iter().all(|r| r["triage"]["backend"] == "model"));
    let calls_before = mock.calls();
    assert!(calls_before < 40);
    let rest = run(&env, &["classify", "-j", "8"], &input, KEY);
    assert!(rest.status.success(), "{}", stderr(&rest));
    assert_eq!(jsonl(&rest.stdout).len(), 40);
    assert_eq!(mock.calls(), 40, "every message was paid for exactly once over both runs");
}

#[test]
fn model_results_are_stored_as_versions_with_model_and_prompt_version() {
    let mock = Mock::start(KEY, Duration::ZERO, vec![]);
    let env = env_for(&mock, "");
    let eml = env.path().join("m.eml");
    std::fs::write(
        &eml,
        "From: ann@customer.example\r\nTo: support@shop.example\r\nSubject: Refund please\r\nDate: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <r1@customer.example>\r\n\r\nI want a refund for order #44120. cat=refund\r\n",
    )
    .unwrap();
    let fetched = run(&env, &["fetch", "--eml", eml.to_str().unwrap()], b"", KEY);
    assert!(fetched.status.success(), "{}", stderr(&fetched));
    let out = run(&env, &["classify"], &fetched.stdout, KEY);
    assert!(out.status.success(), "{}", stderr(&out));
    let db = env.db();
    let (backend, model, version, summary): (String, String, String, String) = db
        .query_row("SELECT backend, model, prompt_version, summary FROM stage_results WHERE stage = 'triage'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    assert_eq!((backend.as_str(), model.as_str(), summary.as_str()), ("model", "mock-4o", "refund"));
    assert!(version.starts_with("classify-v1+"));
    let event_message: String = db.query_row("SELECT message FROM events WHERE kind = 'model.call'", [], |r| r.get(0)).unwrap();
    assert_eq!(event_message, jsonl(&fetched.stdout)[0]["id"].as_str().unwrap());
    // The embedded backend on the same message adds a second version; the latest is current.
    let embedded = run(&env, &["classify", "--backend", "embedded"], &fetched.stdout, KEY);
    assert!(embedded.status.success());
    assert_eq!(env.count("SELECT COUNT(*) FROM stage_results WHERE stage = 'triage'"), 2);
    assert_eq!(jsonl(&embedded.stdout)[0]["triage"]["backend"], "embedded");
}
