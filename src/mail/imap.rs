//! IMAP over tokio-rustls: connect (implicit TLS, STARTTLS or loopback plain text), log in
//! (LOGIN or XOAUTH2), and the handful of commands mailroom needs.
//!
//! ```text
//! let mut s = ImapSession::connect(&imap_config, "support").await?;
//! let status = s.select("INBOX").await?;
//! let sizes = s.fetch_sizes("1:*").await?;
//! let messages = s.fetch_range("1:500", None).await?;   // BODY.PEEK[]: nothing is marked read
//! s.append("Sent", &["\\Seen"], &raw).await?;
//! let uid = s.search_header_message_id("Sent", "<id@example.com>").await?;
//! s.logout().await;
//! ```
//!
//! Secrets: the password or token is resolved just before it is sent and lives only in a
//! `Secret`. Server answers can echo a user name, never a password, and none of the errors
//! here carry the command line that was sent. async-imap traces the raw protocol (LOGIN
//! included) through the `log` crate; mailroom installs no `log` bridge, so it goes nowhere.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_imap::imap_proto::{Response, Status};
use futures::TryStreamExt;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, RootCertStore};

use crate::config::{AuthMethod, ImapConfig, TlsMode};
use crate::secret::Secret;

/// How long to wait for a TCP connection, a TLS handshake, the greeting or a login.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one ordinary command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// How long one UID FETCH of a batch may take (a batch is up to tens of megabytes).
const FETCH_TIMEOUT: Duration = Duration::from_secs(600);

/// What went wrong, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// No TCP connection (DNS, refused, unreachable, timeout).
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    /// TLS could not be set up (certificate not trusted, handshake failed, bad ca_file).
    #[error("TLS with {addr} failed: {reason}")]
    Tls { addr: String, reason: String },
    /// The server refused the credentials, or the credentials could not be obtained.
    #[error("login as {user:?} at {addr} failed: {reason}")]
    Auth { user: String, addr: String, reason: String },
    /// The server answered NO or BAD to a command.
    #[error("{addr}: {command} failed: server said {reason}")]
    Server { addr: String, command: String, reason: String },
    /// The connection broke or timed out mid-way.
    #[error("connection to {addr} dropped during {command}: {reason}")]
    Dropped { addr: String, command: String, reason: String },
    /// The server sent something mailroom cannot use.
    #[error("{addr}: unexpected answer to {command}: {reason}")]
    Protocol { addr: String, command: String, reason: String },
}

impl ImapError {
    /// True for failures that a later attempt may not see (network, server restarts).
    pub fn is_transient(&self) -> bool {
        matches!(self, ImapError::Connect { .. } | ImapError::Dropped { .. })
    }
}

/// The byte stream under the IMAP client: plain TCP (loopback only) or TLS.
#[derive(Debug)]
pub enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A connected, greeted, not yet authenticated server.
pub struct Connection {
    client: async_imap::Client<Transport>,
    addr: String,
    /// Milliseconds from the first TCP packet to a usable (TLS) channel and greeting.
    pub connect_ms: u64,
}

/// The state of a selected mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxStatus {
    pub uidvalidity: u32,
    pub uidnext: Option<u32>,
    pub exists: u32,
}

/// One message as fetched.
#[derive(Debug, Clone)]
pub struct FetchedMessage {
    pub uid: u32,
    /// RFC822.SIZE: the full size on the server.
    pub size: Option<u32>,
    /// The bytes fetched: the whole message, or its first bytes when `truncated`.
    pub raw: Vec<u8>,
    pub truncated: bool,
}

/// Why an IDLE wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleEnd {
    /// The server reported a change (new mail, expunge, flags).
    Changed,
    /// Nothing happened for the whole wait: re-issue IDLE.
    Timeout,
    /// The caller asked to stop.
    Stopped,
}

