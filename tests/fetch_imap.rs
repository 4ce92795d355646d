//! `mailroom fetch` against a real Dovecot on loopback (started once for this test binary).
//!
//! Tests run in parallel: each one uses its own mailbox (created over IMAP) or its own
//! user's INBOX, so none sees another's mail.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::servers::servers;
use common::{Env, jsonl, stderr};
use mailroom::config::{ImapConfig, TlsMode};
use mailroom::mail::imap::{IdleEnd, ImapSession};

fn rt() -> tokio::runtime::Runtime {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

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

/// A mailbox name no other test uses.
fn fresh_mailbox(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
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
    let mailbox = fresh_mailbox("api");
    for tls in [TlsMode::None, TlsMode::Starttls, TlsMode::Implicit] {
        rt().block_on(async {
            let mut s = ImapSession::connect(&imap_config("test", tls), "t").await.expect("connect");
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
