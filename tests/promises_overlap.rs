//! Promises under overlap: timers overlap and people run commands by hand, so two copies of a
//! command (or several different ones) share one ledger at the same moment. Nothing is stored,
//! drafted, posted or sent twice, nobody sees "database is locked", and nothing is lost.
//!
//! Every test ends with `Ledger::check_integrity` on the shared ledger.

mod common;
mod promisekit;
mod reviewkit;
mod sink;
mod support {
    pub mod mock_openai;
}

use std::collections::HashSet;

use common::servers::servers;
use common::{Env, examples, jsonl, stderr};
use promisekit::{all_at_once, assert_never_locked, assert_sound, ids, mbox, repeated};

/// An env whose config is the sample inbox's, with absolute paths (knowledge, order lookup).
fn sample_env(extra: &str) -> Env {
    let env = Env::new();
    let ex = examples();
    env.write_config(&format!(
        "[team]\nname = \"Northwind Goods Support\"\ndomains = [\"shop.example\"]\ntimezone = \"UTC\"\n\
         review_url = \"http://127.0.0.1:8025\"\n\
         [draft]\nknowledge_dir = \"{}\"\norder_lookup_command = \"{}\"\n{extra}",
        ex.join("knowledge").display(),
        ex.join("order-lookup.sh").display()
    ));
    env
}