/// An authenticated session.
pub struct ImapSession {
    session: async_imap::Session<Transport>,
    addr: String,
    /// Upper-case capability names after login.
    capabilities: HashSet<String>,
    pub connect_ms: u64,
    pub login_ms: u64,
    /// True when the ID command was sent after login.
    pub sent_id: bool,
}

impl fmt::Debug for ImapSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapSession").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl ImapSession {
    /// Connects and logs in: `Connection::open` + `Connection::login`.
    pub async fn connect(cfg: &ImapConfig, account: &str) -> Result<ImapSession, ImapError> {
        Connection::open(cfg).await?.login(cfg, account).await
    }

    /// True when the server announced `name` (e.g. "IDLE") after login.
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities.contains(&name.to_ascii_uppercase())
    }

    /// Drains what the server reported unasked during earlier commands; true when that
    /// includes new mail (EXISTS / RECENT). Call before IDLE: mail that arrived during a fetch
    /// is reported then, not again in IDLE.
    pub fn take_new_mail_notices(&mut self) -> bool {
        use async_imap::types::UnsolicitedResponse as U;
        let mut news = false;
        while let Ok(r) = self.session.unsolicited_responses.try_recv() {
            news |= matches!(r, U::Exists(_) | U::Recent(_));
        }
        news
    }

    /// SELECT (read-write, so IDLE and \Seen work; BODY.PEEK keeps messages unread).
    pub async fn select(&mut self, mailbox: &str) -> Result<MailboxStatus, ImapError> {
        let name = encode_mailbox(mailbox);
        let command = format!("SELECT {mailbox}");
        let mbox = timed(&self.addr, &command, COMMAND_TIMEOUT, self.session.select(&name)).await?;
        self.mailbox_status(mbox, &command)
    }

    /// EXAMINE: select read-only.
    pub async fn examine(&mut self, mailbox: &str) -> Result<MailboxStatus, ImapError> {
        let name = encode_mailbox(mailbox);
        let command = format!("EXAMINE {mailbox}");
        let mbox = timed(&self.addr, &command, COMMAND_TIMEOUT, self.session.examine(&name)).await?;
        self.mailbox_status(mbox, &command)
    }

    fn mailbox_status(&self, mbox: async_imap::types::Mailbox, command: &str) -> Result<MailboxStatus, ImapError> {
        let uidvalidity = mbox.uid_validity.ok_or_else(|| ImapError::Protocol {
            addr: self.addr.clone(),
            command: command.to_string(),
            reason: "no UIDVALIDITY in the answer".into(),
        })?;
        Ok(MailboxStatus { uidvalidity, uidnext: mbox.uid_next, exists: mbox.exists })
    }

    /// UID SEARCH with a raw query (`UID 5:*`, `SINCE 1-Jan-2026`); UIDs ascending.
    pub async fn uid_search(&mut self, query: &str) -> Result<Vec<u32>, ImapError> {
        let command = format!("UID SEARCH {query}");
        let set = timed(&self.addr, &command, COMMAND_TIMEOUT, self.session.uid_search(query)).await?;
        let mut uids: Vec<u32> = set.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// UID and RFC822.SIZE of the messages in `uid_set`, without their content.
    pub async fn fetch_sizes(&mut self, uid_set: &str) -> Result<Vec<(u32, u32)>, ImapError> {
        let command = format!("UID FETCH {uid_set} (RFC822.SIZE)");
        let addr = self.addr.clone();
        let session = &mut self.session;
        let fetches = timed(&addr, &command, FETCH_TIMEOUT, async move {
            session.uid_fetch(uid_set, "(UID RFC822.SIZE)").await?.try_collect::<Vec<_>>().await
        })
        .await?;
        let mut sizes: Vec<(u32, u32)> =
            fetches.iter().filter_map(|f| Some((f.uid?, f.size.unwrap_or(0)))).collect();
        sizes.sort_unstable();
        sizes.dedup_by_key(|(uid, _)| *uid);
        Ok(sizes)
    }

    /// Fetches whole messages with `BODY.PEEK[]` (never sets \Seen). With `max_bytes`, only the
    /// first `max_bytes` of each message (`BODY.PEEK[]<0.N>`); longer ones come back `truncated`.
    pub async fn fetch_range(&mut self, uid_set: &str, max_bytes: Option<u32>) -> Result<Vec<FetchedMessage>, ImapError> {
        let query = match max_bytes {
            Some(n) => format!("(UID RFC822.SIZE BODY.PEEK[]<0.{n}>)"),
            None => "(UID RFC822.SIZE BODY.PEEK[])".to_string(),
        };
        let command = format!("UID FETCH {uid_set} BODY.PEEK[]");
        let addr = self.addr.clone();
        let session = &mut self.session;
        let fetches = timed(&addr, &command, FETCH_TIMEOUT, async move {
            session.uid_fetch(uid_set, &query).await?.try_collect::<Vec<_>>().await
        })
        .await?;
        let mut out: Vec<FetchedMessage> = fetches
            .iter()
            // Unsolicited FETCH responses (flag changes by another client) carry no body.
            .filter_map(|f| {
                let uid = f.uid?;
                let raw = f.body()?.to_vec();
                let truncated = match (max_bytes, f.size) {
                    (Some(n), Some(size)) => size > n,
                    _ => false,
                };
                Some(FetchedMessage { uid, size: f.size, raw, truncated })
            })
            .collect();
        out.sort_unstable_by_key(|m| m.uid);
        out.dedup_by_key(|m| m.uid);
        Ok(out)
    }

    /// Sets \Seen on the messages in `uid_set` (only when the user asked for it).
    pub async fn mark_seen(&mut self, uid_set: &str) -> Result<(), ImapError> {
        self.add_flags(uid_set, &["\\Seen"]).await
    }

    /// APPEND `raw` to `mailbox` with `flags` (e.g. `["\\Seen"]`).
    pub async fn append(&mut self, mailbox: &str, flags: &[&str], raw: &[u8]) -> Result<(), ImapError> {
        let name = encode_mailbox(mailbox);
        let flags = if flags.is_empty() { None } else { Some(format!("({})", flags.join(" "))) };
        let command = format!("APPEND {mailbox}");
        timed(&self.addr, &command, FETCH_TIMEOUT, self.session.append(&name, flags.as_deref(), None, raw)).await
    }

    /// The UID of a message in `mailbox` whose Message-ID header is `message_id`, if any
    /// (the highest when there are several). EXAMINEs the mailbox (read-only).
    pub async fn search_header_message_id(&mut self, mailbox: &str, message_id: &str) -> Result<Option<u32>, ImapError> {
        let quoted = quote_string(message_id).ok_or_else(|| ImapError::Protocol {
            addr: self.addr.clone(),
            command: "UID SEARCH HEADER Message-ID".into(),
            reason: "the Message-ID contains a line break or NUL".into(),
        })?;
        self.examine(mailbox).await?;
        let uids = self.uid_search(&format!("HEADER Message-ID {quoted}")).await?;
        Ok(uids.last().copied())
    }

    /// CREATE a mailbox.
    pub async fn create(&mut self, mailbox: &str) -> Result<(), ImapError> {
        let name = encode_mailbox(mailbox);
        timed(&self.addr, &format!("CREATE {mailbox}"), COMMAND_TIMEOUT, self.session.create(&name)).await
    }

    /// DELETE a mailbox.
    pub async fn delete(&mut self, mailbox: &str) -> Result<(), ImapError> {
        let name = encode_mailbox(mailbox);
        timed(&self.addr, &format!("DELETE {mailbox}"), COMMAND_TIMEOUT, self.session.delete(&name)).await
    }

    /// Waits in IDLE on the selected mailbox until the server reports a change, `max` passes
    /// (re-issue before the server's inactivity timeout, at most 29 minutes by RFC 2177), or
    /// `stop` completes. Always ends IDLE with DONE before handing the session back.
    pub async fn idle(self, max: Duration, stop: impl Future<Output = ()>) -> Result<(ImapSession, IdleEnd), ImapError> {
        let ImapSession { session, addr, capabilities, connect_ms, login_ms, sent_id } = self;
        let dropped = |reason: String| ImapError::Dropped { addr: addr.clone(), command: "IDLE".into(), reason };
        let mut handle = session.idle();
        match tokio::time::timeout(COMMAND_TIMEOUT, handle.init()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(classify(&addr, "IDLE", e)),
            Err(_) => return Err(dropped("no answer to IDLE".into())),
        }
        let end = {
            // `_interrupt` must live as long as the wait: dropping it interrupts the stream.
            let (wait, _interrupt) = handle.wait_with_timeout(max);
            tokio::pin!(stop);
            tokio::select! {
                r = wait => match r {
                    Ok(async_imap::extensions::idle::IdleResponse::NewData(data)) => {
                        if let Response::Data { status: Status::Bye, outcome, .. } = data.parsed() {
                            let text = outcome.information.as_deref().unwrap_or("");
                            return Err(dropped(format!("the server said BYE {text}")));
                        }
                        IdleEnd::Changed
                    }
                    Ok(async_imap::extensions::idle::IdleResponse::Timeout) => IdleEnd::Timeout,
                    Ok(async_imap::extensions::idle::IdleResponse::ManualInterrupt) => IdleEnd::Stopped,
                    Err(e) => return Err(classify(&addr, "IDLE", e)),
                },
                _ = &mut stop => IdleEnd::Stopped,
            }
        };
        let session = match tokio::time::timeout(COMMAND_TIMEOUT, handle.done()).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(classify(&addr, "DONE", e)),
            Err(_) => return Err(dropped("no answer to DONE".into())),
        };
        Ok((ImapSession { session, addr, capabilities, connect_ms, login_ms, sent_id }, end))
    }

    /// LOGOUT, best effort (the connection is closed either way).
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }
}

