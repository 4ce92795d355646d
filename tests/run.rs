//! `mailroom run`: the whole chain in one process leaves what the separate stages leave.

mod common;

use common::{Env, jsonl, stderr};

#[test]
fn run_over_the_sample_inbox_filters_classifies_and_drafts_every_customer_message() {
    let env = Env::new();
    let config = common::examples().join("config.toml");
    let mbox = common::examples().join("sample.mbox");
    let out = env
        .cmd(&["--config", config.to_str().unwrap(), "run", "--mbox", mbox.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let records = jsonl(&out.stdout);
    let labels: Vec<serde_json::Value> =
        jsonl(&std::fs::read(common::examples().join("labels.jsonl")).unwrap());
    let customers = labels.iter().filter(|l| l["verdict"] == "pass").count();
    // Every customer message comes out (the filter never drops a customer); a little spam may pass.
    assert!(records.len() >= customers, "{} records for {customers} customer messages", records.len());
    for r in &records {
        assert_eq!(r["filter"]["verdict"], "pass");
        assert!(r["triage"]["category"].is_string(), "no triage on {}", r["id"]);
        assert!(r["draft"]["body"].as_str().is_some_and(|b| !b.is_empty()), "no draft on {}", r["id"]);
    }
    // The ledger holds what separate stages would have stored, and the run row has per-stage counts.
    assert_eq!(env.count("SELECT COUNT(*) FROM messages"), labels.len() as i64);
    assert_eq!(env.count("SELECT COUNT(DISTINCT message) FROM stage_results WHERE stage = 'filter'"), labels.len() as i64);
    assert_eq!(env.count("SELECT COUNT(DISTINCT message) FROM stage_results WHERE stage = 'triage'"), records.len() as i64);
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts WHERE state = 'pending'"), records.len() as i64);
    let counts: String = env
        .db()
        .query_row("SELECT counts_json FROM runs WHERE command = 'run'", [], |r| r.get(0))
        .unwrap();
    let counts: serde_json::Value = serde_json::from_str(&counts).unwrap();
    assert_eq!(counts["fetched"], labels.len());
    assert_eq!(counts["drafted"], records.len());
    assert_eq!(counts["passed"].as_u64().unwrap() + counts["dropped"].as_u64().unwrap(), labels.len() as u64);

    // A second run finds nothing new and drafts nothing twice.
    let again = env
        .cmd(&["--config", config.to_str().unwrap(), "run", "--mbox", mbox.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(jsonl(&again.stdout).is_empty());
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts"), records.len() as i64);
}

#[test]
fn run_without_any_source_is_a_config_error() {
    let env = Env::new();
    env.write_config("[team]\nname = \"x\"\n");
    let out = env.run(&["run"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no IMAP account"), "{}", stderr(&out));
}

#[test]
fn drafting_several_messages_at_once_changes_nothing_but_the_time() {
    // The sample inbox has threads (a question, our request, the customer's answer) and orders
    // to look up: taken eight at a time they must come out as when taken one at a time.
    let config = common::examples().join("config.toml");
    let mbox = common::examples().join("sample.mbox");
    let mut outputs = Vec::new();
    for jobs in ["1", "8"] {
        let env = Env::new();
        let out = env
            .cmd(&["--config", config.to_str().unwrap(), "run", "-j", jobs, "--mbox", mbox.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let drafts: Vec<(String, String, String)> = env
            .db()
            .prepare("SELECT message, body, draft_json FROM drafts ORDER BY message")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let lookups = env.count("SELECT COUNT(*) FROM events WHERE kind = 'order.lookup'");
        outputs.push((jsonl(&out.stdout), drafts, lookups));
    }
    let (one, eight) = (&outputs[0], &outputs[1]);
    assert!(one.2 > 0, "the sample inbox has orders to look up");
    let ids = |records: &[serde_json::Value]| records.iter().map(|r| r["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&one.0), ids(&eight.0), "records come out in the same order");
    assert_eq!(one.0, eight.0, "the same records");
    assert_eq!(one.1, eight.1, "the same drafts in the ledger");
    assert_eq!(one.2, eight.2, "the same lookups");
}

#[test]
fn what_a_run_stopped_by_a_closed_pipe_left_the_next_run_takes_through_once() {
    use std::io::BufRead;
    let env = Env::new();
    let config = common::examples().join("config.toml");
    let mbox = common::examples().join("sample.mbox");
    let args = ["--config", config.to_str().unwrap(), "run", "--mbox", mbox.to_str().unwrap(), "-j", "1"];
    // `run | head -1`: the reader goes away after the first record.
    let mut first = env.cmd(&args).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(first.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.contains("\"draft\""), "a first record: {line}");
    first.wait().unwrap();
    let passed = env.count(
        "SELECT COUNT(*) FROM stage_results WHERE stage = 'filter' AND summary = 'pass'",
    );
    let messages = env.count("SELECT COUNT(*) FROM messages");
    // The run blocks on the full pipe a few records after the one read, and stops at the
    // next write once it is closed: most messages are left.
    let filtered_first = env.count("SELECT COUNT(DISTINCT message) FROM stage_results WHERE stage = 'filter'");
    assert!(filtered_first < messages, "the closed pipe stopped the run early ({filtered_first} of {messages} filtered)");

    // While another run takes them through (it holds the lock), a run leaves them alone.
    let holder = mailroom::stages::lock::LedgerLock::try_acquire(&env.ledger(), "leftovers").unwrap();
    assert!(holder.is_some());
    let beside = env.cmd(&args).output().unwrap();
    assert_eq!(beside.status.code(), Some(0), "{}", stderr(&beside));
    assert!(jsonl(&beside.stdout).is_empty(), "nothing taken twice");
    assert_eq!(env.count("SELECT COUNT(*) FROM runs WHERE command = 'run' AND checked_by IS NOT NULL"), 0);
    drop(holder);

    // The next run has nothing new to fetch, and takes the rest through first.
    let second = env.cmd(&args).output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(stderr(&second).contains("earlier run"), "it says why: {}", stderr(&second));
    let rest = jsonl(&second.stdout);
    assert!(!rest.is_empty());
    for r in &rest {
        assert!(r["draft"]["body"].is_string(), "no draft on {}", r["id"]);
    }
    let filtered = env.count("SELECT COUNT(DISTINCT message) FROM stage_results WHERE stage = 'filter'");
    assert_eq!(filtered, messages, "every message was filtered");
    let passed_now = env.count(
        "SELECT COUNT(DISTINCT message) FROM stage_results WHERE stage = 'filter' AND summary = 'pass'",
    );
    assert!(passed_now >= passed);
    assert_eq!(env.count("SELECT COUNT(DISTINCT message) FROM drafts"), passed_now, "every passing message has a draft");
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts"), passed_now, "none drafted twice");

    // Checked once: the run after that has nothing to do.
    let third = env.cmd(&args).output().unwrap();
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert!(jsonl(&third.stdout).is_empty());
    assert!(!stderr(&third).contains("earlier run"), "{}", stderr(&third));
    assert_eq!(env.count("SELECT COUNT(*) FROM runs WHERE command = 'run' AND checked_by IS NULL"), 1, "only the last is unchecked");
}
