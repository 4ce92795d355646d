//! `mailroom notify` against a local webhook receiver: each chat's payload shape, routing,
//! retries, failures that never stop the records, and tokens that never leak.

mod common;
mod reviewkit;

use common::{Env, jsonl, stderr};
use reviewkit::{Receiver, Seed, seed};
use serde_json::Value;

/// Seeds a draft and returns its record as `export` gives it (triage and draft included).
fn record(env: &Env, s: &Seed<'_>) -> (reviewkit::Seeded, Vec<u8>) {
    let seeded = seed(&env.ledger(), s);
    let out = env.run(&["export", "--id", &seeded.message], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    (seeded, out.stdout)
}

fn hook(name: &str, kind: &str, url: &str, extra: &str) -> String {
    format!("[[notify.webhooks]]\nname = \"{name}\"\nkind = \"{kind}\"\nurl = \"{url}\"\n{extra}\n")
}

const FAST: &str = "[notify]\nretry_delay_ms = 10\n[team]\nname = \"Shop Support\"\nreview_url = \"https://review.shop.example\"\n";

fn posts_to<'a>(r: &'a [reviewkit::Received], path: &str) -> Vec<&'a reviewkit::Received> {
    r.iter().filter(|x| x.target.starts_with(path)).collect()
}

#[test]
fn every_flavour_gets_its_own_shape() {
    let env = Env::new();
    let rx = Receiver::start(vec![(200, "{\"errcode\":0,\"errmsg\":\"ok\",\"code\":0}")]);
    let mut config = FAST.to_string();
    for kind in ["slack", "wecom", "feishu", "dingtalk", "json"] {
        config += &hook(kind, kind, &rx.url(&format!("/{kind}?access_token=T0K3N")), "");
    }
    env.write_config(&config);
    let (s, input) = record(
        &env,
        &Seed { priority: "P2", category: "refund", risk: "high", missing: &["order number", "photos"], ..Seed::default() },
    );
    let out = env.run(&["notify"], &input);
    assert!(out.status.success(), "{}", stderr(&out));
    // Records pass through unchanged.
    assert_eq!(jsonl(&out.stdout), jsonl(&input));

    let got = rx.requests();
    assert_eq!(got.len(), 5, "{got:?}");
    let link_prefix = format!("https://review.shop.example/m/{}?t=", s.message);
    let one = |path: &str| -> Value {
        let p = posts_to(&got, path);
        assert_eq!(p.len(), 1, "{path}: {got:?}");
        assert_eq!(p[0].method, "POST");
        p[0].json()
    };

    let slack = one("/slack");
    let text = slack["text"].as_str().unwrap();
    assert!(text.starts_with("P2 refund: Where is my order?"), "{text}");
    assert!(text.contains(&format!("<{link_prefix}")), "{text}");
    let blocks = slack["blocks"].as_array().unwrap();
    let fields: Vec<&str> = blocks[1]["fields"].as_array().unwrap().iter().map(|f| f["text"].as_str().unwrap()).collect();
    assert!(fields.contains(&"*Priority*\nP2") && fields.contains(&"*Category*\nrefund"), "{fields:?}");
    assert!(fields.contains(&"*From*\nJane Doe &lt;jane@example.com&gt;"), "{fields:?}");
    assert!(blocks[2]["text"]["text"].as_str().unwrap().contains("• order number\n• photos"));
    assert!(blocks[3]["elements"][0]["url"].as_str().unwrap().starts_with(&link_prefix));

    let wecom = one("/wecom");
    assert_eq!(wecom["msgtype"], "markdown");
    let content = wecom["markdown"]["content"].as_str().unwrap();
    for want in ["P2", "refund", "Jane Doe", "Where is my order?", "order number; photos", &link_prefix] {
        assert!(content.contains(want), "wecom lacks {want}: {content}");
    }

    let feishu = one("/feishu");
    assert_eq!(feishu["msg_type"], "interactive");
    assert_eq!(feishu["card"]["header"]["title"]["content"], "P2 refund: Where is my order?");
    assert_eq!(feishu["card"]["header"]["template"], "orange");
    assert!(feishu["card"]["elements"][0]["text"]["content"].as_str().unwrap().contains("order number; photos"));
    assert!(feishu["card"]["elements"][1]["actions"][0]["url"].as_str().unwrap().starts_with(&link_prefix));

    let ding = one("/dingtalk");
    assert_eq!(ding["msgtype"], "markdown");
    assert_eq!(ding["markdown"]["title"], "P2 refund: Where is my order?");
    assert!(ding["markdown"]["text"].as_str().unwrap().contains(&format!("]({link_prefix}")));

    let json = one("/json");
    assert_eq!(json["v"], 1);
    assert_eq!(json["event"], "review_needed");
    assert_eq!(json["message"], s.message.as_str());
    assert_eq!(json["draft"], s.draft.as_str());
    assert_eq!((json["priority"].as_str(), json["category"].as_str(), json["risk"].as_str()), (Some("P2"), Some("refund"), Some("high")));
    assert_eq!(json["from"], "Jane Doe <jane@example.com>");
    assert_eq!(json["checklist"], serde_json::json!(["order number", "photos"]));
    assert!(json["review_url"].as_str().unwrap().starts_with(&link_prefix));

    // Each post is an event with status and latency, and the URL's token is nowhere in the ledger.
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'notify.post' AND status = 'ok' AND latency_ms IS NOT NULL"), 5);
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE detail_json LIKE '%T0K3N%' OR detail_json LIKE '%127.0.0.1%'"), 0);
    assert_eq!(env.count("SELECT COUNT(*) FROM runs WHERE args_json LIKE '%T0K3N%' OR error LIKE '%T0K3N%'"), 0);

    // Posting the same record again is skipped; --force posts again.
    let again = env.run(&["notify"], &input);
    assert!(again.status.success());
    assert_eq!(rx.requests().len(), 5);
    let forced = env.run(&["notify", "--force", "--webhook", "json"], &input);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(rx.requests().len(), 6);
}

