//! Promises under crashes: `kill -9` at random moments of fetch, draft and send, many times in
//! a row, and a power cut in the middle of an import. After every kill the ledger passes
//! `Ledger::check_integrity`; a rerun completes; every message is stored once, every draft
//! once, and every reply is sent at most once (exactly once unless a human must look).
//!
//! The random moments come from a seed printed at the start of each test; `PROMISE_SEED=N`
//! replays a run.

mod common;
mod promisekit;
mod support {
    pub mod mock_openai;
}

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::servers::servers;
use common::{Env, examples, jsonl, stderr};
use mailroom::ledger::Ledger;
use mailroom::ledger::drafts::{NewDraft, insert_draft};
use mailroom::ledger::DraftState;
use mailroom::mail::parse::Headers;
use promisekit::{Chaos, Progress, assert_sound, ids, ids_so_far, kill_at_random, kill_midway, kill_repeatedly, mbox, repeated, rng};

#[test]
fn an_import_killed_at_random_moments_then_rerun_stores_every_message_once() {
    let mut rng = rng("import kill -9");
    let env = Env::new();
    let n = 2500;
    let path = env.path().join("big.mbox");
    std::fs::write(&path, mbox("crash", n, 2000)).unwrap();
    let mut emitted: Vec<String> = Vec::new();
    let mut stored = Progress::new(&env.ledger(), "SELECT COUNT(*) FROM messages");
    let import = || env.cmd(&["fetch", "--mbox", path.to_str().unwrap()]);
    // Commits come 500 messages at a time: a kill when the count moves is always mid-run.
    let chaos = Chaos { margin: 500, window: 5..500, rounds: 10 };
    let kills = kill_repeatedly(import, b"", &mut rng, &mut stored, n as i64, chaos, |run| {
        emitted.extend(ids_so_far(&run.stdout));
        assert_sound(&env.ledger());
    });
    let last = env.run(&["fetch", "--mbox", path.to_str().unwrap()], b"");
    assert!(last.status.success(), "the rerun completes: {}", stderr(&last));
    emitted.extend(ids(&last.stdout));
    eprintln!("{kills} imports killed; {} of {n} records emitted", emitted.len());
    assert!(kills >= 1, "runs were killed before they finished ({kills})");

    assert_eq!(env.count("SELECT COUNT(*) FROM messages"), n as i64, "every message is in the ledger once");
    assert_eq!(repeated(&emitted), Vec::<String>::new(), "no record was emitted twice");
    let stored: HashSet<String> = ids(&env.run(&["export"], b"").stdout).into_iter().collect();
    assert!(emitted.iter().all(|id| stored.contains(id)), "every emitted record is in the ledger");
    // What a kill cut off between the commit and stdout is in the ledger, found by export.
    assert_eq!(stored.len(), n);
    assert_sound(&env.ledger());
}

#[test]
fn a_draft_run_killed_at_random_moments_then_rerun_drafts_every_message_once() {
    let mut rng = rng("draft kill -9");
    let env = Env::new();
    let ex = examples();
    env.write_config(&format!(
        "[team]\nname = \"Northwind Goods Support\"\ndomains = [\"shop.example\"]\n\
         [draft]\nknowledge_dir = \"{}\"\norder_lookup_command = \"{}\"\n",
        ex.join("knowledge").display(),
        ex.join("order-lookup.sh").display()
    ));
    let import = env.run(&["fetch", "--mbox", ex.join("sample.mbox").to_str().unwrap()], b"");
    assert!(import.status.success(), "{}", stderr(&import));
    let records = import.stdout;
    let n = jsonl(&records).len() as i64;
    let mut drafted = Progress::new(&env.ledger(), "SELECT COUNT(*) FROM drafts");
    let chaos = Chaos { margin: 10, window: 20..1500, rounds: 5 };
    let kills = kill_repeatedly(|| env.cmd(&["draft", "--quiet"]), &records, &mut rng, &mut drafted, n, chaos, |_| {
        assert_sound(&env.ledger());
        assert!(env.count("SELECT COUNT(*) FROM drafts") <= n, "never more than one draft per message");
    });
    let last = env.run(&["draft", "--quiet"], &records);
    assert!(last.status.success(), "the rerun completes: {}", stderr(&last));
    eprintln!("{kills} draft runs killed");
    assert!(kills >= 1, "runs were killed before they finished ({kills})");
    assert_eq!(env.count("SELECT COUNT(DISTINCT message) FROM drafts"), n, "every message has its draft");
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts"), n, "and only one");
    assert_eq!(env.count("SELECT COUNT(*) FROM stage_results WHERE stage = 'draft'"), n);
    assert_sound(&env.ledger());
}