/// Flags other than \Seen (send: `\Answered` on the message a reply went to).
impl ImapSession {
    /// Adds `flags` to the messages in `uid_set` of the selected mailbox.
    pub async fn add_flags(&mut self, uid_set: &str, flags: &[&str]) -> Result<(), ImapError> {
        let query = format!("+FLAGS.SILENT ({})", flags.join(" "));
        let command = format!("UID STORE {uid_set} {query}");
        let session = &mut self.session;
        timed(&self.addr, &command, COMMAND_TIMEOUT, async move {
            session.uid_store(uid_set, &query).await?.try_collect::<Vec<_>>().await
        })
        .await?;
        Ok(())
    }
}

impl Connection {
    /// TCP connect, TLS (implicit or STARTTLS) with certificate verification, and the greeting.
    pub async fn open(cfg: &ImapConfig) -> Result<Connection, ImapError> {
        let addr = format!("{}:{}", cfg.host, cfg.port());
        let started = Instant::now();
        let connect_err = |reason: String| ImapError::Connect { addr: addr.clone(), reason };
        let tls_err = |reason: String| ImapError::Tls { addr: addr.clone(), reason };
        let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((cfg.host.as_str(), cfg.port()))).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(connect_err(e.to_string())),
            Err(_) => return Err(connect_err(format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()))),
        };
        let _ = tcp.set_nodelay(true);
        let client = match cfg.tls {
            TlsMode::None => {
                let mut client = async_imap::Client::new(Transport::Plain(tcp));
                read_greeting(&mut client, &addr).await?;
                client
            }
            TlsMode::Implicit => {
                let tls = tls_handshake(cfg, tcp).await.map_err(tls_err)?;
                let mut client = async_imap::Client::new(Transport::Tls(Box::new(tls)));
                read_greeting(&mut client, &addr).await?;
                client
            }
            TlsMode::Starttls => {
                let mut client = async_imap::Client::new(Transport::Plain(tcp));
                read_greeting(&mut client, &addr).await?;
                match tokio::time::timeout(CONNECT_TIMEOUT, client.run_command_and_check_ok("STARTTLS", None)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Err(tls_err(format!("the server refused STARTTLS: {}", server_text(&e)))),
                    Err(_) => return Err(tls_err("no answer to STARTTLS".into())),
                }
                let Transport::Plain(tcp) = client.into_inner() else {
                    return Err(tls_err("STARTTLS on a TLS connection".into()));
                };
                // No new greeting after STARTTLS (RFC 3501 6.2.1).
                let tls = tls_handshake(cfg, tcp).await.map_err(tls_err)?;
                async_imap::Client::new(Transport::Tls(Box::new(tls)))
            }
        };
        Ok(Connection { client, connect_ms: started.elapsed().as_millis() as u64, addr })
    }

    /// Logs in with the account's method (LOGIN, or XOAUTH2 with a token from `token_command`),
    /// sends ID when configured or when the server is known to require it, and reads CAPABILITY.
    pub async fn login(self, cfg: &ImapConfig, account: &str) -> Result<ImapSession, ImapError> {
        let Connection { client, addr, connect_ms } = self;
        let started = Instant::now();
        let auth_err = |reason: String| ImapError::Auth { user: cfg.user.clone(), addr: addr.clone(), reason };
        let login = async {
            match cfg.auth {
                AuthMethod::Login => {
                    let password = cfg
                        .password_source()
                        .resolve(&format!("account \"{account}\" IMAP password"))
                        .map_err(|e| auth_err(format!("{e:#}")))?;
                    client.login(&cfg.user, password.expose()).await.map_err(|(e, _)| auth_err(server_text(&e)))
                }
                AuthMethod::Xoauth2 => {
                    let token = cfg
                        .token_source()
                        .resolve(&format!("account \"{account}\" IMAP OAuth2 token"))
                        .map_err(|e| auth_err(format!("{e:#}")))?;
                    let auth = XOAuth2 { user: cfg.user.clone(), token, answered: false };
                    client.authenticate("XOAUTH2", auth).await.map_err(|(e, _)| auth_err(server_text(&e)))
                }
            }
        };
        let mut session = match tokio::time::timeout(CONNECT_TIMEOUT, login).await {
            Ok(r) => r?,
            Err(_) => return Err(auth_err(format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()))),
        };
        let sent_id = cfg.send_id || requires_id(&cfg.host);
        if sent_id {
            let ident = [("name", Some("mailroom")), ("version", Some(env!("CARGO_PKG_VERSION"))), ("vendor", Some("mailroom"))];
            timed(&addr, "ID", COMMAND_TIMEOUT, session.id(ident)).await?;
        }
        let caps = timed(&addr, "CAPABILITY", COMMAND_TIMEOUT, session.capabilities()).await?;
        let capabilities = caps
            .iter()
            .map(|c| match c {
                async_imap::types::Capability::Imap4rev1 => "IMAP4REV1".to_string(),
                async_imap::types::Capability::Auth(a) => format!("AUTH={}", a.to_ascii_uppercase()),
                async_imap::types::Capability::Atom(a) => a.to_ascii_uppercase(),
            })
            .collect();
        Ok(ImapSession { session, addr, capabilities, connect_ms, login_ms: started.elapsed().as_millis() as u64, sent_id })
    }
}