#[test]
fn routing_by_category_and_priority() {
    let env = Env::new();
    let rx = Receiver::start(vec![(200, "ok")]);
    env.write_config(&format!(
        "{FAST}{}{}{}",
        hook("all", "json", &rx.url("/all"), ""),
        hook("refunds", "json", &rx.url("/refunds"), "categories = [\"refund\"]"),
        hook("urgent", "slack", &rx.url("/urgent"), "priorities = [\"P1\", \"P2\"]"),
    ));
    let (_, shipping_p3) = record(&env, &Seed { subject: "a", ..Seed::default() });
    let (_, refund_p1) = record(&env, &Seed { subject: "b", category: "refund", priority: "P1", ..Seed::default() });
    let (_, shipping_p2) = record(&env, &Seed { subject: "c", priority: "P2", ..Seed::default() });
    let input = [shipping_p3, refund_p1, shipping_p2].concat();
    let out = env.run(&["notify"], &input);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout).len(), 3);
    let got = rx.requests();
    assert_eq!(posts_to(&got, "/all").len(), 3);
    let refunds: Vec<String> = posts_to(&got, "/refunds").iter().map(|r| r.json()["subject"].as_str().unwrap().to_string()).collect();
    assert_eq!(refunds, ["b"]);
    let urgent: Vec<String> = posts_to(&got, "/urgent").iter().map(|r| r.json()["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(urgent.len(), 2);
    assert!(urgent[0].starts_with("P1 refund: b") && urgent[1].starts_with("P2 shipping: c"), "{urgent:?}");
}

#[test]
fn failed_posts_are_retried_recorded_and_never_stop_the_records() {
    let env = Env::new();
    let flaky = Receiver::start(vec![(500, "oops"), (503, "busy"), (200, "ok")]);
    let down = Receiver::start(vec![(503, "down")]);
    let refused = Receiver::start(vec![(200, "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}")]);
    env.write_config(&format!(
        "{FAST}{}{}{}{}",
        hook("flaky", "json", &flaky.url("/h"), ""),
        hook("down", "slack", &down.url("/h?token=SEKRET1"), ""),
        hook("wecom", "wecom", &refused.url("/cgi-bin/webhook/send?key=SEKRET2"), ""),
        hook("nowhere", "json", "http://127.0.0.1:1/h?token=SEKRET3", ""),
    ));
    let (s, input) = record(&env, &Seed::default());
    let out = env.run(&["notify"], &input);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout), jsonl(&input), "the record still passes through");
    let err = stderr(&out);
    assert!(err.contains("webhook \"down\": HTTP 503: down (after 3 attempts)"), "{err}");
    assert!(err.contains("webhook \"wecom\": wecom error 93000: invalid webhook url"), "{err}");
    assert!(err.contains("webhook \"nowhere\": could not connect"), "{err}");
    assert!(!err.contains("flaky"), "{err}");
    assert!(!err.contains("SEKRET"), "a webhook token leaked to stderr: {err}");

    assert_eq!(flaky.requests().len(), 3, "two retries, then success");
    assert_eq!(down.requests().len(), 3, "three attempts in all");
    assert_eq!(refused.requests().len(), 1, "an application error is not retried");

    let db = env.db();
    let rows: Vec<(String, String, i64)> = db
        .prepare(
            "SELECT json_extract(detail_json, '$.webhook'), status, json_extract(detail_json, '$.attempts') \
             FROM events WHERE kind = 'notify.post' AND message = ?1 ORDER BY id",
        )
        .unwrap()
        .query_map([&s.message], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            ("flaky".to_string(), "ok".to_string(), 3),
            ("down".into(), "error".into(), 3),
            ("wecom".into(), "error".into(), 1),
            ("nowhere".into(), "error".into(), 3),
        ]
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE detail_json LIKE '%SEKRET%'"), 0);
    assert_eq!(env.count("SELECT COUNT(*) FROM runs WHERE command = 'notify' AND status = 'partial'"), 1);

    // Failed webhooks are tried again on the next run; the one that worked is not.
    let again = env.run(&["notify"], &input);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(flaky.requests().len(), 3);
    assert_eq!(down.requests().len(), 6);
}

