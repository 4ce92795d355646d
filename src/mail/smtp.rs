//! SMTP submission with lettre: STARTTLS, implicit TLS or plain (loopback only), AUTH from the
//! account's secrets, and the mail transaction split in two so the caller can record the
//! moment of no return.
//!
//! `SmtpSession::begin` sends MAIL FROM, RCPT TO and DATA; nothing can be delivered yet.
//! `SmtpSession::finish` writes the message and the final dot and reads the server's verdict;
//! from its first byte on, a broken connection leaves the outcome unknown (the server may
//! have queued the message). Errors say which side of that line they happened on.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;

use crate::config::{AuthMethod, SmtpConfig, TlsMode};
use crate::mail::reply::OutEnvelope;

/// Where in the conversation an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Connecting, TLS, EHLO, AUTH: no message was involved.
    Connect,
    /// MAIL FROM, RCPT TO, DATA: the server has not seen the message; nothing was delivered.
    Envelope,
    /// Sending the message or waiting for the final reply: it may have been accepted.
    Content,
}

/// A failed SMTP step, classified for the caller's decision.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SmtpError {
    /// The server answered with a 4xx (transient) or 5xx (permanent) code.
    #[error("{server} answered {code} {text}")]
    Rejected { server: String, code: u16, text: String, phase: Phase },
    /// No (complete) answer: connection refused or broken, TLS failure, time-out.
    #[error("{server}: {detail}")]
    Io { server: String, detail: String, phase: Phase },
    /// The account's settings cannot be used (bad CA file, secret not available).
    #[error("{0}")]
    Setup(String),
}

impl SmtpError {
    /// A 5xx answer: retrying the same thing will not help.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SmtpError::Rejected { code, .. } if *code >= 500)
    }
    /// The server may have accepted the message: never resend blindly.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, SmtpError::Io { phase: Phase::Content, .. })
    }
    /// `550 5.1.1 ...` or the I/O detail, for the ledger and the output.
    pub fn response_text(&self) -> String {
        match self {
            SmtpError::Rejected { code, text, .. } => format!("{code} {text}"),
            SmtpError::Io { detail, .. } => detail.clone(),
            SmtpError::Setup(s) => s.clone(),
        }
    }
    pub fn code(&self) -> Option<u16> {
        match self {
            SmtpError::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// The server's positive answer to the message, e.g. `250 2.0.0 Ok: queued as 4XyZ`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub code: u16,
    pub text: String,
}

impl std::fmt::Display for Accepted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.text)
    }
}

/// One authenticated SMTP connection.
pub struct SmtpSession {
    conn: AsyncSmtpConnection,
    server: String,
    timeout: Duration,
}

fn classify(server: &str, phase: Phase, e: lettre::transport::smtp::Error) -> SmtpError {
    if let Some(code) = e.status() {
        let text = std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default();
        return SmtpError::Rejected { server: server.into(), code: u16::from(code), text, phase };
    }
    let mut detail = e.to_string();
    if e.is_tls() {
        detail = format!("TLS failed: {detail}");
    }
    SmtpError::Io { server: server.into(), detail, phase }
}

fn timed_out(server: &str, phase: Phase, what: &str, secs: u64) -> SmtpError {
    SmtpError::Io { server: server.into(), detail: format!("no answer to {what} within {secs} s"), phase }
}

/// TLS settings: webpki roots plus the account's `ca_file`, verified unless `tls_verify = false`.
fn tls_parameters(cfg: &SmtpConfig, ca_file: Option<&Path>) -> Result<TlsParameters, SmtpError> {
    let mut b = TlsParameters::builder(cfg.host.clone());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| SmtpError::Setup(format!("smtp ca_file {}: {e}", path.display())))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| SmtpError::Setup(format!("smtp ca_file {}: not a PEM certificate: {e}", path.display())))?;
        b = b.add_root_certificate(cert);
    }
    if !cfg.tls_verify {
        tracing::warn!("smtp {}: certificate verification is off for this account", cfg.host);
        b = b.dangerous_accept_invalid_certs(true);
    }
    b.build_rustls().map_err(|e| SmtpError::Setup(format!("smtp TLS settings: {e}")))
}

impl SmtpSession {
    /// Connects, secures and authenticates. `ca_file` is the account's, already resolved
    /// against the config folder. `account` only names the account in errors.
    pub async fn connect(cfg: &SmtpConfig, account: &str, ca_file: Option<&Path>) -> Result<SmtpSession, SmtpError> {
        let server = format!("{}:{}", cfg.host, cfg.port());
        let timeout = Duration::from_secs(cfg.timeout_secs.max(1));
        let hello = ClientId::default();
        let implicit = match cfg.tls {
            TlsMode::Implicit => Some(tls_parameters(cfg, ca_file)?),
            _ => None,
        };
        let connecting =
            AsyncSmtpConnection::connect_tokio1((cfg.host.as_str(), cfg.port()), Some(timeout), &hello, implicit, None);
        let mut conn = tokio::time::timeout(timeout * 2, connecting)
            .await
            .map_err(|_| timed_out(&server, Phase::Connect, "the greeting", cfg.timeout_secs))?
            .map_err(|e| classify(&server, Phase::Connect, e))?;
        if cfg.tls == TlsMode::Starttls {
            if !conn.can_starttls() {
                return Err(SmtpError::Io {
                    server,
                    detail: "the server does not offer STARTTLS (tls = \"starttls\" requires it)".into(),
                    phase: Phase::Connect,
                });
            }
            let params = tls_parameters(cfg, ca_file)?;
            tokio::time::timeout(timeout, conn.starttls(params, &hello))
                .await
                .map_err(|_| timed_out(&server, Phase::Connect, "STARTTLS", cfg.timeout_secs))?
                .map_err(|e| classify(&server, Phase::Connect, e))?;
        }
        let mut session = SmtpSession { conn, server, timeout };
        if let Some(user) = &cfg.user {
            session.authenticate(cfg, user, account).await?;
        }
        Ok(session)
    }