const PASSWORD_ENV: &str = "MR_PROMISE_SMTP_PASSWORD";

/// Message-ID → copies in the customer's Maildir.
fn delivered() -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(servers().maildir("customer").join(sub)) else { continue };
        for e in entries.flatten() {
            let Ok(raw) = std::fs::read(e.path()) else { continue };
            if let Some(id) = Headers::parse(&raw).get("message-id") {
                *counts.entry(id.trim().to_string()).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// A customer message in the ledger with a draft replying to it (approved, or pending for the
/// auto-send policy); returns the draft id.
fn reply_to_customer(env: &Env, tag: &str, approved: bool) -> String {
    let file = env.path().join(format!("{tag}.eml"));
    std::fs::write(
        &file,
        format!(
            "From: Ann Customer <customer@shop.example>\r\nTo: Support <test@example.test>\r\n\
             Subject: Where is my parcel {tag}?\r\nMessage-ID: <in-{tag}@shop.example>\r\n\
             Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nHello, where is my order #12345?\r\n"
        ),
    )
    .unwrap();
    let out = env.run(&["fetch", "--eml", file.to_str().unwrap()], b"");
    let message = ids(&out.stdout).pop().unwrap_or_else(|| panic!("imported: {}", stderr(&out)));
    let id = format!("d-{tag}");
    let mut ledger = Ledger::open(&env.ledger()).unwrap();
    let json = serde_json::json!({"review_required": false});
    ledger
        .write(|tx| {
            insert_draft(
                tx,
                &NewDraft {
                    id: &id,
                    message: &message,
                    subject: "",
                    body: "Hello Ann,\n\nyour parcel left our warehouse today.\n\nBest regards,\nSupport",
                    risk: "low",
                    category: Some("shipping"),
                    priority: Some("P3"),
                    confidence: Some(0.95),
                    draft_json: &json,
                },
                None,
            )
        })
        .unwrap();
    if approved {
        ledger.transition_draft(&id, DraftState::Approved, "alice", None, None).unwrap();
    }
    id
}

#[test]
fn a_send_killed_at_random_moments_sends_each_reply_at_most_once() {
    let mut rng = rng("send kill -9");
    let s = servers();
    let env = Env::new();
    env.write_config(&format!(
        r#"[team]
timezone = "UTC"

[accounts.support]
imap = {{ host = "127.0.0.1", port = {imap}, tls = "starttls", user = "test", password_env = "{PASSWORD_ENV}", ca_file = "{ca}", sent_mailbox = "Sent" }}
smtp = {{ host = "127.0.0.1", port = {smtp}, tls = "starttls", user = "test", password_env = "{PASSWORD_ENV}", ca_file = "{ca}", from = "Support <test@example.test>", bcc_self = true }}

[policy]
auto_send = true
categories = ["shipping"]
min_confidence = 0.5
daily_cap = 100
rate_per_minute = 0
reconcile_after_secs = 1
"#,
        imap = s.port("IMAP_PORT"),
        smtp = s.port("SMTP_PORT"),
        ca = s.ca_file(),
    ));
    let tag = format!("crash{}", std::process::id());
    // Half approved by a person, half left to the auto-send policy.
    let drafts: Vec<String> = (0..8).map(|i| reply_to_customer(&env, &format!("{tag}-{i}"), i % 2 == 0)).collect();
    let started = Instant::now();
    let send = || {
        let mut cmd = env.cmd(&["send", "--auto", "--rate", "300"]);
        cmd.env(PASSWORD_ENV, "secret");
        cmd
    };
    // A draft is claimed ('sending') in its own commit before its SMTP session: a kill when
    // the count moves lands between the claim and the delivery, with more sends to come.
    let mut touched = Progress::new(&env.ledger(), "SELECT COUNT(*) FROM drafts WHERE state IN ('sending', 'sent', 'failed')");
    let mut kills = 0;
    for round in 0.. {
        let open = env.count(
            "SELECT COUNT(*) FROM drafts WHERE state IN ('approved', 'sending') OR (state = 'pending' AND decided_by IS NULL)",
        );
        if open == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "drafts still open after two minutes");
        if env.count("SELECT COUNT(*) FROM drafts WHERE state IN ('approved', 'pending')") == 0 {
            // Only interrupted sends are left: they are looked up after reconcile_after_secs.
            std::thread::sleep(Duration::from_millis(1100));
        }
        let midway = if round % 2 == 0 { kill_midway(send(), b"", &mut rng, &mut touched, drafts.len() as i64, 1) } else { None };
        let run = midway.unwrap_or_else(|| kill_at_random(send(), b"", &mut rng, 20..700));
        if run.killed {
            kills += 1;
            assert_sound(&env.ledger());
        }
        if kills >= 15 {
            // Enough chaos: let the runs finish from here on.
            let mut c = env.cmd(&["send", "--auto"]);
            c.env(PASSWORD_ENV, "secret").stdout(Stdio::null()).stderr(Stdio::null());
            c.status().unwrap();
        }
    }
    eprintln!("{kills} sends killed in {:?}", started.elapsed());
    assert!(kills >= 1, "some runs were killed mid-batch ({kills})");

    let ids: Vec<(String, String, String)> = drafts
        .iter()
        .map(|d| {
            env.db()
                .query_row("SELECT id, state, COALESCE(out_message_id, '') FROM drafts WHERE id = ?1", [d], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .unwrap()
        })
        .collect();
    // Wait for the deliveries of what the ledger calls sent, then a moment for duplicates.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let got = delivered();
        if ids.iter().filter(|(_, state, _)| state == "sent").all(|(_, _, m)| got.contains_key(m)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let got = delivered();
    for (draft, state, message_id) in &ids {
        let copies = got.get(message_id).copied().unwrap_or(0);
        match state.as_str() {
            "sent" => assert_eq!(copies, 1, "draft {draft} ({message_id}) was delivered {copies} times"),
            "failed" => assert!(copies <= 1, "draft {draft} was delivered {copies} times"),
            other => panic!("draft {draft} ended {other}"),
        }
    }
    assert_sound(&env.ledger());
}

/// Copies the ledger as a power cut would leave it at this instant: the writer is frozen
/// (SIGSTOP) while the file and its WAL are copied, then let go. A copy of a live file taken
/// without freezing the writer can be torn in ways no crash produces, which tests nothing.
fn snapshot(ledger: &Path, pid: u32, to: &Path, with_wal: bool) {
    // SAFETY: signals to our own child.
    unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
    std::fs::copy(ledger, to).unwrap();
    let wal = Path::new(&format!("{}-wal", ledger.display())).to_path_buf();
    if with_wal && wal.exists() {
        std::fs::copy(&wal, format!("{}-wal", to.display())).unwrap();
    }
    unsafe { libc::kill(pid as i32, libc::SIGCONT) };
}

#[test]
fn a_power_cut_during_an_import_leaves_a_ledger_that_opens_is_sound_and_completes_on_rerun() {
    use rand::Rng;
    let mut rng = rng("power cut");
    let env = Env::new();
    let n = 1500;
    let path = env.path().join("big.mbox");
    std::fs::write(&path, mbox("power", n, 2000)).unwrap();
    // How long the import takes here (a debug build is many times slower than a release one).
    let timed = env.path().join("timed.sqlite");
    let started = Instant::now();
    let out = env.cmd(&["fetch", "--mbox", path.to_str().unwrap(), "--quiet"]).arg("--ledger").arg(&timed).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let took = started.elapsed();
    let mut child = env
        .cmd(&["fetch", "--mbox", path.to_str().unwrap(), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first cut needs a ledger file to copy.
    let opened = Instant::now();
    while !env.ledger().exists() && opened.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut copies = Vec::new();
    for i in 0..6 {
        // Cuts a tenth to a fifth of the import apart, however fast this build imports.
        std::thread::sleep(took.mul_f64(rng.random_range(0.1..0.2)).max(Duration::from_millis(5)));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        let with_wal = env.path().join(format!("cut-{i}.sqlite"));
        let without_wal = env.path().join(format!("cut-{i}-nowal.sqlite"));
        snapshot(&env.ledger(), child.id(), &with_wal, true);
        snapshot(&env.ledger(), child.id(), &without_wal, false);
        copies.push((with_wal, without_wal));
    }
    assert!(child.wait().unwrap().success());
    assert!(copies.len() >= 2, "the import ran long enough to be cut ({} cuts)", copies.len());

    let rerun = |ledger: &Path| {
        let mut c = env.cmd(&["fetch", "--mbox", path.to_str().unwrap(), "--quiet"]);
        c.arg("--ledger").arg(ledger);
        let out = c.output().unwrap();
        assert!(out.status.success(), "the rerun on {} completes: {}", ledger.display(), stderr(&out));
    };
    for (with_wal, without_wal) in &copies {
        // With its WAL (what a power cut leaves): opens, is sound, and the rerun finishes the job.
        let before = Ledger::open(with_wal).unwrap().message_count().unwrap();
        assert_sound(with_wal);
        rerun(with_wal);
        let after = Ledger::open(with_wal).unwrap();
        assert_eq!(after.message_count().unwrap(), n as i64, "cut at {before} messages");
        assert_sound(with_wal);

        // Without its WAL (a lost file): `ledger check` opens it or says clearly why not, and
        // never crashes; when it is sound, the rerun completes it too.
        let mut c = env.cmd(&["ledger", "check"]);
        c.arg("--ledger").arg(without_wal);
        let check = c.output().unwrap();
        let code = check.status.code();
        assert!(matches!(code, Some(0..=2)), "ledger check exited {code:?}: {}", stderr(&check));
        if code == Some(0) {
            rerun(without_wal);
            assert_eq!(Ledger::open(without_wal).unwrap().message_count().unwrap(), n as i64);
            assert_sound(without_wal);
        } else {
            let said = format!("{}{}", String::from_utf8_lossy(&check.stdout), stderr(&check));
            assert!(said.contains("problems") || said.contains("ledger"), "a clear report: {said}");
            eprintln!("WAL-less copy {}: {said}", without_wal.display());
        }
    }
}

#[test]
fn a_run_killed_at_random_moments_then_rerun_takes_every_message_through_the_chain() {
    let mut rng = rng("run kill -9");
    let env = Env::new();
    let ex = examples();
    env.write_config(&format!(
        "[team]\nname = \"Northwind Goods Support\"\ndomains = [\"shop.example\"]\n\
         [draft]\nknowledge_dir = \"{}\"\n",
        ex.join("knowledge").display()
    ));
    let n = 300;
    let path = env.path().join("box.mbox");
    std::fs::write(&path, mbox("chain", n, 600)).unwrap();
    // Messages go through the chain one at a time once the import's one commit is in.
    let mut filtered = Progress::new(&env.ledger(), "SELECT COUNT(DISTINCT message) FROM stage_results WHERE stage = 'filter'");
    let chaos = Chaos { margin: 20, window: 50..2500, rounds: 8 };
    let run = || env.cmd(&["run", "--mbox", path.to_str().unwrap()]);
    let kills = kill_repeatedly(run, b"", &mut rng, &mut filtered, n as i64, chaos, |_| assert_sound(&env.ledger()));
    let last = env.run(&["run", "--mbox", path.to_str().unwrap()], b"");
    assert!(last.status.success(), "the rerun completes: {}", stderr(&last));
    eprintln!("{kills} runs killed");
    assert!(kills >= 1, "runs were killed before they finished ({kills})");
    assert_eq!(env.count("SELECT COUNT(*) FROM messages"), n as i64);
    let unfiltered = env.count(
        "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS \
         (SELECT 1 FROM stage_results s WHERE s.message = m.id AND s.stage = 'filter')",
    );
    assert_eq!(unfiltered, 0, "every message stored by a killed run went through the chain");
    let passed_without_draft = env.count(
        "SELECT COUNT(*) FROM stage_results f WHERE f.stage = 'filter' AND f.summary = 'pass' \
         AND f.version = (SELECT MAX(version) FROM stage_results x WHERE x.message = f.message AND x.stage = 'filter') \
         AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.message = f.message)",
    );
    assert_eq!(passed_without_draft, 0, "every passing message has its triage and draft");
    assert_sound(&env.ledger());
}

#[test]
fn a_model_classify_killed_at_random_moments_then_rerun_classifies_everything_paying_once_per_answer() {
    const KEY: &str = "sk-crash-FAKE-0a9b8c";
    let mut rng = rng("classify kill -9");
    let mock = support::mock_openai::Mock::start(KEY, Duration::from_millis(150), vec![]);
    let env = Env::new();
    env.write_config(&format!(
        "[model]\nbase_url = \"{}\"\nmodel = \"mock-4o\"\napi_key_env = \"MR_CRASH_KEY\"\ntimeout_secs = 10\n\
         [classify]\nbackend = \"model\"\n",
        mock.base_url()
    ));
    let n = 80;
    let jobs = 2;
    let path = env.path().join("box.mbox");
    std::fs::write(&path, mbox("classify", n, 300)).unwrap();
    let records = env.run(&["fetch", "--mbox", path.to_str().unwrap()], b"").stdout;
    let classify = || {
        let mut c = env.cmd(&["classify", "-j", &jobs.to_string()]);
        c.env("MR_CRASH_KEY", KEY);
        c
    };
    let mut kills = 0;
    while kills < 15 {
        let run = kill_at_random(classify(), &records, &mut rng, 50..1500);
        assert_sound(&env.ledger());
        if !run.killed {
            break;
        }
        kills += 1;
    }
    let last = promisekit::run_within(classify(), &records, Duration::from_secs(120));
    assert!(last.status.success(), "the rerun completes: {}", stderr(&last));
    eprintln!("{kills} classify runs killed; {} model calls for {n} messages", mock.calls());
    assert!(kills >= 3, "runs were killed before they finished ({kills})");
    assert_eq!(jsonl(&last.stdout).len(), n);
    assert_eq!(env.count("SELECT COUNT(DISTINCT message) FROM stage_results WHERE stage = 'triage'"), n as i64);
    // A kill loses at most the calls it interrupted; every answer received was cached.
    assert!(mock.calls() <= n + kills * jobs, "{} calls for {n} messages and {kills} kills", mock.calls());
    assert_eq!(env.count("SELECT COUNT(*) FROM model_cache"), n as i64);
    assert_eq!(env.count("SELECT COUNT(*) FROM kv WHERE key LIKE 'model-claim:%'"), 0, "no claim outlives its run");
    assert_sound(&env.ledger());
}

#[test]
fn an_imap_fetch_killed_at_random_moments_then_rerun_stores_every_message_once() {
    let mut rng = rng("imap fetch kill -9");
    let n = 1200;
    let mailbox = format!("Crash-{}", std::process::id());
    promisekit::imap_mailbox(&mailbox, &promisekit::imap_messages("imap-crash", n, 2000));
    let env = Env::new();
    env.write_config(&promisekit::imap_account(&mailbox));
    let fetch = || {
        let mut c = env.cmd(&["fetch"]);
        c.env("MR_PROMISE_IMAP_PASSWORD", "secret");
        c
    };
    let mut emitted: Vec<String> = Vec::new();
    // Commits come a fetch batch (500 messages) at a time: a kill when the count moves is mid-run.
    let mut stored = Progress::new(&env.ledger(), "SELECT COUNT(*) FROM messages");
    let chaos = Chaos { margin: 500, window: 30..800, rounds: 8 };
    let kills = kill_repeatedly(fetch, b"", &mut rng, &mut stored, n as i64, chaos, |run| {
        emitted.extend(ids_so_far(&run.stdout));
        assert_sound(&env.ledger());
    });
    let last = promisekit::run_within(fetch(), b"", Duration::from_secs(120));
    assert!(last.status.success(), "the rerun completes: {}", stderr(&last));
    emitted.extend(ids(&last.stdout));
    eprintln!("{kills} IMAP fetches killed; {} of {n} records emitted", emitted.len());
    assert!(kills >= 1, "runs were killed before they finished ({kills})");
    assert_eq!(repeated(&emitted), Vec::<String>::new(), "no record was emitted twice");
    assert_eq!(env.count("SELECT COUNT(*) FROM messages"), n as i64, "every message is in the ledger once");
    assert_eq!(env.count("SELECT COUNT(*) FROM locations"), n as i64);
    assert_eq!(env.count("SELECT highest_uid FROM sync_state"), n as i64);
    assert_sound(&env.ledger());
}