#[test]
fn webhook_urls_come_from_the_environment_and_a_missing_one_is_reported() {
    let env = Env::new();
    let rx = Receiver::start(vec![(200, "ok")]);
    env.write_config(&format!(
        "{FAST}[[notify.webhooks]]\nname = \"team\"\nkind = \"json\"\nurl_env = \"TEAM_HOOK\"\n\
         [[notify.webhooks]]\nname = \"boss\"\nkind = \"json\"\nurl_env = \"BOSS_HOOK_UNSET\"\n"
    ));
    let (_, input) = record(&env, &Seed::default());
    let mut cmd = env.cmd(&["notify"]);
    cmd.env("TEAM_HOOK", rx.url("/team")).env_remove("BOSS_HOOK_UNSET");
    let out = common_run(cmd, &input);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("webhook \"boss\" URL: environment variable BOSS_HOOK_UNSET is not set"), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout).len(), 1);
    assert_eq!(posts_to(&rx.requests(), "/team").len(), 1);
}

#[test]
fn configuration_mistakes_exit_2_before_reading_input() {
    let env = Env::new();
    let out = env.run(&["notify"], b"{\"id\":\"m1\"}\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no webhooks configured"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());

    env.write_config(&hook("x", "teams", "http://127.0.0.1:1/", ""));
    let out = env.run(&["notify"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("notify.webhooks \"x\": unknown kind \"teams\""), "{}", stderr(&out));
}

#[test]
fn bad_lines_are_reported_and_good_records_still_notified() {
    let env = Env::new();
    let rx = Receiver::start(vec![(200, "ok")]);
    env.write_config(&format!("{FAST}{}", hook("j", "json", &rx.url("/j"), "")));
    let (_, good) = record(&env, &Seed::default());
    let input = [b"not json\n".to_vec(), good].concat();
    let out = env.run(&["notify"], &input);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("stdin:1: invalid JSON"), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout).len(), 1);
    assert_eq!(rx.requests().len(), 1);
}

/// Runs a prepared command with `stdin`.
fn common_run(mut cmd: std::process::Command, stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn batch_mode_posts_one_message_per_webhook() {
    let env = Env::new();
    let rx = Receiver::start(vec![(200, "{\"errcode\":0}")]);
    env.write_config(&format!(
        "{FAST}{}{}",
        hook("j", "json", &rx.url("/j"), ""),
        hook("w", "wecom", &rx.url("/w"), "priorities = [\"P1\"]"),
    ));
    let (a, ra) = record(&env, &Seed { subject: "a", priority: "P1", ..Seed::default() });
    let (b, rb) = record(&env, &Seed { subject: "b", ..Seed::default() });
    let input = [ra.clone(), rb].concat();
    let out = env.run(&["notify", "--batch"], &input);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout), jsonl(&input));
    let got = rx.requests();
    assert_eq!(got.len(), 2, "{got:?}");
    let j = posts_to(&got, "/j")[0].json();
    assert_eq!((j["event"].as_str(), j["count"].as_i64()), (Some("review_batch"), Some(2)));
    let ids: Vec<&str> = j["items"].as_array().unwrap().iter().map(|i| i["message"].as_str().unwrap()).collect();
    assert_eq!(ids, [a.message.as_str(), b.message.as_str()]);
    let w = posts_to(&got, "/w")[0].json();
    let content = w["markdown"]["content"].as_str().unwrap();
    assert!(content.starts_with("### 1 new message to review"), "{content}");
    assert!(content.contains(&format!("/m/{}?t=", a.message)) && !content.contains(&b.message), "{content}");
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'notify.post' AND json_extract(detail_json, '$.batch')"), 3);

    // Already posted: a second batch run posts nothing, a new record alone is posted.
    let (c, rc) = record(&env, &Seed { subject: "c", ..Seed::default() });
    let out = env.run(&["notify", "--batch"], &[input, rc].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let got = rx.requests();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2].json()["items"][0]["message"], c.message.as_str());
    assert_eq!(got[2].json()["count"], 1);
}