/// NetEase (163.com, 126.com, yeah.net) refuses SELECT with "Unsafe Login" until the client
/// identifies itself with ID.
fn requires_id(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    ["163.com", "126.com", "yeah.net", "188.com"].iter().any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// SASL XOAUTH2 (Gmail, Microsoft 365): one initial response; if the server answers with an
/// error challenge, an empty response ends the exchange so the tagged NO arrives.
struct XOAuth2 {
    user: String,
    token: Secret,
    answered: bool,
}

impl async_imap::Authenticator for XOAuth2 {
    type Response = Vec<u8>;
    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        if self.answered {
            return Vec::new();
        }
        self.answered = true;
        format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token.expose()).into_bytes()
    }
}

async fn read_greeting(client: &mut async_imap::Client<Transport>, addr: &str) -> Result<(), ImapError> {
    let dropped = |reason: String| ImapError::Dropped { addr: addr.to_string(), command: "greeting".into(), reason };
    let greeting = match tokio::time::timeout(CONNECT_TIMEOUT, client.read_response()).await {
        Ok(Ok(Some(g))) => g,
        Ok(Ok(None)) => return Err(dropped("closed before greeting".into())),
        Ok(Err(e)) => return Err(dropped(e.to_string())),
        Err(_) => return Err(dropped(format!("no greeting within {}s", CONNECT_TIMEOUT.as_secs()))),
    };
    match greeting.parsed() {
        Response::Data { status: Status::Ok | Status::PreAuth, .. } => Ok(()),
        Response::Data { status: Status::Bye, outcome, .. } => Err(ImapError::Server {
            addr: addr.to_string(),
            command: "greeting".into(),
            reason: format!("BYE {}", outcome.information.as_deref().unwrap_or("")),
        }),
        other => Err(ImapError::Protocol {
            addr: addr.to_string(),
            command: "greeting".into(),
            reason: format!("{other:?}").chars().take(200).collect(),
        }),
    }
}

