//! `mailroom fetch` against a real Dovecot on loopback (started once for this test binary).
//!
//! Tests run in parallel: each one uses its own mailbox (created over IMAP) or its own
//! user's INBOX, so none sees another's mail.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::servers::servers;
use common::{Env, jsonl, rt, stderr, unique};
use mailroom::config::{ImapConfig, TlsMode};
use mailroom::mail::imap::{IdleEnd, ImapSession};


/// An ImapConfig for a Dovecot user, in the given TLS mode.
fn imap_config(user: &str, tls: TlsMode) -> ImapConfig {
    let s = servers();
    let port = match tls {
        TlsMode::Implicit => s.port("IMAPS_PORT"),
        _ => s.port("IMAP_PORT"),
    };
    let text = format!(
        "host = \"127.0.0.1\"\nport = {port}\ntls = \"{}\"\nuser = \"{user}\"\npassword = \"secret\"\nca_file = \"{}\"\n",
        match tls {
            TlsMode::Implicit => "implicit",
            TlsMode::Starttls => "starttls",
            TlsMode::None => "none",
        },
        s.ca_file()
    );
    toml::from_str(&text).expect("imap config")
}


fn message(n: usize, subject: &str) -> Vec<u8> {
    format!(
        "From: Customer {n} <c{n}@example.com>\r\nTo: support@example.test\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}-{n}@example.com>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\n\
         Hello, this is message {n} about my order #{n}00.\r\n"
    )
    .into_bytes()
}

/// Runs IMAP commands as `user` (for setting up a test).
fn with_session<T>(user: &str, f: impl AsyncFnOnce(&mut ImapSession) -> T) -> T {
    rt().block_on(async {
        let mut s = ImapSession::connect(&imap_config(user, TlsMode::None), user).await.expect("test login");
        let out = f(&mut s).await;
        s.logout().await;
        out
    })
}

fn create_with(user: &str, mailbox: &str, messages: &[Vec<u8>]) {
    with_session(user, async |s| {
        s.create(mailbox).await.expect("create");
        for m in messages {
            s.append(mailbox, &[], m).await.expect("append");
        }
    });
}

/// Delivers a message to `user`'s INBOX over LMTP, as a real MTA would.
fn lmtp_deliver(user: &str, raw: &[u8]) {
    let port = servers().port("LMTP_PORT");
    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("lmtp connect");
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut expect = |code: &str| {
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("lmtp read");
            assert!(line.starts_with(code), "LMTP expected {code}, got {line:?}");
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
    };
    expect("220");
    for (cmd, code) in [
        ("LHLO test.local".to_string(), "250"),
        ("MAIL FROM:<sender@example.com>".to_string(), "250"),
        (format!("RCPT TO:<{user}@example.test>"), "250"),
        ("DATA".to_string(), "354"),
    ] {
        conn.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
        expect(code);
    }
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n").replace("\n.", "\n..").replace('\n', "\r\n");
    conn.write_all(text.as_bytes()).unwrap();
    conn.write_all(b"\r\n.\r\n").unwrap();
    expect("250");
    conn.write_all(b"QUIT\r\n").unwrap();
}

#[test]
fn session_api_works_over_plain_starttls_and_implicit_tls() {
    let mailbox = unique("api");
    for tls in [TlsMode::None, TlsMode::Starttls, TlsMode::Implicit] {
        rt().block_on(async {
            let s = ImapSession::connect(&imap_config("test", tls), "t").await.expect("connect");
            assert!(s.has_capability("IDLE"));
            s.logout().await;
        });
    }
    let raw = message(1, "api");
    create_with("test", &mailbox, &[raw.clone(), message(2, "api")]);
    rt().block_on(async {
        let mut s = ImapSession::connect(&imap_config("test", TlsMode::Implicit), "t").await.unwrap();
        let st = s.select(&mailbox).await.unwrap();
        assert_eq!(st.exists, 2);
        assert_eq!(st.uidnext, Some(3));
        let sizes = s.fetch_sizes("1:*").await.unwrap();
        assert_eq!(sizes.len(), 2);
        let got = s.fetch_range("1:2", None).await.unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].raw, raw);
        let head = s.fetch_range("1", Some(20)).await.unwrap();
        assert_eq!(head[0].raw.len(), 20);
        assert!(head[0].truncated);
        // BODY.PEEK: still unseen.
        assert_eq!(s.uid_search("UNSEEN").await.unwrap(), vec![1, 2]);
        assert_eq!(s.search_header_message_id(&mailbox, "<api-2@example.com>").await.unwrap(), Some(2));
        assert_eq!(s.search_header_message_id(&mailbox, "<nope@example.com>").await.unwrap(), None);
        s.select(&mailbox).await.unwrap();
        let (s, end) = s.idle(Duration::from_millis(300), std::future::pending()).await.unwrap();
        assert_eq!(end, IdleEnd::Timeout);
        s.logout().await;
    });
}