    async fn authenticate(&mut self, cfg: &SmtpConfig, user: &str, account: &str) -> Result<(), SmtpError> {
        let (secret, mechanisms) = match cfg.auth {
            AuthMethod::Login => {
                let what = format!("account \"{account}\" SMTP password");
                (cfg.password_source().resolve(&what), vec![Mechanism::Plain, Mechanism::Login])
            }
            AuthMethod::Xoauth2 => {
                let src = crate::secret::SecretSource { command: cfg.token_command.clone(), ..Default::default() };
                (src.resolve(&format!("account \"{account}\" SMTP token")), vec![Mechanism::Xoauth2])
            }
        };
        let secret = secret.map_err(|e| SmtpError::Setup(format!("{e:#}")))?;
        if !mechanisms.iter().any(|m| self.conn.server_info().supports_auth_mechanism(*m)) {
            return Err(SmtpError::Io {
                server: self.server.clone(),
                detail: format!("the server offers no AUTH mechanism we can use for user {user}"),
                phase: Phase::Connect,
            });
        }
        let creds = Credentials::new(user.to_string(), secret.expose().to_string());
        let secs = self.timeout.as_secs();
        tokio::time::timeout(self.timeout, self.conn.auth(&mechanisms, &creds))
            .await
            .map_err(|_| timed_out(&self.server, Phase::Connect, "AUTH", secs))?
            .map_err(|e| classify(&self.server, Phase::Connect, e))?;
        Ok(())
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    async fn command<C: std::fmt::Display>(&mut self, c: C, what: &str) -> Result<Response, SmtpError> {
        let secs = self.timeout.as_secs();
        tokio::time::timeout(self.timeout, self.conn.command(c))
            .await
            .map_err(|_| timed_out(&self.server, Phase::Envelope, what, secs))?
            .map_err(|e| classify(&self.server, Phase::Envelope, e))
    }

    /// MAIL FROM, RCPT TO for each recipient, DATA. After an `Err` the transaction is reset
    /// (when the connection still works) so the session can be used for the next message.
    pub async fn begin(&mut self, envelope: &OutEnvelope, raw: &[u8]) -> Result<(), SmtpError> {
        let result = self.begin_inner(envelope, raw).await;
        if let Err(SmtpError::Rejected { .. }) = &result {
            let _ = self.command(Rset, "RSET").await;
        }
        result
    }

    async fn begin_inner(&mut self, envelope: &OutEnvelope, raw: &[u8]) -> Result<(), SmtpError> {
        let parse = |a: &str| {
            lettre::Address::from_str(a).map_err(|e| SmtpError::Setup(format!("envelope address {a:?}: {e}")))
        };
        let from = parse(&envelope.from)?;
        let to = envelope.to.iter().map(|a| parse(a)).collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(SmtpError::Setup("the message has no recipient".into()));
        }
        let info = self.conn.server_info();
        let mut params = Vec::new();
        if !raw.is_ascii() {
            if !info.supports_feature(Extension::EightBitMime) {
                return Err(SmtpError::Setup("the message is 8-bit but the server lacks 8BITMIME".into()));
            }
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        if envelope.from.chars().chain(envelope.to.iter().flat_map(|t| t.chars())).any(|c| !c.is_ascii()) {
            if !info.supports_feature(Extension::SmtpUtfEight) {
                return Err(SmtpError::Setup("an address is not ASCII but the server lacks SMTPUTF8".into()));
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        self.command(Mail::new(Some(from), params), "MAIL FROM").await?;
        for rcpt in to {
            self.command(Rcpt::new(rcpt, vec![]), "RCPT TO").await?;
        }
        self.command(Data, "DATA").await?;
        Ok(())
    }

    /// Writes the message and the final dot; returns the server's acceptance.
    pub async fn finish(&mut self, raw: &[u8]) -> Result<Accepted, SmtpError> {
        let secs = self.timeout.as_secs();
        // Writing a large message takes longer than one reply: allow for it.
        let limit = self.timeout * 2 + Duration::from_millis((raw.len() / 1024) as u64);
        let response = tokio::time::timeout(limit, self.conn.message(raw))
            .await
            .map_err(|_| timed_out(&self.server, Phase::Content, "the message", secs))?
            .map_err(|e| classify(&self.server, Phase::Content, e))?;
        Ok(Accepted { code: u16::from(response.code()), text: response.message().collect::<Vec<_>>().join(" ") })
    }

    /// QUIT, ignoring errors: the message is already decided.
    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.conn.quit()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let rej = |code| SmtpError::Rejected { server: "s".into(), code, text: "x".into(), phase: Phase::Envelope };
        assert!(rej(550).is_permanent());
        assert!(!rej(451).is_permanent());
        assert!(!rej(451).outcome_unknown());
        let io = |phase| SmtpError::Io { server: "s".into(), detail: "reset".into(), phase };
        assert!(io(Phase::Content).outcome_unknown());
        assert!(!io(Phase::Envelope).outcome_unknown());
        assert_eq!(rej(550).response_text(), "550 x");
    }
}
