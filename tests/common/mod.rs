//! Helpers shared by the integration tests: a hermetic `mailroom` command, paths to the
//! bundled examples and the shared development data.
#![allow(dead_code)]

pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mailroom"))
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn examples() -> PathBuf {
    root().join("examples")
}

/// `shared/data` of the workplace: `MAILROOM_SHARED_DATA`, or the first `shared/data` found
/// next to the project or one of its parent folders. Fails loudly: a missing corpus must
/// never turn into a silently skipped test.
pub fn shared_data() -> PathBuf {
    if let Some(p) = std::env::var_os("MAILROOM_SHARED_DATA") {
        return PathBuf::from(p);
    }
    for dir in root().ancestors() {
        let candidate = dir.join("shared").join("data");
        if candidate.is_dir() {
            return candidate;
        }
    }
    // A clone made outside the workplace folder (CI in /tmp, say) still finds the corpus.
    let workplace = PathBuf::from("/work/shared/data");
    if workplace.is_dir() {
        return workplace;
    }
    panic!("shared/data not found next to {} or its parents; set MAILROOM_SHARED_DATA", root().display());
}

/// A temp folder with its own config and ledger, and a command builder that ignores the
/// caller's environment.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env { dir: tempfile::tempdir().expect("tempdir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn ledger(&self) -> PathBuf {
        self.dir.path().join("ledger.sqlite")
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config(), text).expect("write config");
    }

    /// `mailroom ARGS` with a scrubbed environment, this env's ledger and (if written) config.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        for (k, _) in std::env::vars() {
            if k.starts_with("MAILROOM_") || k.starts_with("XDG_") || k == "EDITOR" || k == "VISUAL" {
                c.env_remove(k);
            }
        }
        c.env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("xdg-config"))
            .env("XDG_DATA_HOME", self.path().join("xdg-data"))
            .env("RUST_BACKTRACE", "0")
            .env("MAILROOM_USER", "tester")
            .arg("--ledger")
            .arg(self.ledger());
        if self.config().exists() {
            c.arg("--config").arg(self.config());
        }
        c.args(args);
        c
    }

    /// Runs with `stdin` as input and returns the output.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut c = self.cmd(args);
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn mailroom");
        {
            use std::io::Write;
            let mut input = child.stdin.take().expect("stdin");
            let data = stdin.to_vec();
            std::thread::spawn(move || {
                let _ = input.write_all(&data);
            });
        }
        child.wait_with_output().expect("wait mailroom")
    }

    /// Opens the ledger for assertions.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.ledger()).expect("open ledger")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).expect("count query")
    }
}

/// Parses JSONL output into values, failing on any line that is not JSON.
pub fn jsonl(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}")))
        .collect()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A tokio runtime on this thread, with the TLS provider the IMAP and SMTP clients use.
pub fn rt() -> tokio::runtime::Runtime {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// A tag no other test of this binary (nor another binary's run) uses: mailbox names,
/// Message-IDs and subjects on the shared servers.
pub fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// Reads one HTTP/1.1 request from `reader` and returns its body (by Content-Length), or None
/// when the connection ended before the whole body came.
pub fn read_request_body(reader: &mut impl std::io::BufRead) -> Option<Vec<u8>> {
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

/// A chat-completions endpoint on loopback speaking the OpenAI wire format: request N gets
/// `answers[N]` as the assistant's content (the last one repeats), a model that says whatever
/// a test needs. Returns its base URL (`…/v1`) and the request bodies it received.
pub fn chat_server(answers: Vec<String>) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
            let Some(body) = read_request_body(&mut reader) else { continue };
            log.lock().expect("log").push(String::from_utf8_lossy(&body).into_owned());
            let content = answers.get(i).or(answers.last()).expect("an answer");
            let reply = serde_json::json!({
                "id": "chatcmpl-test", "object": "chat.completion", "created": 1_763_700_000, "model": "test-model",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140}
            })
            .to_string();
            // One write: pieces written one by one wait for the client's delayed ACK (Nagle).
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, seen)
}
