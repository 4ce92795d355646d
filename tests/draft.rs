//! `mailroom draft` over the bundled sample inbox: the checklist matches what each message
//! really lacks, injection gets a high-risk draft that promises nothing, order facts only reach
//! the order's own customer, and storage is idempotent.
//!
//! Records get their `triage` from examples/labels.jsonl, so these tests test drafting, not
//! classification.

mod common;

use std::path::PathBuf;

use common::{Env, jsonl, stderr};
use serde_json::{Value, json};

const SIGN_OFF: &str = "Best regards,\nNorthwind Goods Customer Care";

fn labels() -> Vec<Value> {
    let text = std::fs::read_to_string(common::examples().join("labels.jsonl")).expect("labels.jsonl");
    text.lines().map(|l| serde_json::from_str(l).expect("label line")).collect()
}

fn label(prefix: &str) -> Value {
    labels().into_iter().find(|l| l["file"].as_str().unwrap().starts_with(&format!("inbox/{prefix}"))).unwrap()
}

fn fixture(name: &str) -> PathBuf {
    common::root().join("tests").join("fixtures").join(name)
}

/// A config with the sample knowledge and the given order-lookup script.
fn env_with(lookup: &str) -> Env {
    let env = Env::new();
    env.write_config(&format!(
        "[team]\nname = \"Northwind Goods Support\"\ndomains = [\"shop.example\"]\nsign_off = {sign_off:?}\n\n\
         [draft]\nknowledge_dir = {knowledge:?}\norder_lookup_command = {lookup:?}\n",
        sign_off = SIGN_OFF,
        knowledge = common::examples().join("knowledge").display().to_string(),
        lookup = format!("bash '{lookup}'"),
    ));
    env
}