/// Runs one command with a deadline and turns async-imap's error into an `ImapError`.
async fn timed<T>(
    addr: &str,
    command: &str,
    limit: Duration,
    fut: impl Future<Output = async_imap::error::Result<T>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(addr, command, e)),
        Err(_) => Err(ImapError::Dropped {
            addr: addr.to_string(),
            command: command.to_string(),
            reason: format!("no answer within {}s", limit.as_secs()),
        }),
    }
}

fn classify(addr: &str, command: &str, e: async_imap::error::Error) -> ImapError {
    use async_imap::error::Error as E;
    let (addr, command) = (addr.to_string(), command.to_string());
    match e {
        E::No(_) | E::Bad(_) | E::Append => ImapError::Server { addr, command, reason: server_text(&e) },
        E::Io(_) | E::ConnectionLost => ImapError::Dropped { addr, command, reason: server_text(&e) },
        other => ImapError::Protocol { addr, command, reason: server_text(&other) },
    }
}

/// The server's own words from an async-imap error (`code: Some(..), info: Some("..")`),
/// e.g. `[AUTHENTICATIONFAILED] Authentication failed.`
fn server_text(e: &async_imap::error::Error) -> String {
    use async_imap::error::Error as E;
    let detail = match e {
        E::No(s) | E::Bad(s) => s.as_str(),
        E::Io(io) => return io.to_string(),
        other => return other.to_string(),
    };
    let info = detail
        .split_once("info: Some(\"")
        .or_else(|| detail.split_once("information: Some(\""))
        .and_then(|(_, rest)| rest.rsplit_once("\")"))
        .map(|(text, _)| text.replace("\\\"", "\""));
    let code = detail
        .split_once("code: Some(")
        .and_then(|(_, rest)| rest.split_once("),").or_else(|| rest.split_once(')')))
        .map(|(c, _)| c.to_ascii_uppercase());
    let kind = if matches!(e, E::Bad(_)) { "BAD" } else { "NO" };
    match (code, info) {
        (Some(c), Some(i)) => format!("{kind} [{c}] {i}"),
        (None, Some(i)) => format!("{kind} {i}"),
        _ => format!("{kind} {detail}"),
    }
}