/// Imports the sample inbox and returns its records as JSONL (what `export` prints).
fn sample_records(env: &Env) -> Vec<u8> {
    let sample = examples().join("sample.mbox");
    let out = env.run(&["fetch", "--mbox", sample.to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let export = env.run(&["export"], b"");
    assert!(export.status.success(), "{}", stderr(&export));
    export.stdout
}

#[test]
fn three_imports_of_one_mailbox_at_once_store_and_emit_each_message_once() {
    let env = Env::new();
    let path = env.path().join("box.mbox");
    std::fs::write(&path, mbox("overlap", 600, 1500)).unwrap();
    let p = path.to_str().unwrap();
    let outs = all_at_once((0..3).map(|_| env.cmd(&["fetch", "--mbox", p])).collect(), b"");
    let mut emitted = Vec::new();
    for o in &outs {
        assert!(o.status.success(), "{}", stderr(o));
        assert_never_locked(o, "fetch");
        emitted.extend(ids(&o.stdout));
    }
    assert_eq!(repeated(&emitted), Vec::<String>::new(), "a message was emitted by two imports");
    assert_eq!(emitted.len(), 600, "every message is emitted by exactly one of the imports");
    assert_eq!(env.count("SELECT COUNT(*) FROM messages"), 600);
    assert_eq!(env.count("SELECT COUNT(*) FROM raw_sources"), 600);
    assert_sound(&env.ledger());
}

#[test]
fn commands_started_together_on_a_new_ledger_create_it_once() {
    let env = Env::new();
    let mut cmds = Vec::new();
    for i in 0..3 {
        let file = env.path().join(format!("{i}.eml"));
        std::fs::write(&file, promisekit::message("fresh", i, 200)).unwrap();
        cmds.push(env.cmd(&["fetch", "--eml", file.to_str().unwrap()]));
    }
    cmds.push(env.cmd(&["export"]));
    cmds.push(env.cmd(&["review", "list", "--json"]));
    cmds.push(env.cmd(&["digest", "--format", "json"]));
    for (i, o) in all_at_once(cmds, b"").iter().enumerate() {
        assert!(o.status.success(), "command {i}: {}", stderr(o));
        assert_never_locked(o, "a first command");
    }
    let migrations = mailroom::ledger::migrations::MIGRATIONS.len() as i64;
    assert_eq!(env.count("SELECT COUNT(*) FROM schema_migrations"), migrations);
    assert_eq!(env.count("SELECT COUNT(*) FROM messages"), 3);
    assert_sound(&env.ledger());
}

#[test]
fn readers_and_writers_never_see_database_is_locked_while_a_big_import_writes() {
    let env = sample_env("");
    let records = sample_records(&env);
    let path = env.path().join("big.mbox");
    std::fs::write(&path, mbox("busy", 1500, 3000)).unwrap();
    let mut import = env
        .cmd(&["fetch", "--mbox", path.to_str().unwrap(), "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Start once the import's first commit is in (500 of 1500 messages): from then on it is
    // writing, whatever the machine's speed.
    let mut stored = promisekit::Progress::new(&env.ledger(), "SELECT COUNT(*) FROM messages WHERE mailbox = 'big.mbox'");
    while stored.now() == 0 && import.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let mut rounds = 0;
    loop {
        let done = import.try_wait().unwrap().is_some();
        let outs = all_at_once(
            vec![
                env.cmd(&["export", "--limit", "50"]),
                env.cmd(&["review", "list", "--json"]),
                env.cmd(&["digest", "--format", "json"]),
                env.cmd(&["ledger", "check", "--json"]),
                env.cmd(&["draft", "--quiet"]),
            ],
            &records,
        );
        for (name, o) in ["export", "review list", "digest", "ledger check", "draft"].iter().zip(&outs) {
            assert_never_locked(o, name);
            assert!(o.status.success(), "{name} failed while an import was writing: {}", stderr(o));
        }
        if done {
            break;
        }
        rounds += 1;
    }
    let import = import.wait_with_output().unwrap();
    assert!(import.status.success(), "{}", stderr(&import));
    assert_never_locked(&import, "the import");
    assert!(rounds >= 1, "the other commands ran while the import was writing ({rounds} rounds)");
    assert_eq!(env.count("SELECT COUNT(*) FROM messages WHERE mailbox = 'big.mbox'"), 1500);
    assert_sound(&env.ledger());
}

#[test]
fn two_draft_runs_on_the_same_records_keep_one_live_draft_per_message() {
    let env = sample_env("");
    let records = sample_records(&env);
    let messages = jsonl(&records).len() as i64;
    for _ in 0..2 {
        let outs = all_at_once(vec![env.cmd(&["draft"]), env.cmd(&["draft"])], &records);
        for o in &outs {
            assert!(o.status.success(), "{}", stderr(o));
            assert_never_locked(o, "draft");
            assert_eq!(jsonl(&o.stdout).len() as i64, messages, "each run passes every record on");
        }
    }
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts"), messages, "one draft per message, however many runs");
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts WHERE state <> 'pending'"), 0);
    assert_eq!(env.count("SELECT COUNT(*) FROM stage_results WHERE stage = 'draft'"), messages);
    assert_sound(&env.ledger());
}

#[test]
fn two_notify_runs_on_the_same_records_post_each_record_once() {
    let hook = sink::Sink::start();
    let env = sample_env(&hook.config());
    let records = sample_records(&env);
    let some: Vec<u8> = String::from_utf8(records).unwrap().lines().take(12).flat_map(|l| format!("{l}\n").into_bytes()).collect();
    let outs = all_at_once(vec![env.cmd(&["notify"]), env.cmd(&["notify"]), env.cmd(&["notify"])], &some);
    for o in &outs {
        assert!(o.status.success(), "{}", stderr(o));
        assert_never_locked(o, "notify");
    }
    let posted: Vec<String> = hook.posts().iter().map(|p| p["message"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(repeated(&posted), Vec::<String>::new(), "the chat got the same message twice");
    assert_eq!(posted.len(), 12);
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'notify.post' AND status = 'ok'"), 12);
    assert_sound(&env.ledger());
}

#[test]
fn reviewers_deciding_the_same_draft_at_once_are_applied_one_after_the_other() {
    let env = Env::new();
    let seeded: Vec<reviewkit::Seeded> = (0..8)
        .map(|i| {
            let subject = format!("Question {i}");
            reviewkit::seed(&env.ledger(), &reviewkit::Seed { subject: &subject, ..reviewkit::Seed::default() })
        })
        .collect();
    for s in &seeded {
        let outs = all_at_once(
            vec![
                env.cmd(&["review", "approve", "--queue", &s.draft]),
                env.cmd(&["review", "reject", "--reason", "wrong tone", &s.draft]),
                env.cmd(&["review", "handle", "--note", "phoned", &s.draft]),
                env.cmd(&["review", "reject", "--reason", "duplicate", &s.draft]),
            ],
            b"",
        );
        let mut succeeded = 0;
        for o in &outs {
            assert_never_locked(o, "review");
            if o.status.success() {
                succeeded += 1;
            } else {
                assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
                assert!(stderr(o).contains(&s.draft), "a refused decision names the draft: {}", stderr(o));
            }
        }
        // Each decision that succeeded is in the history once, in the order it was applied,
        // and the draft is in the state the last one left.
        let moves: Vec<String> = reviewkit::draft_events(&env.ledger(), &s.draft)
            .into_iter()
            .map(|(kind, _)| kind)
            .filter(|k| ["draft.approved", "draft.rejected", "draft.handled"].contains(&k.as_str()))
            .collect();
        assert!(succeeded >= 1, "at least the first decision is applied");
        assert_eq!(moves.len(), succeeded, "{moves:?}");
        let (state, ..) = reviewkit::draft_state(&env.ledger(), &s.draft);
        assert_eq!(format!("draft.{state}"), *moves.last().unwrap());
    }
    assert_sound(&env.ledger());
}

#[test]
fn two_heartbeats_at_once_alert_once_per_incident() {
    let hook = sink::Sink::start();
    let env = Env::new();
    env.write_config(&format!("[team]\nname = \"Northwind\"\n{}", hook.config()));
    // Mail has waited three hours and nothing triaged it: an idle incident.
    let file = env.path().join("waiting.eml");
    std::fs::write(&file, promisekit::message("idle", 1, 200)).unwrap();
    assert!(env.run(&["fetch", "--eml", file.to_str().unwrap()], b"").status.success());
    let three_hours_ago =
        (chrono::Utc::now() - chrono::TimeDelta::hours(3)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    env.db().execute("UPDATE messages SET fetched_at = ?1", [&three_hours_ago]).unwrap();
    env.db().execute("UPDATE runs SET started_at = ?1, ended_at = ?1", [&three_hours_ago]).unwrap();
    for _ in 0..4 {
        let outs = all_at_once(
            vec![env.cmd(&["heartbeat", "--max-idle", "2h"]), env.cmd(&["heartbeat", "--max-idle", "2h"])],
            b"",
        );
        for o in &outs {
            assert_eq!(o.status.code(), Some(1), "alerting: {}", stderr(o));
            assert_never_locked(o, "heartbeat");
        }
    }
    let alerts = hook.posts();
    assert_eq!(alerts.len(), 1, "one alert for one incident, however many heartbeats overlap: {alerts:?}");
    assert_sound(&env.ledger());
}

#[test]
fn a_maildir_and_an_mbox_of_the_same_messages_imported_at_once_store_each_once() {
    // A Maildir and an mbox holding the same messages, imported at the same time.
    let env = Env::new();
    let maildir = env.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let n = 200;
    for i in 0..n {
        std::fs::write(maildir.join("cur").join(format!("{i:04}.host:2,S")), promisekit::message("both", i, 800)).unwrap();
    }
    let path = env.path().join("same.mbox");
    std::fs::write(&path, mbox("both", n, 800)).unwrap();
    let outs = all_at_once(
        vec![
            env.cmd(&["fetch", "--maildir", maildir.to_str().unwrap()]),
            env.cmd(&["fetch", "--mbox", path.to_str().unwrap()]),
            env.cmd(&["export"]),
        ],
        b"",
    );
    let mut emitted = Vec::new();
    for o in &outs[..2] {
        assert!(o.status.success(), "{}", stderr(o));
        emitted.extend(ids(&o.stdout));
    }
    assert!(outs[2].status.success(), "{}", stderr(&outs[2]));
    let unique: HashSet<&String> = emitted.iter().collect();
    assert_eq!(unique.len(), n, "every message arrived");
    assert_eq!(emitted.len(), n, "and each was emitted once");
    assert_eq!(env.count("SELECT COUNT(*) FROM messages") as usize, n);
    assert_sound(&env.ledger());
}

#[test]
fn two_auto_senders_at_once_keep_the_daily_cap_and_send_each_reply_once() {
    let s = servers();
    let env = Env::new();
    env.write_config(&format!(
        "[team]\ntimezone = \"UTC\"\n\
         [accounts.support]\nsmtp = {{ host = \"127.0.0.1\", port = {}, tls = \"starttls\", user = \"test\", \
         password_env = \"MR_OVERLAP_SMTP_PASSWORD\", ca_file = \"{}\", from = \"Support <test@example.test>\" }}\n\
         [policy]\nauto_send = true\ncategories = [\"shipping\"]\nmin_confidence = 0.5\ndaily_cap = 3\nrate_per_minute = 0\n",
        s.port("SMTP_PORT"),
        s.ca_file()
    ));
    let tag = format!("cap{}", std::process::id());
    let mut ledger = mailroom::ledger::Ledger::open(&env.ledger()).unwrap();
    for i in 0..6 {
        let file = env.path().join(format!("{i}.eml"));
        std::fs::write(
            &file,
            format!(
                "From: Ann <customer@example.test>\r\nSubject: parcel {i}\r\nMessage-ID: <{tag}-{i}@example.test>\r\n\r\nWhere is it?\r\n"
            ),
        )
        .unwrap();
        let message = ids(&env.run(&["fetch", "--eml", file.to_str().unwrap()], b"").stdout).pop().unwrap();
        let json = serde_json::json!({"review_required": false});
        ledger
            .write(|tx| {
                mailroom::ledger::drafts::insert_draft(
                    tx,
                    &mailroom::ledger::drafts::NewDraft {
                        id: &format!("d-{tag}-{i}"),
                        message: &message,
                        subject: "",
                        body: "Hello Ann,\n\nit left our warehouse today.\n",
                        risk: "low",
                        category: Some("shipping"),
                        priority: Some("P4"),
                        confidence: Some(0.95),
                        draft_json: &json,
                    },
                    None,
                )
            })
            .unwrap();
    }
    let send = || {
        let mut c = env.cmd(&["send", "--auto"]);
        c.env("MR_OVERLAP_SMTP_PASSWORD", "secret");
        c
    };
    let outs = all_at_once(vec![send(), send()], b"");
    let mut sent = Vec::new();
    for o in &outs {
        assert!(o.status.success(), "{}", stderr(o));
        assert_never_locked(o, "send --auto");
        sent.extend(jsonl(&o.stdout).into_iter().filter(|l| l["state"] == "sent").map(|l| l["draft"].as_str().unwrap().to_string()));
    }
    assert_eq!(repeated(&sent), Vec::<String>::new(), "a reply was sent twice");
    assert_eq!(sent.len(), 3, "the daily cap holds across overlapping runs: {sent:?}");
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts WHERE state = 'sent' AND decided_by = 'policy'"), 3);
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts WHERE state = 'pending'"), 3);
    assert_sound(&env.ledger());
}

#[test]
fn two_imap_fetches_of_one_mailbox_at_once_store_and_emit_each_message_once() {
    let mailbox = format!("Overlap-{}", std::process::id());
    promisekit::imap_mailbox(&mailbox, &promisekit::imap_messages("imap-overlap", 150, 1500));
    let env = Env::new();
    env.write_config(&promisekit::imap_account(&mailbox));
    let fetch = || {
        let mut c = env.cmd(&["fetch"]);
        c.env("MR_PROMISE_IMAP_PASSWORD", "secret");
        c
    };
    let outs = all_at_once(vec![fetch(), fetch(), fetch()], b"");
    let mut emitted = Vec::new();
    for o in &outs {
        assert!(o.status.success(), "{}", stderr(o));
        assert_never_locked(o, "fetch");
        emitted.extend(ids(&o.stdout));
    }
    assert_eq!(repeated(&emitted), Vec::<String>::new(), "a message was emitted by two fetches");
    assert_eq!(emitted.len(), 150);
    assert_eq!(env.count("SELECT COUNT(*) FROM messages"), 150);
    assert_eq!(env.count("SELECT COUNT(*) FROM locations"), 150);
    assert_eq!(env.count("SELECT highest_uid FROM sync_state"), 150);
    let again = all_at_once(vec![fetch()], b"");
    assert!(ids(&again[0].stdout).is_empty(), "nothing new afterwards");
    assert_sound(&env.ledger());
}

#[test]
fn two_filter_and_two_classify_runs_on_the_same_records_agree_and_store_one_triage_each() {
    let env = sample_env("");
    let records = sample_records(&env);
    let messages = jsonl(&records).len() as i64;
    let outs = all_at_once(vec![env.cmd(&["filter", "--all"]), env.cmd(&["filter", "--all"])], &records);
    for o in &outs {
        assert!(o.status.success(), "{}", stderr(o));
        assert_never_locked(o, "filter");
        assert_eq!(jsonl(&o.stdout).len() as i64, messages);
    }
    // Each run records its verdict (a rerun adds a version by design); both agree on every message.
    assert_eq!(env.count("SELECT COUNT(*) FROM stage_results WHERE stage = 'filter'"), 2 * messages);
    let disagreeing = env.count(
        "SELECT COUNT(*) FROM (SELECT message FROM stage_results WHERE stage = 'filter' GROUP BY message \
         HAVING COUNT(DISTINCT result_json) > 1 OR COUNT(*) <> 2)",
    );
    assert_eq!(disagreeing, 0, "the two runs judged every message once each, alike");
    let filtered = outs[0].stdout.clone();
    let outs = all_at_once(vec![env.cmd(&["classify"]), env.cmd(&["classify"])], &filtered);
    for o in &outs {
        assert!(o.status.success(), "{}", stderr(o));
        assert_never_locked(o, "classify");
    }
    let triaged = env.count("SELECT COUNT(DISTINCT message) FROM stage_results WHERE stage = 'triage'");
    assert!(triaged > 0);
    assert_eq!(env.count("SELECT COUNT(*) FROM stage_results WHERE stage = 'triage'"), triaged, "one triage per message");
    assert_sound(&env.ledger());
}

#[test]
fn two_runs_of_the_whole_chain_at_once_take_each_message_through_it_once() {
    let hook = sink::Sink::start();
    let env = sample_env(&hook.config());
    let sample = examples().join("sample.mbox");
    let run = || env.cmd(&["run", "--mbox", sample.to_str().unwrap()]);
    let outs = all_at_once(vec![run(), run()], b"");
    let mut emitted = Vec::new();
    for o in &outs {
        assert!(o.status.success(), "{}", stderr(o));
        assert_never_locked(o, "run");
        emitted.extend(ids(&o.stdout));
    }
    assert_eq!(repeated(&emitted), Vec::<String>::new());
    let drafts = env.count("SELECT COUNT(*) FROM drafts");
    assert_eq!(drafts, emitted.len() as i64, "one draft per message that passed");
    assert_eq!(env.count("SELECT COUNT(*) FROM stage_results WHERE stage = 'filter'"), env.count("SELECT COUNT(*) FROM messages"));
    let posted: Vec<String> = hook.posts().iter().map(|p| p["message"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(repeated(&posted), Vec::<String>::new(), "the chat got a message twice");
    assert_sound(&env.ledger());
}

#[test]
fn two_model_classify_runs_at_once_pay_for_each_message_once() {
    const KEY: &str = "sk-overlap-FAKE-1f2e3d";
    let mock = support::mock_openai::Mock::start(KEY, std::time::Duration::from_millis(80), vec![]);
    let env = Env::new();
    env.write_config(&format!(
        "[model]\nbase_url = \"{}\"\nmodel = \"mock-4o\"\napi_key_env = \"MR_OVERLAP_KEY\"\ntimeout_secs = 10\n\
         [classify]\nbackend = \"model\"\n",
        mock.base_url()
    ));
    let path = env.path().join("box.mbox");
    std::fs::write(&path, mbox("paid", 40, 300)).unwrap();
    let records = env.run(&["fetch", "--mbox", path.to_str().unwrap()], b"").stdout;
    let classify = || {
        let mut c = env.cmd(&["classify", "-j", "4"]);
        c.env("MR_OVERLAP_KEY", KEY);
        c
    };
    let outs = all_at_once(vec![classify(), classify()], &records);
    for o in &outs {
        assert!(o.status.success(), "{}", stderr(o));
        assert_never_locked(o, "classify");
        assert_eq!(jsonl(&o.stdout).len(), 40);
    }
    let paid_twice: Vec<usize> = mock.per_message().into_values().filter(|&n| n > 1).collect();
    assert_eq!(mock.calls(), 40, "each message is paid for once across overlapping runs ({} asked twice)", paid_twice.len());
    // Each run stores its triage (the second one's says the answer was cached); they agree.
    let triaged = env.count("SELECT COUNT(DISTINCT message) FROM stage_results WHERE stage = 'triage'");
    assert_eq!(triaged, 40);
    let disagreeing = env.count(
        "SELECT COUNT(*) FROM (SELECT message FROM stage_results WHERE stage = 'triage' GROUP BY message \
         HAVING COUNT(DISTINCT summary) > 1)",
    );
    assert_eq!(disagreeing, 0);
    assert_eq!(env.count("SELECT COUNT(*) FROM kv WHERE key LIKE 'model-claim:%'"), 0, "no claim is left behind");
    assert_sound(&env.ledger());
}
