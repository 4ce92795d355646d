//! `mailroom review` scriptable forms: each action writes a JSON decision and leaves the
//! ledger in the state the terminal flow and the web page would.

mod common;
mod reviewkit;

use common::{Env, jsonl, stderr};
use reviewkit::{Seed, draft_events, draft_state, seed};

fn three(env: &Env) -> [reviewkit::Seeded; 3] {
    let old_p3 = seed(&env.ledger(), &Seed { subject: "Old question", date: "Mon, 02 Nov 2026 09:00:00 +0000", ..Seed::default() });
    let new_p1 = seed(
        &env.ledger(),
        &Seed {
            subject: "I will call my bank",
            date: "Fri, 20 Nov 2026 09:00:00 +0000",
            category: "payment",
            priority: "P1",
            risk: "high",
            missing: &["order number"],
            ..Seed::default()
        },
    );
    let new_p3 = seed(&env.ledger(), &Seed { subject: "Newer question", date: "Thu, 19 Nov 2026 09:00:00 +0000", ..Seed::default() });
    [old_p3, new_p1, new_p3]
}

#[test]
fn list_puts_the_most_urgent_first() {
    let env = Env::new();
    let [old_p3, new_p1, new_p3] = three(&env);
    let out = env.run(&["review", "list"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = jsonl(&out.stdout);
    let order: Vec<&str> = rows.iter().map(|r| r["draft"].as_str().unwrap()).collect();
    assert_eq!(order, [new_p1.draft.as_str(), old_p3.draft.as_str(), new_p3.draft.as_str()]);
    assert_eq!(rows[0]["priority"], "P1");
    assert_eq!(rows[0]["missing_info"][0], "order number");
    assert_eq!(rows[0]["from"], "Jane Doe <jane@example.com>");

    // Decided drafts leave the default listing but show with --state / --all.
    env.run(&["review", "handle", &new_p1.draft], b"");
    assert_eq!(jsonl(&env.run(&["review", "list", "--json"], b"").stdout).len(), 2);
    let handled = jsonl(&env.run(&["review", "list", "--state", "handled"], b"").stdout);
    assert_eq!(handled.len(), 1);
    assert_eq!(jsonl(&env.run(&["review", "list", "--all"], b"").stdout).len(), 3);
    let bad = env.run(&["review", "list", "--state", "done"], b"");
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

#[test]
fn approve_writes_a_decision_and_refuses_a_second_approval() {
    let env = Env::new();
    let s = seed(&env.ledger(), &Seed::default());
    // A message id means its newest draft.
    let out = env.run(&["review", "approve", &s.message], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let d = &jsonl(&out.stdout)[0];
    assert_eq!(d["action"], "approve");
    assert_eq!(d["draft"], s.draft.as_str());
    assert_eq!(d["previous"], "pending");
    assert_eq!(d["state"], "approved");
    assert_eq!(d["actor"], "tester");
    // No SMTP account is configured, so "send now" cannot send: the draft stays queued for `mailroom send`.
    assert_eq!(d["delivery"], "queued");
    let (state, by, _, _) = draft_state(&env.ledger(), &s.draft);
    assert_eq!((state.as_str(), by.as_deref()), ("approved", Some("tester")));

    let again = env.run(&["review", "--as", "bob", "approve", &s.draft], b"");
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("is approved, only pending"), "{}", stderr(&again));
    assert!(again.stdout.is_empty());
    assert_eq!(draft_state(&env.ledger(), &s.draft).1.as_deref(), Some("tester"));
}

#[test]
fn several_ids_go_through_even_when_one_fails() {
    let env = Env::new();
    let [a, b, _] = three(&env);
    let out = env.run(&["review", "--as", "alice", "reject", &a.draft, "nope", &b.draft, "--reason", "duplicate"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nope: no draft or message with id nope"), "{}", stderr(&out));
    let decisions = jsonl(&out.stdout);
    assert_eq!(decisions.len(), 2);
    for (d, s) in decisions.iter().zip([&a, &b]) {
        assert_eq!(d["draft"], s.draft.as_str());
        assert_eq!(d["reason"], "duplicate");
        let (state, by, reason, _) = draft_state(&env.ledger(), &s.draft);
        assert_eq!((state.as_str(), by.as_deref(), reason.as_deref()), ("rejected", Some("alice"), Some("duplicate")));
    }
}

#[test]
fn reject_without_a_reason_is_a_usage_error() {
    let env = Env::new();
    let s = seed(&env.ledger(), &Seed::default());
    let out = env.run(&["review", "reject", &s.draft], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(draft_state(&env.ledger(), &s.draft).0, "pending");
}

#[test]
fn edit_from_a_file_stdin_or_the_editor() {
    let env = Env::new();
    let s = seed(&env.ledger(), &Seed::default());
    let file = env.path().join("reply.txt");
    std::fs::write(&file, "Hello Jane,\r\n\r\nIt ships tomorrow.\r\n").unwrap();
    let out = env.run(&["review", "edit", &s.draft, "--body-file", file.to_str().unwrap(), "--subject", "Re: your order"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout)[0]["action"], "edit");
    let (state, _, _, body) = draft_state(&env.ledger(), &s.draft);
    assert_eq!((state.as_str(), body.as_str()), ("pending", "Hello Jane,\n\nIt ships tomorrow.\n"));

    let out = env.run(&["review", "edit", &s.message, "--body-file", "-"], b"From stdin.\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(draft_state(&env.ledger(), &s.draft).3, "From stdin.\n");

    // Unchanged text records nothing.
    let out = env.run(&["review", "edit", &s.draft, "--body-file", "-"], b"From stdin.");
    assert!(out.status.success() && out.stdout.is_empty(), "{}", stderr(&out));

    let mut cmd = env.cmd(&["review", "edit", &s.draft]);
    cmd.env("EDITOR", "sed -i s/stdin/the-editor/");
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(draft_state(&env.ledger(), &s.draft).3, "From the-editor.\n");

    let mut cmd = env.cmd(&["review", "edit", &s.draft]);
    cmd.env("EDITOR", "false");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("was not changed"), "{}", stderr(&out));

    let edits = draft_events(&env.ledger(), &s.draft).iter().filter(|(k, _)| k == "draft.edited").count();
    assert_eq!(edits, 3);
}

#[test]
fn handle_and_recategorize_are_recorded() {
    let env = Env::new();
    let s = seed(&env.ledger(), &Seed::default());
    let out = env.run(&["review", "recategorize", &s.draft, "refund"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout)[0]["category"], "refund");
    assert_eq!(
        env.count(&format!("SELECT COUNT(*) FROM labels WHERE message = '{}' AND task = 'category' AND label = 'refund' AND source = 'recategorize' AND actor = 'tester'", s.message)),
        1
    );
    // The new triage is current: export shows it.
    let exported = jsonl(&env.run(&["export", "--id", &s.message], b"").stdout);
    assert_eq!(exported[0]["triage"]["category"], "refund");
    assert_eq!(exported[0]["triage"]["priority"], "P3");

    let bad = env.run(&["review", "recategorize", &s.draft, "refnud"], b"");
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("known: shipping, refund"), "{}", stderr(&bad));

    let out = env.run(&["review", "handle", &s.draft, "--note", "answered by phone"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let (state, by, reason, _) = draft_state(&env.ledger(), &s.draft);
    assert_eq!((state.as_str(), by.as_deref(), reason.as_deref()), ("handled", Some("tester"), Some("answered by phone")));
}

#[test]
fn show_tells_the_whole_story() {
    let env = Env::new();
    let s = seed(&env.ledger(), &Seed { missing: &["order number", "photos of the damage"], ..Seed::default() });
    env.run(&["review", "--as", "alice", "edit", &s.draft, "--body-file", "-"], b"New text\n");
    let out = env.run(&["review", "show", &s.message], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let d = &jsonl(&out.stdout)[0];
    assert_eq!(d["checklist"], serde_json::json!(["order number", "photos of the damage"]));
    assert_eq!(d["reasons"][0], "triage: keywords point to shipping");
    assert_eq!(d["record"]["subject"], "Where is my order?");
    assert_eq!(d["draft"]["body"], "New text\n");
    let kinds: Vec<&str> = d["history"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["draft.created", "draft.edited"]);
    assert_eq!(d["history"][1]["actor"], "alice");
}

#[test]
fn links_are_signed_and_carry_the_review_url() {
    let env = Env::new();
    env.write_config("[team]\nreview_url = \"https://review.shop.example/\"\n");
    let s = seed(&env.ledger(), &Seed::default());
    let out = env.run(&["review", "link", &s.draft, "--listing"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("https://review.shop.example/?t="), "{text}");
    assert!(lines[1].starts_with(&format!("https://review.shop.example/m/{}?t=", s.message)), "{text}");
    // The signing secret stays in the ledger and is not what the link shows.
    let secret: String = env.db().query_row("SELECT value FROM kv WHERE key = 'review.link_secret'", [], |r| r.get(0)).unwrap();
    assert!(!text.contains(&secret));
}

#[test]
fn the_interactive_form_needs_a_terminal() {
    let env = Env::new();
    let out = env.run(&["review"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("needs a terminal"), "{}", stderr(&out));
}