/// `[accounts.NAME.imap]` for a Dovecot user; `extra` adds or overrides keys.
fn account(name: &str, user: &str, tls: &str, mailboxes: &[&str], extra: &str) -> String {
    let s = servers();
    let port = if tls == "implicit" { s.port("IMAPS_PORT") } else { s.port("IMAP_PORT") };
    let mailboxes: Vec<String> = mailboxes.iter().map(|m| format!("{m:?}")).collect();
    let password = if extra.contains("password") || extra.contains("token_command") { "" } else { "password = \"secret\"\n" };
    let ca = if extra.contains("ca_file") { String::new() } else { format!("ca_file = {:?}\n", s.ca_file()) };
    format!(
        "[accounts.{name}.imap]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{tls}\"\nuser = \"{user}\"\n{password}{ca}mailboxes = [{}]\n{extra}\n",
        mailboxes.join(", ")
    )
}

fn fetch(env: &Env, args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let mut all = vec!["fetch"];
    all.extend_from_slice(args);
    let out = env.run(&all, b"");
    (out.status.code().unwrap_or(-1), jsonl(&out.stdout), stderr(&out))
}

fn subjects(records: &[serde_json::Value]) -> Vec<String> {
    let mut s: Vec<String> = records.iter().map(|r| r["subject"].as_str().unwrap_or("").to_string()).collect();
    s.sort();
    s
}