async fn tls_handshake(cfg: &ImapConfig, tcp: TcpStream) -> Result<TlsStream<TcpStream>, String> {
    let config = client_config(cfg.ca_file.as_deref(), cfg.tls_verify)?;
    let name = ServerName::try_from(cfg.host.clone()).map_err(|e| format!("{:?} is not a valid host name: {e}", cfg.host))?;
    match tokio::time::timeout(CONNECT_TIMEOUT, TlsConnector::from(Arc::new(config)).connect(name, tcp)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(match cfg.ca_file {
            None => format!("{e} (for a private CA or a self-signed server, set ca_file for this account)"),
            Some(_) => e.to_string(),
        }),
        Err(_) => Err(format!("no TLS handshake within {}s", CONNECT_TIMEOUT.as_secs())),
    }
}

/// Public roots (webpki) plus the system's, loaded once.
fn base_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            let _ = roots.add(cert);
        }
        roots
    })
}

/// A rustls client config (ring provider) trusting the base roots plus `ca_file`.
fn client_config(ca_file: Option<&Path>, verify: bool) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    if !verify {
        tracing::warn!("TLS certificate verification is turned off (tls_verify = false)");
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth());
    }
    let mut roots = base_roots().clone();
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("ca_file {}: {e}", path.display()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("ca_file {}: no PEM certificate in it", path.display()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// `tls_verify = false`: accepts any certificate (signatures are still checked).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A UID set in compact IMAP syntax: `[1,2,3,7,9,10]` → `1:3,7,9:10`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// An IMAP quoted string, or None when the text cannot be quoted (CR, LF, NUL).
fn quote_string(s: &str) -> Option<String> {
    if s.contains(['\r', '\n', '\0']) {
        return None;
    }
    Some(format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
}

/// A mailbox name as IMAP wants it: modified UTF-7 (RFC 3501 5.1.3), so `已发送` works.
fn encode_mailbox(name: &str) -> String {
    if name.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'&') {
        return name.to_string();
    }
    let mut out = String::new();
    let mut pending: Vec<u16> = Vec::new();
    let flush = |out: &mut String, pending: &mut Vec<u16>| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&modified_base64(&bytes));
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if c == '&' {
            flush(&mut out, &mut pending);
            out.push_str("&-");
        } else if (' '..='~').contains(&c) {
            flush(&mut out, &mut pending);
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut out, &mut pending);
    out
}

/// Base64 with `,` for `/` and no padding, as modified UTF-7 uses it.
fn modified_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[3, 1, 2, 7, 9, 10, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn quoting_escapes_and_refuses_line_breaks() {
        assert_eq!(quote_string(r#"<a"b\c@x>"#).unwrap(), r#""<a\"b\\c@x>""#);
        assert!(quote_string("<a@b>\r\nA1 LOGOUT").is_none());
    }

    #[test]
    fn mailbox_names_use_modified_utf7() {
        assert_eq!(encode_mailbox("INBOX"), "INBOX");
        assert_eq!(encode_mailbox("Tom & Jerry"), "Tom &- Jerry");
        // RFC 3501's own example.
        assert_eq!(encode_mailbox("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        assert_eq!(encode_mailbox("已发送"), "&XfJT0ZAB-");
    }

    #[test]
    fn xoauth2_answers_once_then_empty() {
        use async_imap::Authenticator;
        let mut a = XOAuth2 { user: "u@example.com".into(), token: Secret::new("tok"), answered: false };
        assert_eq!(a.process(b""), b"user=u@example.com\x01auth=Bearer tok\x01\x01".to_vec());
        assert!(a.process(b"{\"status\":\"401\"}").is_empty());
    }

    #[test]
    fn server_text_keeps_the_servers_words() {
        let e = async_imap::error::Error::No(
            "code: Some(AuthenticationFailed), info: Some(\"Authentication failed.\")".into(),
        );
        assert_eq!(server_text(&e), "NO [AUTHENTICATIONFAILED] Authentication failed.");
        let e = async_imap::error::Error::No(
            "outcome: Outcome { code: None, information: Some(\"Mailbox doesn't exist: Nope\") }".into(),
        );
        assert_eq!(server_text(&e), "NO Mailbox doesn't exist: Nope");
    }

    #[test]
    fn netease_hosts_get_id() {
        assert!(requires_id("imap.163.com"));
        assert!(requires_id("IMAP.126.COM"));
        assert!(!requires_id("imap.gmail.com"));
        assert!(!requires_id("x163.com"));
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem")), true).unwrap_err();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }
}
