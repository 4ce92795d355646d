//! `mailroom heartbeat`: one alert per incident, one "recovered" message, exit 1 while alerting.
//! Ledgers are built through the library with times set in the past, as a quiet chain leaves them.

mod common;
mod sink;

use chrono::{TimeDelta, Utc};
use mailroom::ledger::Ledger;
use mailroom::ledger::events::Event;
use mailroom::ledger::messages::{NewMessage, insert_message};
use mailroom::ledger::results::{NewResult, Stage, add_result};
use mailroom::record::Record;
use serde_json::{Value, json};

use common::{Env, stderr};

fn ago(minutes: i64) -> String {
    (Utc::now() - TimeDelta::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn message(ledger: &mut Ledger, id: &str, fetched_minutes_ago: i64) {
    let mut rec = Record::new(id);
    rec.account = "support".into();
    ledger
        .write(|tx| {
            insert_message(tx, &NewMessage { record: &rec, raw: id.as_bytes(), raw_sha256: id }, None).map(|_| ())
        })
        .unwrap();
    ledger
        .conn()
        .execute("UPDATE messages SET fetched_at = ?2 WHERE id = ?1", rusqlite::params![id, ago(fetched_minutes_ago)])
        .unwrap();
}

fn triage(ledger: &mut Ledger, id: &str, minutes_ago: i64) {
    let json = json!({"category": "shipping", "priority": "P3"});
    let r = NewResult {
        message: id,
        stage: Stage::Triage,
        summary: "shipping",
        backend: "test",
        model: "test",
        prompt_version: "1",
        result: &json,
        run_id: None,
    };
    ledger.write(|tx| add_result(tx, &r)).unwrap();
    ledger
        .conn()
        .execute(
            "UPDATE stage_results SET created_at = ?2 WHERE message = ?1 AND stage = 'triage'",
            rusqlite::params![id, ago(minutes_ago)],
        )
        .unwrap();
}

/// `heartbeat ARGS`: (exit code, stderr).
fn heartbeat(env: &Env, args: &[&str]) -> (i32, String) {
    let mut all = vec!["heartbeat"];
    all.extend_from_slice(args);
    let out = env.run(&all, b"");
    (out.status.code().unwrap_or(-1), stderr(&out))
}

#[test]
fn idle_with_waiting_mail_alerts_once_then_recovers_once() {
    let env = Env::new();
    let hook = sink::Sink::start();
    env.write_config(&format!("[team]\nname = \"Northwind\"\n{}", hook.config()));
    let mut ledger = Ledger::open(&env.ledger()).unwrap();
    // Triage last ran five hours ago; two customer mails have waited three hours since.
    message(&mut ledger, "old", 310);
    triage(&mut ledger, "old", 300);
    message(&mut ledger, "new-1", 180);
    message(&mut ledger, "new-2", 170);

    let (code, err) = heartbeat(&env, &["--max-idle", "2h"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.matches("ALERT: triage is idle").count(), 1, "{err}");
    assert!(err.contains("2 messages wait for triage"), "{err}");
    let posts = hook.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["type"], "mailroom.heartbeat");
    assert_eq!(posts[0]["title"], "Northwind: ALERT: triage is idle");
    assert_eq!(posts[0]["data"]["notice"]["kind"], "alert");

    // Still idle: still exit 1, but no second alert anywhere.
    let (code, err) = heartbeat(&env, &["--max-idle", "2h"]);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("ALERT"), "{err}");
    assert!(err.contains("still alerting since"), "{err}");
    assert_eq!(hook.posts().len(), 1);

    // Triage resumes: one recovered message, exit 0; then quiet.
    triage(&mut ledger, "new-1", 1);
    triage(&mut ledger, "new-2", 1);
    let (code, err) = heartbeat(&env, &["--max-idle", "2h"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("RECOVERED: triage is idle").count(), 1, "{err}");
    let posts = hook.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[1]["data"]["notice"]["kind"], "recovered");
    assert!(posts[1]["text"].as_str().unwrap().starts_with("recovered after"), "{}", posts[1]["text"]);
    let (code, err) = heartbeat(&env, &["--max-idle", "2h"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(hook.posts().len(), 2);
}

#[test]
fn max_idle_decides_what_is_late() {
    let env = Env::new();
    let mut ledger = Ledger::open(&env.ledger()).unwrap();
    message(&mut ledger, "old", 310);
    triage(&mut ledger, "old", 300);
    message(&mut ledger, "waiting", 180);
    assert_eq!(heartbeat(&env, &["--max-idle", "4h"]).0, 0);
    // The config's [heartbeat] max_idle is the default.
    env.write_config("[heartbeat]\nmax_idle = \"90m\"\n");
    assert_eq!(heartbeat(&env, &[]).0, 1);
}

#[test]
fn failing_imap_logins_alert_naming_the_account() {
    let env = Env::new();
    env.write_config(
        "[accounts.support]\nimap = { host = \"127.0.0.1\", port = 10143, tls = \"none\", user = \"support\", password_env = \"NOPE\" }\n\
         [heartbeat]\nfailure_threshold = 3\n",
    );
    let ledger = Ledger::open(&env.ledger()).unwrap();
    ledger.event(&Event::new("imap.login", "ok").account("support")).unwrap();
    for _ in 0..3 {
        let detail = json!({"error": "[AUTHENTICATIONFAILED] Authentication failed."});
        ledger.event(&Event::new("imap.login", "error").account("support").detail(detail)).unwrap();
    }
    let out = env.run(&["heartbeat", "--json"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("ALERT: IMAP account \"support\" failing"), "{err}");
    assert!(err.contains("AUTHENTICATIONFAILED"), "{err}");
    let status: Value = serde_json::from_slice(&out.stdout).expect("--json prints the status object");
    assert_eq!(status["status"], "alerting");
    assert_eq!(status["incidents"][0]["key"], "imap:support");
    assert_eq!(status["accounts"][0]["account"], "support");
    assert_eq!(status["accounts"][0]["failures"], 3);

    // A good login ends it.
    ledger.event(&Event::new("imap.login", "ok").account("support")).unwrap();
    let out = env.run(&["heartbeat", "--json"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("RECOVERED: IMAP account \"support\" failing"), "{}", stderr(&out));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["status"], "healthy");
    assert_eq!(status["incidents"], json!([]));
}

#[test]
fn an_undelivered_alert_is_retried_on_the_next_run() {
    let env = Env::new();
    let hook = sink::Sink::start();
    env.write_config(&hook.config());
    let ledger = Ledger::open(&env.ledger()).unwrap();
    for _ in 0..3 {
        ledger
            .event(&Event::new("model.call", "error").detail(json!({"status": 401, "error": "invalid api key"})))
            .unwrap();
    }
    hook.answer(503);
    let (code, err) = heartbeat(&env, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("could not post the alert to any webhook; the next run tries again"), "{err}");
    assert!(!err.contains(&hook.url), "the webhook URL (a secret) leaked: {err}");
    hook.answer(200);
    let (code, err) = heartbeat(&env, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("ALERT: model calls failing"), "{err}");
    assert!(err.contains("HTTP 401: invalid api key"), "{err}");
    assert_eq!(hook.posts().len(), 1);
    assert_eq!(heartbeat(&env, &[]).0, 1);
    assert_eq!(hook.posts().len(), 1, "one alert per incident");
}

#[test]
fn status_json_for_monitoring() {
    let env = Env::new();
    let out = env.run(&["heartbeat", "--json"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "status",
        "checked_at",
        "max_idle",
        "last_triage_at",
        "last_fetch",
        "waiting_for_triage",
        "accounts",
        "model",
        "reviews",
        "incidents",
    ] {
        assert!(status.get(key).is_some(), "missing {key}: {status}");
    }
    assert_eq!(status["status"], "healthy");
    assert_eq!(status["max_idle"], "2h");
    let (code, err) = heartbeat(&env, &["--max-idle", "soon"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--max-idle"), "{err}");
}
