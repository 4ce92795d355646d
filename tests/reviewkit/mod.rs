//! Drafts to review, for the review and notify tests: real messages parsed from RFC 822 text
//! and stored through the library, with a triage result and a pending draft, as the classify
//! and draft stages would leave them.
#![allow(dead_code)]

use std::path::Path;

use mailroom::ledger::Ledger;
use mailroom::ledger::drafts::{NewDraft, insert_draft};
use mailroom::ledger::messages::{NewMessage, insert_message};
use mailroom::ledger::results::{NewResult, Stage, add_result};
use mailroom::mail::parse::parse_message;
use serde_json::json;

/// One message with its draft.
pub struct Seed<'a> {
    pub from: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub date: &'a str,
    pub category: &'a str,
    pub priority: &'a str,
    pub risk: &'a str,
    pub reply: &'a str,
    pub missing: &'a [&'a str],
}

impl Default for Seed<'_> {
    fn default() -> Self {
        Seed {
            from: "Jane Doe <jane@example.com>",
            subject: "Where is my order?",
            body: "Hi, my order 12345 has not arrived yet. Can you check?",
            date: "Mon, 16 Nov 2026 09:00:00 +0000",
            category: "shipping",
            priority: "P3",
            risk: "low",
            reply: "Hello Jane,\n\nYour parcel is on its way.\n\nBest regards,\nThe Support Team\n",
            missing: &[],
        }
    }
}

/// The ids of a stored seed.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub message: String,
    pub draft: String,
}

/// Stores `seed` in the ledger at `path` as a pending draft.
pub fn seed(path: &Path, seed: &Seed<'_>) -> Seeded {
    let raw = format!(
        "From: {}\r\nTo: support@shop.example\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@example.com>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        seed.from,
        seed.subject,
        seed.date,
        seed.subject.len() * 7919 + seed.body.len(),
        seed.body
    );
    let parsed = parse_message(raw.as_bytes(), "files", "INBOX", 1 << 20);
    let message = parsed.record.id.clone();
    let draft_id = format!("d{}", &message[1..13]);
    let triage = json!({
        "category": seed.category, "priority": seed.priority, "sentiment": "neutral", "language": "en",
        "confidence": 0.8, "escalate": false, "reasons": [format!("keywords point to {}", seed.category)],
        "entities": {"order_ids": ["12345"]}, "backend": "embedded", "model": "test",
    });
    let draft = json!({
        "id": draft_id, "subject": format!("Re: {}", seed.subject), "body": seed.reply,
        "missing_info": seed.missing, "risk": seed.risk, "review_required": true,
        "backend": "template", "model": "test", "sources": ["knowledge/shipping.md"],
    });
    let mut ledger = Ledger::open(path).expect("open ledger");
    ledger
        .write(|tx| {
            insert_message(
                tx,
                &NewMessage { record: &parsed.record, raw: raw.as_bytes(), raw_sha256: &parsed.raw_sha256 },
                None,
            )?;
            for (stage, summary, value) in [(Stage::Triage, seed.category, &triage), (Stage::Draft, draft_id.as_str(), &draft)] {
                add_result(
                    tx,
                    &NewResult {
                        message: &message,
                        stage,
                        summary,
                        backend: "test",
                        model: "test",
                        prompt_version: "1",
                        result: value,
                        run_id: None,
                    },
                )?;
            }
            insert_draft(
                tx,
                &NewDraft {
                    id: &draft_id,
                    message: &message,
                    subject: &format!("Re: {}", seed.subject),
                    body: seed.reply,
                    risk: seed.risk,
                    category: Some(seed.category),
                    priority: Some(seed.priority),
                    confidence: Some(0.8),
                    draft_json: &draft,
                },
                None,
            )?;
            Ok(())
        })
        .expect("seed draft");
    Seeded { message, draft: draft_id }
}

/// State, actor and reason of a draft.
pub fn draft_state(path: &Path, draft: &str) -> (String, Option<String>, Option<String>, String) {
    let conn = rusqlite::Connection::open(path).expect("open ledger");
    conn.query_row(
        "SELECT state, decided_by, decision_reason, body FROM drafts WHERE id = ?1",
        [draft],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .expect("draft row")
}

/// Kinds and actors of a draft's events, oldest first.
pub fn draft_events(path: &Path, draft: &str) -> Vec<(String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).expect("open ledger");
    let mut stmt = conn.prepare("SELECT kind, actor FROM events WHERE draft = ?1 ORDER BY id").unwrap();
    stmt.query_map([draft], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

/// A free TCP port on loopback (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, what: &str) {
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{what} did not start listening on 127.0.0.1:{port}");
}

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub target: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("webhook body is not JSON ({e}): {}", self.body))
    }
}

/// A local webhook receiver: answers each request with the next scripted (status, body)
/// (the last one repeats) and keeps what it received.
pub struct Receiver {
    pub port: u16,
    pub got: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl Receiver {
    pub fn start(script: Vec<(u16, &'static str)>) -> Receiver {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let store = got.clone();
        std::thread::spawn(move || {
            let mut n = 0usize;
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                let mut parts = request_line.split_whitespace();
                store.lock().unwrap().push(Received {
                    method: parts.next().unwrap_or("").to_string(),
                    target: parts.next().unwrap_or("").to_string(),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                let (status, text) = script[n.min(script.len() - 1)];
                n += 1;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            }
        });
        Receiver { port, got }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}