#[test]
fn first_fetch_emits_all_second_none_then_only_new_mail() {
    // The only test that uses user `test`'s INBOX: real deliveries over LMTP.
    let env = Env::new();
    env.write_config(&account("support", "test", "starttls", &["INBOX"], ""));
    for n in 1..=3 {
        lmtp_deliver("test", &message(n, "incr"));
    }
    let (code, records, err) = fetch(&env, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(subjects(&records), vec!["incr"; 3]);
    for r in &records {
        assert_eq!(r["account"], "support");
        assert_eq!(r["mailbox"], "INBOX");
        assert!(r["uid"].as_u64().is_some() && r["uidvalidity"].as_u64().is_some(), "{r}");
    }

    let (code, records, err) = fetch(&env, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(records.is_empty(), "second fetch emitted {records:?}");

    lmtp_deliver("test", &message(4, "incr-new"));
    let (code, records, err) = fetch(&env, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(subjects(&records), vec!["incr-new"]);

    assert_eq!(env.count("SELECT COUNT(*) FROM messages"), 4);
    assert_eq!(env.count("SELECT highest_uid FROM sync_state WHERE account = 'support' AND mailbox = 'INBOX'"), 4);
    assert_eq!(env.count("SELECT COUNT(*) FROM locations WHERE account = 'support'"), 4);
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.login' AND status = 'ok' AND account = 'support'"), 3);
    assert!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.fetch' AND account = 'support'") >= 2);
    // BODY.PEEK: the messages are still unread on the server.
    let unseen = with_session("test", async |s| {
        s.select("INBOX").await.unwrap();
        s.uid_search("UNSEEN").await.unwrap()
    });
    assert_eq!(unseen.len(), 4);
}

#[test]
fn a_uidvalidity_change_refetches_without_duplicates() {
    let mailbox = unique("uv");
    let env = Env::new();
    env.write_config(&account("support", "test", "implicit", &[&mailbox], "send_id = true"));
    let originals: Vec<Vec<u8>> = (1..=3).map(|n| message(n, "uv")).collect();
    create_with("test", &mailbox, &originals);
    let (code, records, err) = fetch(&env, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(records.len(), 3);
    let old_uv = env.count("SELECT uidvalidity FROM sync_state");

    // Rebuild the mailbox: a new UIDVALIDITY, the same messages (one with a header the
    // "server" added), plus one new message.
    with_session("test", async |s| s.delete(&mailbox).await.unwrap());
    let mut again = originals.clone();
    again[1] = [b"X-Rebuilt-By: migration\r\n".as_slice(), &originals[1]].concat();
    again.push(message(4, "uv-new"));
    create_with("test", &mailbox, &again);

    let (code, records, err) = fetch(&env, &["-v"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(subjects(&records), vec!["uv-new"], "stderr: {err}");
    assert!(err.contains("UIDVALIDITY changed"), "{err}");
    let new_uv = env.count("SELECT uidvalidity FROM sync_state");
    assert_ne!(old_uv, new_uv);
    assert_eq!(env.count("SELECT highest_uid FROM sync_state"), 4);
    assert_eq!(env.count("SELECT COUNT(*) FROM messages"), 4);
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.resync'"), 1);
    // All four new UIDs point at stored messages.
    assert_eq!(env.count(&format!("SELECT COUNT(*) FROM locations WHERE uidvalidity = {new_uv}")), 4);
    // The ID command was sent (send_id = true) and the login still worked.
    assert_eq!(
        env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.login' AND json_extract(detail_json, '$.id_sent') = 1"),
        2
    );
    let (_, records, _) = fetch(&env, &[]);
    assert!(records.is_empty());
}

#[test]
fn a_wrong_password_names_the_account_and_the_others_are_still_fetched() {
    const FAKE_PASSWORD: &str = "Zq7-fake-pw-83XKV";
    const FAKE_TOKEN: &str = "ya29.fake-token-5RTQ";
    let mailbox = unique("pw");
    create_with("test", &mailbox, &[message(1, "pw"), message(2, "pw")]);
    let oauth_box = unique("oauth");
    create_with("test", &oauth_box, &[message(1, "oauth")]);
    let env = Env::new();
    let config = [
        account("aaa_wrong", "test", "implicit", &[&mailbox], &format!("password = {FAKE_PASSWORD:?}")),
        account("bbb_good", "test", "starttls", &[&mailbox], "password_command = \"echo secret\""),
        account("ccc_oauth", "test", "implicit", &[&mailbox], &format!("auth = \"xoauth2\"\ntoken_command = \"echo {FAKE_TOKEN}\"")),
        // The test Dovecot accepts the password as an XOAUTH2 bearer token.
        account("ddd_oauth_ok", "test", "implicit", &[&oauth_box], "auth = \"xoauth2\"\ntoken_command = \"echo secret\""),
    ]
    .concat();
    env.write_config(&config);
    let (code, records, err) = fetch(&env, &["-vv"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("account \"aaa_wrong\"") && err.contains("IMAP login failed"), "{err}");
    assert!(err.contains("AUTHENTICATIONFAILED") || err.contains("Authentication failed"), "{err}");
    assert!(err.contains("hint: check the password source"), "{err}");
    assert!(err.contains("account \"ccc_oauth\"") && err.contains("hint: check token_command"), "{err}");
    assert!(!err.contains("account \"bbb_good\"") && !err.contains("account \"ddd_oauth_ok\""), "{err}");
    assert_eq!(records.len(), 3);
    assert_eq!(records.iter().filter(|r| r["account"] == "bbb_good").count(), 2);
    assert_eq!(records.iter().filter(|r| r["account"] == "ddd_oauth_ok").count(), 1);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.login' AND status = 'ok' AND account = 'ddd_oauth_ok' AND json_extract(detail_json, '$.mechanism') = 'XOAUTH2'"),
        1
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.login' AND status = 'error' AND account = 'aaa_wrong'"), 1);
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.login' AND status = 'ok' AND account = 'bbb_good'"), 1);

    // No secret anywhere: stderr, stdout, or any file of the ledger (WAL included).
    let stdout = records.iter().map(|r| r.to_string()).collect::<String>();
    for secret in [FAKE_PASSWORD, FAKE_TOKEN] {
        assert!(!err.contains(secret), "secret on stderr: {err}");
        assert!(!stdout.contains(secret), "secret in records");
        for entry in std::fs::read_dir(env.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().starts_with("ledger.sqlite") {
                let bytes = std::fs::read(&path).unwrap();
                assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "secret in {}", path.display());
            }
        }
    }
}

#[test]
fn an_untrusted_certificate_is_refused_and_reported() {
    let env = Env::new();
    env.write_config(&account("strict", "test", "implicit", &["INBOX"], "ca_file = \"/dev/null/none\"\n"));
    // A ca_file that cannot be read is an error of that account, not a silent fallback.
    let (code, _, err) = fetch(&env, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("account \"strict\"") && err.contains("ca_file"), "{err}");

    // Without ca_file the self-signed test server is not trusted.
    let s = servers();
    env.write_config(&format!(
        "[accounts.strict.imap]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"test\"\npassword = \"secret\"\n",
        s.port("IMAPS_PORT")
    ));
    let (code, records, err) = fetch(&env, &[]);
    assert_eq!(code, 1);
    assert!(records.is_empty());
    assert!(err.contains("account \"strict\"") && err.contains("TLS"), "{err}");
    assert!(err.contains("ca_file"), "{err}");
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.connect' AND status = 'error' AND account = 'strict'"), 2);
}

#[test]
fn a_message_above_the_size_cap_is_stored_truncated_and_flagged() {
    let mailbox = unique("huge");
    let mut big = message(1, "huge");
    big.extend(std::iter::repeat_n(b"0123456789abcdef\r\n".as_slice(), 1000).flatten());
    create_with("test", &mailbox, &[big.clone(), message(2, "small")]);
    let env = Env::new();
    env.write_config(&account("support", "test", "none", &[&mailbox], "max_message_bytes = 4096"));
    let (code, records, err) = fetch(&env, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(records.len(), 2);
    let huge = records.iter().find(|r| r["subject"] == "huge").expect("huge record");
    let flags: Vec<&str> = huge["flags"].as_array().unwrap().iter().filter_map(|f| f.as_str()).collect();
    assert!(flags.contains(&"huge") && flags.contains(&"truncated"), "{flags:?}");
    assert_eq!(env.count(&format!("SELECT r.size FROM messages m JOIN raw_sources r ON r.sha256 = m.raw_sha256 WHERE m.id = '{}'", huge["id"].as_str().unwrap())), 4096);
    let small = records.iter().find(|r| r["subject"] == "small").unwrap();
    assert!(small.get("flags").is_none(), "{small}");
}

#[test]
fn since_starts_a_first_fetch_at_a_date_and_backfills_later() {
    let mailbox = unique("since");
    create_with("test", &mailbox, &[message(1, "since-old"), message(2, "since-old")]);
    let env = Env::new();
    env.write_config(&account("support", "test", "none", &[&mailbox], ""));
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
    // Starting "from the day after tomorrow": nothing yet, but the mailbox is now tracked.
    let (code, records, err) = fetch(&env, &["--since", &tomorrow]);
    assert_eq!(code, 0, "{err}");
    assert!(records.is_empty());
    assert_eq!(env.count("SELECT highest_uid FROM sync_state"), 2);

    with_session("test", async |s| s.append(&mailbox, &[], &message(3, "since-new")).await.unwrap());
    let (_, records, _) = fetch(&env, &[]);
    assert_eq!(subjects(&records), vec!["since-new"]);

    // Backfill: the two older messages, once.
    let (code, records, err) = fetch(&env, &["--since", "2000-01-01"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(subjects(&records), vec!["since-old", "since-old"]);
    let (_, records, _) = fetch(&env, &["--since", "2000-01-01"]);
    assert!(records.is_empty());

    let (code, _, err) = fetch(&env, &["--since", "yesterday"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn mark_seen_is_opt_in_and_unknown_accounts_are_config_errors() {
    let mailbox = unique("seen");
    create_with("test", &mailbox, &[message(1, "seen")]);
    let env = Env::new();
    env.write_config(&account("support", "test", "none", &[&mailbox], ""));
    let (code, records, err) = fetch(&env, &["--mark-seen"]);
    assert_eq!((code, records.len()), (0, 1), "{err}");
    let unseen = with_session("test", async |s| {
        s.select(&mailbox).await.unwrap();
        s.uid_search("UNSEEN").await.unwrap()
    });
    assert!(unseen.is_empty());

    let (code, _, err) = fetch(&env, &["--account", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown account \"nope\""), "{err}");

    // A missing mailbox fails that mailbox only.
    env.write_config(&account("support", "test", "none", &["No-Such-Box", &mailbox], ""));
    with_session("test", async |s| s.append(&mailbox, &[], &message(2, "seen-2")).await.unwrap());
    let (code, records, err) = fetch(&env, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("account \"support\" mailbox \"No-Such-Box\""), "{err}");
    assert_eq!(subjects(&records), vec!["seen-2"]);
}

/// `mailroom fetch --idle` with `args`, its stdout and stderr piped.
fn spawn_idle(env: &Env, args: &[&str]) -> std::process::Child {
    let args: Vec<&str> = ["fetch", "--idle"].into_iter().chain(args.iter().copied()).collect();
    env.cmd(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailroom fetch --idle")
}

/// Sends SIGTERM to a `fetch --idle` child, waits for it (a hang fails the test), checks that
/// it exited 0 and returns its stderr.
fn stop_with_sigterm(child: &mut std::process::Child) -> String {
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "fetch --idle did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    err
}

#[test]
fn idle_emits_new_mail_within_seconds_and_stops_cleanly_on_sigterm() {
    // The only test that uses user `customer`'s INBOX.
    let env = Env::new();
    env.write_config(&account("shop", "customer", "implicit", &["INBOX"], ""));
    lmtp_deliver("customer", &message(1, "idle-before"));
    let mut child = spawn_idle(&env, &["--idle-renew", "1"]);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(20)).expect("the waiting message is emitted at start");
    assert!(first.contains("idle-before"), "{first}");

    // Wait until the watcher is in IDLE (its catch-up select is logged), then deliver.
    let deadline = Instant::now() + Duration::from_secs(20);
    while env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.select' AND account = 'shop'") == 0 {
        assert!(Instant::now() < deadline, "no imap.select event");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    lmtp_deliver("customer", &message(2, "idle-arrived"));
    let line = rx.recv_timeout(Duration::from_secs(10)).expect("a record within seconds of delivery");
    let waited = sent.elapsed();
    assert!(line.contains("idle-arrived"), "{line}");
    assert!(waited < Duration::from_secs(5), "took {waited:?}");

    // IDLE is re-issued before the server's timeout (here: every second).
    std::thread::sleep(Duration::from_millis(1500));
    assert!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.idle' AND json_extract(detail_json, '$.end') = 'renew'") >= 1);

    // The server drops the connection: the watcher reconnects and catches up.
    let dovecot_conf = format!("{}/dovecot.conf", servers().get("DOVECOT_DIR"));
    let kicked = std::process::Command::new("doveadm").args(["-c", &dovecot_conf, "kick", "customer"]).output().unwrap();
    assert!(kicked.status.success(), "{kicked:?}");
    lmtp_deliver("customer", &message(3, "idle-after-drop"));
    let line = rx.recv_timeout(Duration::from_secs(15)).expect("a record after the reconnect");
    assert!(line.contains("idle-after-drop"), "{line}");
    assert!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.error' AND account = 'shop'") >= 1);
    assert!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.login' AND status = 'ok' AND account = 'shop'") >= 2);

    let err = stop_with_sigterm(&mut child);
    assert!(err.contains("account \"shop\" mailbox \"INBOX\"") && err.contains("reconnecting in"), "{err}");
    assert_eq!(env.count("SELECT COUNT(*) FROM messages"), 3);
    assert!(env.count("SELECT COUNT(*) FROM events WHERE kind = 'imap.idle' AND account = 'shop'") >= 1);
    assert_eq!(env.count("SELECT COUNT(*) FROM runs WHERE command = 'fetch' AND status = 'ok'"), 1);
}

/// A new folder of user `test` holding `count` messages, written straight into its Maildir
/// (APPEND one by one would be slow).
fn maildir_folder(tag: &str, count: usize) -> String {
    use std::os::unix::fs::MetadataExt;
    let mailbox = unique(tag);
    let root = servers().maildir("test");
    let owner = std::fs::metadata(&root).unwrap();
    let dir = root.join(format!(".{mailbox}"));
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for n in 0..count {
        let path = dir.join("cur").join(format!("{n:05}.bench.test:2,"));
        std::fs::write(&path, message(n, tag)).unwrap();
        std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
    for d in [dir.clone(), dir.join("cur"), dir.join("new"), dir.join("tmp")] {
        std::os::unix::fs::chown(&d, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
    mailbox
}

#[test]
fn a_backfill_of_many_messages_is_fetched_in_batches_in_uid_order() {
    let mailbox = maildir_folder("many", 1100);
    let env = Env::new();
    env.write_config(&account("support", "test", "implicit", &[&mailbox], ""));
    let (code, records, err) = fetch(&env, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(records.len(), 1100);
    let uids: Vec<u64> = records.iter().map(|r| r["uid"].as_u64().unwrap()).collect();
    assert!(uids.windows(2).all(|w| w[0] < w[1]), "records are not in UID order");
    // Batches start small, so parsing begins early, and double up to 500 messages.
    let batches: Vec<i64> = env
        .db()
        .prepare("SELECT json_extract(detail_json, '$.count') FROM events WHERE kind = 'imap.fetch' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(batches, [50, 100, 200, 400, 350]);
    assert_eq!(env.count("SELECT highest_uid FROM sync_state"), 1100);
    let (_, records, _) = fetch(&env, &[]);
    assert!(records.is_empty());
}

#[test]
fn a_watcher_stopped_during_a_backfill_exits_and_the_next_start_fetches_the_rest() {
    let mailbox = maildir_folder("stop", 3000);
    let env = Env::new();
    env.write_config(&account("support", "test", "implicit", &[&mailbox], ""));
    let mut child = spawn_idle(&env, &[]);
    let stdout = child.stdout.take().unwrap();
    let lines = std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<String>>());
    // Stop as soon as the first batch is in the ledger, while the rest still downloads (until
    // the ledger has its tables, there is nothing in it).
    let stored = || env.db().query_row("SELECT COUNT(*) FROM messages", [], |r| r.get::<_, i64>(0)).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while stored() == 0 {
        assert!(Instant::now() < deadline, "nothing stored");
        std::thread::sleep(Duration::from_millis(10));
    }
    stop_with_sigterm(&mut child);
    let first: Vec<serde_json::Value> = lines.join().unwrap().iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    eprintln!("the stopped run printed {} records", first.len());

    // What the stopped run printed and what the next one brings: every message once.
    let (code, rest, err) = fetch(&env, &[]);
    assert_eq!(code, 0, "{err}");
    let mut uids: Vec<u64> = first.iter().chain(&rest).map(|r| r["uid"].as_u64().unwrap()).collect();
    uids.sort_unstable();
    assert_eq!(uids, (1..=3000).collect::<Vec<u64>>(), "{} records from the stopped run, {} after", first.len(), rest.len());
    assert_eq!(env.count("SELECT COUNT(*) FROM messages"), 3000);
    assert_eq!(env.count("SELECT highest_uid FROM sync_state"), 3000);
}