/// Imports the messages of `labels` and returns their records with the labelled filter
/// verdict and triage, in the same order.
fn import(env: &Env, labels: &[Value]) -> Vec<Value> {
    let files: Vec<String> =
        labels.iter().map(|l| common::examples().join(l["file"].as_str().unwrap()).display().to_string()).collect();
    let mut args = vec!["fetch", "--quiet", "--eml"];
    args.extend(files.iter().map(String::as_str));
    let out = env.run(&args, b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let records = jsonl(&out.stdout);
    assert_eq!(records.len(), labels.len(), "one record per message file");
    records
        .into_iter()
        .zip(labels)
        .map(|(mut r, l)| {
            r["filter"] = json!({"verdict": l["verdict"], "reasons": []});
            if l["verdict"] == "pass" {
                r["triage"] = json!({
                    "category": l["category"], "priority": l["priority"], "sentiment": "neutral",
                    "language": l["language"], "confidence": 0.9, "escalate": false, "reasons": [],
                    "entities": {}, "backend": "labels", "model": ""
                });
            }
            r
        })
        .collect()
}

fn lines(records: &[Value]) -> Vec<u8> {
    records.iter().map(|r| format!("{r}\n")).collect::<String>().into_bytes()
}

fn draft(env: &Env, records: &[Value], extra: &[&str]) -> (std::process::Output, Vec<Value>) {
    let mut args = vec!["draft"];
    args.extend_from_slice(extra);
    let out = env.run(&args, &lines(records));
    let drafted = jsonl(&out.stdout);
    (out, drafted)
}

fn keys(draft: &Value) -> Vec<&str> {
    draft["missing_info"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()
}

#[test]
fn the_checklist_matches_the_labels_for_every_sample_message() {
    let env = env_with(&common::examples().join("order-lookup.sh").display().to_string());
    let labels = labels();
    let input = import(&env, &labels);
    let (out, drafted) = draft(&env, &input, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(drafted.len(), labels.len(), "every record comes out, drafted or not");

    let mut by_file = std::collections::HashMap::new();
    let mut passing = 0;
    for ((l, before), after) in labels.iter().zip(&input).zip(&drafted) {
        let file = l["file"].as_str().unwrap();
        assert_eq!(after["id"], before["id"], "{file}: order kept");
        if l["verdict"] != "pass" {
            assert_eq!(after, before, "{file}: a record the filter dropped passes through untouched");
            continue;
        }
        passing += 1;
        let d = &after["draft"];
        let want: Vec<&str> = l["missing_info"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(keys(d), want, "{file}: missing_info");
        let subject = d["subject"].as_str().unwrap();
        assert!(subject.starts_with("Re: ") && !subject[4..].to_lowercase().starts_with("re:"), "{file}: {subject}");
        let body = d["body"].as_str().unwrap();
        assert!(body.starts_with("Hello"), "{file}: {body}");
        assert!(body.ends_with(SIGN_OFF), "{file}: {body}");
        assert!(d["risk"] == "high" || d["risk"] == "low", "{file}");
        if d["risk"] == "high" {
            assert_eq!(d["review_required"], true, "{file}: high risk is never sent without a human");
        }
        for key in keys(d) {
            assert!(body.contains("could you please send us:"), "{file}: {key} is asked in the draft:\n{body}");
        }
        if l["language"] != "en" {
            assert_eq!(d["customer_language"], l["language"], "{file}: the record says the customer's language");
        }
        by_file.insert(file[6..9].to_string(), d.clone());
    }

    // Named cases, present and absent.
    let missing = |n: &str| keys(&by_file[n]).iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(missing("004"), ["order_number"], "shipping without an order number");
    assert!(missing("018").is_empty(), "the reply that gives the order number");
    assert_eq!(missing("022"), ["order_number"], "a tracking number is not an order number");
    assert_eq!(missing("040"), ["photos"], "damage without a photo");
    assert!(missing("009").is_empty(), "damage with a photo attached");
    assert!(missing("034").is_empty(), "a wrong item needs no photo");
    assert_eq!(missing("067"), ["order_number"], "photo only, no order number");
    assert_eq!(missing("032"), ["new_address"], "street and floor only");
    assert!(missing("021").is_empty(), "complete new address");
    assert_eq!(missing("031"), ["amount_and_date"], "disputed charge without amount or date");
    assert!(missing("014").is_empty(), "amount and date given");
    assert!(missing("074").is_empty(), "a declined card with nothing charged is no dispute");
    assert_eq!(missing("065"), ["account_email"], "account under another, unknown address");
    assert!(missing("076").is_empty(), "the old address is given");
    assert!(by_file["040"]["body"].as_str().unwrap().contains("- a few photos of the damaged item"));

    // Languages: a fixed line in the customer's language, the reply itself in English.
    let de = by_file["003"]["body"].as_str().unwrap();
    assert!(de.contains("Wir antworten Ihnen auf Englisch"), "{de}");
    assert!(de.contains("Thank you for your message about order 100482731."), "{de}");

    // Grounding: sources name `file.md#heading` passages of the knowledge folder.
    let sources = by_file["016"]["sources"].as_array().unwrap();
    assert!(sources.iter().any(|s| s.as_str().unwrap().starts_with("refunds.md#")), "{sources:?}");
    for d in by_file.values() {
        for s in d["sources"].as_array().unwrap() {
            let file = s.as_str().unwrap().split('#').next().unwrap();
            assert!(common::examples().join("knowledge").join(file).is_file(), "{s}");
        }
    }

    // Stored: one pending draft and one draft result per passing message.
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts WHERE state = 'pending'"), passing);
    assert_eq!(env.count("SELECT COUNT(*) FROM stage_results WHERE stage = 'draft'"), passing);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM drafts d JOIN stage_results s ON s.summary = d.id AND s.message = d.message"),
        passing,
        "the stage result's summary is the draft id"
    );
    assert!(stderr(&out).contains(&format!("{passing} new drafts")), "{}", stderr(&out));
}

#[test]
fn a_prompt_injection_gets_a_high_risk_draft_that_promises_nothing() {
    let env = env_with(&fixture("order-lookup.sh").display().to_string());
    let input = import(&env, &[label("038")]);
    let (out, drafted) = draft(&env, &input, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let d = &drafted[0]["draft"];
    assert_eq!(d["risk"], "high");
    assert_eq!(d["review_required"], true);
    let reasons = d["risk_reasons"].to_string();
    assert!(reasons.contains("prompt injection"), "{reasons}");
    assert!(reasons.contains("not the customer of order NW-48615"), "{reasons}");
    let body = d["body"].as_str().unwrap();
    let lower = body.to_lowercase();
    for bad in [
        "refund", "$500", "paypal", "system prompt", "administrator", "ignore", "instruction", "resolved",
        "human review", "sarah", "@", "tt384029051gb",
    ] {
        assert!(!lower.contains(bad), "the draft contains {bad:?}:\n{body}");
    }
    assert!(body.contains("write to us from that address"), "identity before context:\n{body}");
    assert_eq!(d["subject"], "Re: Delivery question for order #NW-48615");
}

#[test]
fn order_facts_reach_only_the_orders_own_customer() {
    let env = env_with(&fixture("order-lookup.sh").display().to_string());
    let input = import(&env, &[label("001"), label("038"), label("007")]);
    let (out, drafted) = draft(&env, &input, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let matching = drafted[0]["draft"]["body"].as_str().unwrap();
    assert!(matching.contains("Order NW-48213 has been shipped. Royal Mail tracking number: TT384019273GB."), "{matching}");
    assert_eq!(drafted[0]["draft"]["risk"], "low", "{}", drafted[0]["draft"]["risk_reasons"]);

    let other = drafted[1]["draft"]["body"].as_str().unwrap();
    assert!(!other.contains("TT384029051GB") && !other.contains("Royal Mail") && !other.contains("shipped."), "{other}");
    assert!(other.contains("email address the order was placed with"), "{other}");

    let processing = drafted[2]["draft"]["body"].as_str().unwrap();
    assert!(processing.contains("Order NW-48377 is being prepared"), "{processing}");

    // Every lookup is evidence in the event log, without the order's customer address.
    let outcomes: Vec<String> = env
        .db()
        .prepare("SELECT json_extract(detail_json, '$.order_id') || ' ' || json_extract(detail_json, '$.outcome') FROM events WHERE kind = 'order.lookup' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(outcomes, ["NW-48213 match", "NW-48615 mismatch", "NW-48377 match"]);
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE detail_json LIKE '%sarah.miller%'"), 0);
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts WHERE draft_json LIKE '%sarah.miller%'"), 0);
}

#[test]
fn a_failing_lookup_is_recorded_and_the_draft_goes_on() {
    let env = env_with(&fixture("order-lookup.sh").display().to_string());
    let input = import(&env, &[label("026")]);
    let (out, drafted) = draft(&env, &input, &[]);
    assert_eq!(out.status.code(), Some(0), "a failing hook is not a failing stage: {}", stderr(&out));
    let d = &drafted[0]["draft"];
    assert!(d["notes"].to_string().contains("order database unreachable"), "{}", d["notes"]);
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'order.lookup' AND status = 'error'"), 1);
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts"), 1);
}

#[test]
fn rerunning_draft_on_the_same_records_stores_nothing_new() {
    let env = env_with(&fixture("order-lookup.sh").display().to_string());
    let input = import(&env, &[label("001"), label("040")]);
    let (first_out, first) = draft(&env, &input, &[]);
    assert_eq!(first_out.status.code(), Some(0), "{}", stderr(&first_out));
    let (second_out, second) = draft(&env, &input, &[]);
    assert_eq!(second_out.status.code(), Some(0), "{}", stderr(&second_out));
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a["draft"]["id"], b["draft"]["id"]);
    }
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts"), 2);
    assert_eq!(env.count("SELECT COUNT(*) FROM stage_results WHERE stage = 'draft'"), 2);
    assert!(stderr(&second_out).contains("0 new drafts") && stderr(&second_out).contains("2 unchanged"), "{}", stderr(&second_out));

    // A different sign-off changes the draft: the untouched pending one is superseded.
    let mut config = std::fs::read_to_string(env.config()).unwrap();
    config = config.replace("Best regards,", "Kind regards,");
    env.write_config(&config);
    let (third_out, third) = draft(&env, &input[..1], &[]);
    assert_eq!(third_out.status.code(), Some(0), "{}", stderr(&third_out));
    assert_ne!(third[0]["draft"]["id"], first[0]["draft"]["id"]);
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts WHERE state = 'pending'"), 2);
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts WHERE state = 'rejected' AND decided_by = 'mailroom-draft'"), 1);
}

#[test]
fn unknown_records_fail_alone_and_untriaged_records_are_drafted_for_review() {
    let env = env_with(&fixture("order-lookup.sh").display().to_string());
    let mut input = import(&env, &[label("001"), label("083")]);
    input[1].as_object_mut().unwrap().remove("triage");
    let mut stranger = input[0].clone();
    stranger["id"] = json!("m-not-in-the-ledger");
    input.insert(1, stranger);
    let (out, drafted) = draft(&env, &input, &[]);
    assert_eq!(out.status.code(), Some(1), "one record failed");
    let err = stderr(&out);
    assert!(err.contains("stdin:2") && err.contains("m-not-in-the-ledger") && err.contains("not in the ledger"), "{err}");
    assert!(err.contains("had no triage"), "{err}");
    assert_eq!(drafted.len(), 2, "the good records still come out");
    let untriaged = &drafted[1]["draft"];
    assert_eq!(untriaged["category"], "other");
    assert_eq!(untriaged["risk"], "high");
    assert_eq!(untriaged["review_required"], true);
}

#[test]
fn the_model_backend_without_a_model_section_is_a_config_error() {
    let env = env_with(&fixture("order-lookup.sh").display().to_string());
    let out = env.run(&["draft", "--backend", "model"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("[model]"), "{}", stderr(&out));
}

#[test]
fn team_templates_and_a_knowledge_flag_replace_the_defaults() {
    let env = env_with(&fixture("order-lookup.sh").display().to_string());
    let templates = env.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(templates.join("shipping.txt.j2"), "Hi {{ first_name }}! About {{ order_ref }}:\n{% for f in order_facts %}{{ f }}\n{% endfor %}\n\n{{ sign_off }}").unwrap();
    let knowledge = env.path().join("kb");
    std::fs::create_dir(&knowledge).unwrap();
    std::fs::write(knowledge.join("faq.md"), "# Shipping\n\nParcels to the UK arrive in 2-3 working days.\n").unwrap();
    let input = import(&env, &[label("001")]);
    let (out, drafted) = draft(
        &env,
        &input,
        &["--templates", templates.to_str().unwrap(), "--knowledge", knowledge.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let d = &drafted[0]["draft"];
    assert_eq!(
        d["body"],
        format!("Hi Emma! About order NW-48213:\nOrder NW-48213 has been shipped. Royal Mail tracking number: TT384019273GB.\n\n{SIGN_OFF}")
    );
    assert_eq!(d["sources"], json!(["faq.md#shipping"]));

    std::fs::write(templates.join("shipping.txt.j2"), "{% if %}").unwrap();
    let out = env.run(&["draft", "--templates", templates.to_str().unwrap()], &lines(&input));
    assert_eq!(out.status.code(), Some(2), "a broken team template is a config error: {}", stderr(&out));
    assert!(stderr(&out).contains("shipping.txt.j2"), "{}", stderr(&out));
}

/// A hook that logs when each lookup starts and ends, and waits (up to 3 s) for a second
/// lookup to start before it ends: lookups that run at the same time log `start, start`.
const OVERLAP_HOOK: &str = r#"log="$(dirname "$0")/hook.log"
echo "start $1" >> "$log"
for i in $(seq 30); do [ "$(grep -c start "$log")" -ge 2 ] && break; sleep 0.1; done
echo "end $1" >> "$log"
echo '{"status": "processing"}'
"#;

/// Imports two messages asking about an order each, the second a reply to the first (one
/// case) or a message of its own, and returns their records, passed and triaged.
fn two_order_questions(env: &Env, same_case: bool) -> Vec<Value> {
    let first = "From: Ann Lee <ann@example.org>\r\nTo: support@shop.example\r\nSubject: Where is order NW-40001?\r\n\
                 Message-ID: <first@example.org>\r\nDate: Mon, 16 Nov 2026 09:00:00 +0000\r\n\r\n\
                 Hello, where is my order NW-40001? It has not arrived.\r\n";
    let second = if same_case {
        "From: Ann Lee <ann@example.org>\r\nTo: support@shop.example\r\nSubject: Re: Where is order NW-40001?\r\n\
         Message-ID: <second@example.org>\r\nIn-Reply-To: <first@example.org>\r\nReferences: <first@example.org>\r\n\
         Date: Mon, 16 Nov 2026 10:00:00 +0000\r\n\r\nAnd my other order NW-40002 has not arrived either.\r\n"
    } else {
        "From: Bo Kim <bo@example.net>\r\nTo: support@shop.example\r\nSubject: Parcel NW-40002 missing\r\n\
         Message-ID: <other@example.net>\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n\r\n\
         My order NW-40002 has not arrived.\r\n"
    };
    let files: Vec<String> = [("first.eml", first), ("second.eml", second)]
        .iter()
        .map(|(name, text)| {
            let path = env.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        })
        .collect();
    let out = env.run(&["fetch", "--quiet", "--eml", &files[0], &files[1]], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    jsonl(&out.stdout)
        .into_iter()
        .map(|mut r| {
            r["filter"] = json!({"verdict": "pass", "reasons": []});
            r["triage"] = json!({
                "category": "shipping", "priority": "P3", "sentiment": "neutral", "language": "en",
                "confidence": 0.9, "escalate": false, "reasons": [], "entities": {}, "backend": "labels", "model": ""
            });
            r
        })
        .collect()
}

/// A config whose order lookup is OVERLAP_HOOK (it logs to `hook.log`).
fn env_with_overlap_hook() -> Env {
    let env = Env::new();
    let hook = env.path().join("hook.sh");
    std::fs::write(&hook, OVERLAP_HOOK).unwrap();
    env.write_config(&format!(
        "[team]\nname = \"Northwind Goods Support\"\ndomains = [\"shop.example\"]\n\n\
         [draft]\nknowledge_dir = {knowledge:?}\norder_lookup_command = {lookup:?}\n",
        knowledge = common::examples().join("knowledge").display().to_string(),
        lookup = format!("bash '{}'", hook.display()),
    ));
    env
}

/// `draft -j 4` reading a pipe the test writes as it likes.
fn draft_on_a_pipe(env: &Env) -> std::process::Child {
    env.cmd(&["draft", "-j", "4"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

fn hook_log(env: &Env) -> Vec<String> {
    let log = std::fs::read_to_string(env.path().join("hook.log")).unwrap_or_default();
    log.lines().map(str::to_string).collect()
}

#[test]
fn lookups_overlap_and_the_drafts_are_those_made_one_at_a_time() {
    // Two customers, or one customer's question and follow-up (one case: the reply's draft
    // looks up the first message's order too).
    for same_case in [false, true] {
        let mut bodies = Vec::new();
        for jobs in ["1", "4"] {
            let env = env_with_overlap_hook();
            let input = two_order_questions(&env, same_case);
            let (out, drafted) = draft(&env, &input, &["-j", jobs]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            let ids: Vec<&Value> = drafted.iter().map(|r| &r["id"]).collect();
            let input_ids: Vec<&Value> = input.iter().map(|r| &r["id"]).collect();
            assert_eq!(ids, input_ids, "records come out in input order");
            let log = hook_log(&env);
            assert_eq!(log.len(), if same_case { 6 } else { 4 }, "{log:?}");
            let overlapped = log[0].starts_with("start") && log[1].starts_with("start");
            assert_eq!(overlapped, jobs == "4", "lookups overlap only with -j 4: {log:?}");
            bodies.push(drafted.iter().map(|r| r["draft"]["body"].as_str().unwrap().to_string()).collect::<Vec<_>>());
        }
        assert_eq!(bodies[0], bodies[1], "the same drafts with -j 1 and -j 4");
    }
}

#[test]
fn drafts_made_eight_at_a_time_are_those_made_one_message_per_run() {
    // One `draft` process per record stores each draft before the next message's context is
    // read; `-j 8` reads contexts ahead of the stores. The sample inbox has threads.
    let passing: Vec<Value> = labels().into_iter().filter(|l| l["verdict"] == "pass").collect();
    let lookup = common::examples().join("order-lookup.sh").display().to_string();
    let (alone, together) = (env_with(&lookup), env_with(&lookup));
    let input = import(&alone, &passing);
    import(&together, &passing);
    let one_by_one: Vec<Value> = input
        .iter()
        .map(|r| {
            let (out, drafted) = draft(&alone, std::slice::from_ref(r), &["-j", "1"]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            drafted.into_iter().next().unwrap()
        })
        .collect();
    let (out, at_once) = draft(&together, &input, &["-j", "8"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(at_once.len(), one_by_one.len());
    for (a, b) in one_by_one.iter().zip(&at_once) {
        assert_eq!(a["id"], b["id"], "input order");
        assert_eq!(a["draft"], b["draft"], "message {}", a["id"]);
    }
}

#[test]
fn strict_stops_at_a_failed_draft_and_reports_nothing_read_after_it() {
    // A team template that cannot render fails the complaint's draft on its drafting thread,
    // after the lines behind it were read: the stop is still at the complaint.
    let env = env_with(&fixture("order-lookup.sh").display().to_string());
    let templates = env.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(templates.join("complaint.txt.j2"), "{{ no_such_value }}\n").unwrap();
    let input = import(&env, &[label("009"), label("001")]);
    assert_eq!(input[0]["triage"]["category"], "complaint");
    let mut text = String::from_utf8(lines(&input[..1])).unwrap();
    text.push_str("{not json\n");
    text.push_str(&String::from_utf8(lines(&input[1..])).unwrap());
    let out = env.run(&["--strict", "draft", "-j", "4", "--templates", templates.to_str().unwrap()], text.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(jsonl(&out.stdout).is_empty());
    let err = stderr(&out);
    assert!(err.contains("stopped at stdin:1"), "{err}");
    assert!(!err.contains("stdin:2") && !err.contains("stdin:3"), "nothing after the stop is reported: {err}");
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts"), 0);
}

#[test]
fn strict_stops_at_the_first_bad_line_with_everything_before_it_drafted_and_nothing_after_reported() {
    let env = env_with(&fixture("order-lookup.sh").display().to_string());
    let input = import(&env, &[label("001"), label("007"), label("009"), label("013")]);
    let mut text = String::from_utf8(lines(&input[..2])).unwrap();
    text.push_str("{not json\n");
    text.push_str(&String::from_utf8(lines(&input[2..])).unwrap());
    text.push_str("also not json\n");
    let out = env.run(&["--strict", "draft", "-j", "4"], text.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let written = jsonl(&out.stdout);
    assert_eq!(written.iter().map(|r| &r["id"]).collect::<Vec<_>>(), [&input[0]["id"], &input[1]["id"]]);
    let err = stderr(&out);
    assert!(err.contains("stdin:3") && err.contains("stopped at stdin:3"), "{err}");
    assert!(!err.contains("stdin:6"), "nothing after the stop is reported: {err}");
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts"), 2, "the drafts after the stop are not stored");
}

#[test]
fn a_record_that_trickles_in_is_drafted_and_written_before_the_next_one_arrives() {
    // `fetch --idle | filter | classify | draft`: the pipe stays open between messages.
    use std::io::{BufRead, Write};
    let env = env_with(&fixture("order-lookup.sh").display().to_string());
    let input = import(&env, &[label("001"), label("007")]);
    let mut child = draft_on_a_pipe(&env);
    let mut stdin = child.stdin.take().unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (sent, out) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let _ = sent.send(line.unwrap());
        }
    });
    stdin.write_all(&lines(&input[..1])).unwrap();
    stdin.flush().unwrap();
    // A hang guard, not a timing goal: without the record, this waits for a line that never comes.
    let first = out.recv_timeout(std::time::Duration::from_secs(60)).expect("the first record, before the second line");
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["id"], input[0]["id"]);
    assert!(first["draft"]["body"].is_string());
    stdin.write_all(&lines(&input[1..])).unwrap();
    drop(stdin);
    let second: Value = serde_json::from_str(&out.recv_timeout(std::time::Duration::from_secs(60)).unwrap()).unwrap();
    assert_eq!(second["id"], input[1]["id"]);
    assert!(child.wait().unwrap().success());
    assert_eq!(env.count("SELECT COUNT(*) FROM drafts"), 2);
}

#[test]
fn a_line_that_comes_while_drafts_are_in_flight_is_drafted_alongside_them() {
    // A bursty pipe: the second record comes after a pause, while the first's order lookup
    // is still running. It is taken at once, not after the first draft is done.
    use std::io::Write;
    let env = env_with_overlap_hook();
    let input = two_order_questions(&env, false);
    let mut child = draft_on_a_pipe(&env);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&lines(&input[..1])).unwrap();
    stdin.flush().unwrap();
    // The first lookup has started (a hang guard bounds the wait), and the input has been
    // quiet for a while when the second line comes.
    for _ in 0..600 {
        if !hook_log(&env).is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    stdin.write_all(&lines(&input[1..])).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let ids: Vec<Value> = jsonl(&out.stdout).iter().map(|r| r["id"].clone()).collect();
    assert_eq!(ids, [input[0]["id"].clone(), input[1]["id"].clone()], "both, in input order");
    let log = hook_log(&env);
    assert!(log[0].starts_with("start") && log[1].starts_with("start"), "the lookups overlap: {log:?}");
}
