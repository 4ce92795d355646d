//! `[accounts.NAME]`: IMAP and SMTP settings of one mailbox.

use std::path::PathBuf;

use serde::Deserialize;

use crate::error::ConfigError;
use crate::secret::SecretSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    #[default]
    Implicit,
    Starttls,
    /// Plain text: only accepted for loopback hosts.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    #[default]
    Login,
    Xoauth2,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub imap: Option<ImapConfig>,
    pub smtp: Option<SmtpConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    pub user: String,
    pub password_command: Option<String>,
    pub password_env: Option<String>,
    /// Plain-text password in the config file; discouraged.
    pub password: Option<String>,
    #[serde(default)]
    pub auth: AuthMethod,
    /// For `auth = "xoauth2"`: prints an OAuth2 access token.
    pub token_command: Option<String>,
    /// A PEM file of extra trusted CAs (private CA, test servers).
    pub ca_file: Option<PathBuf>,
    /// `false` turns certificate checks off for this account only. Loudly discouraged.
    #[serde(default = "yes")]
    pub tls_verify: bool,
    #[serde(default = "inbox")]
    pub mailboxes: Vec<String>,
    /// The Sent folder, for reconciling sends, APPEND and human-takeover detection.
    pub sent_mailbox: Option<String>,
    /// Send the IMAP ID command after login (163.com / 126.com require it).
    #[serde(default)]
    pub send_id: bool,
    /// Messages larger than this are stored and flagged `huge` instead of parsed in full.
    pub max_message_bytes: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default = "starttls")]
    pub tls: TlsMode,
    pub user: Option<String>,
    pub password_command: Option<String>,
    pub password_env: Option<String>,
    pub password: Option<String>,
    #[serde(default)]
    pub auth: AuthMethod,
    pub token_command: Option<String>,
    pub ca_file: Option<PathBuf>,
    #[serde(default = "yes")]
    pub tls_verify: bool,
    /// `Support <support@example.com>`
    pub from: String,
    /// After a send, APPEND the exact message to `imap.sent_mailbox` (for providers that do
    /// not file submitted mail by themselves; Gmail and Microsoft 365 do, so leave it off there).
    #[serde(default)]
    pub append_sent: bool,
    /// After a send, set `\Answered` on the original message (needs `imap`).
    #[serde(default)]
    pub mark_answered: bool,
    /// Also deliver every reply to the From address (not written into the message): a copy the
    /// server files in the same SMTP transaction, which is what proves an interrupted send.
    #[serde(default)]
    pub bcc_self: bool,
    /// Seconds to wait for each SMTP reply.
    #[serde(default = "smtp_timeout")]
    pub timeout_secs: u64,
}

fn yes() -> bool {
    true
}
fn inbox() -> Vec<String> {
    vec!["INBOX".into()]
}
fn smtp_timeout() -> u64 {
    60
}
fn starttls() -> TlsMode {
    TlsMode::Starttls
}

pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

impl AccountConfig {
    pub(crate) fn validate(&self, name: &str) -> Result<(), ConfigError> {
        if let Some(imap) = &self.imap {
            if imap.tls == TlsMode::None && !is_loopback(&imap.host) {
                return Err(ConfigError::new(format!(
                    "account \"{name}\": imap tls = \"none\" is only allowed on loopback, not {}",
                    imap.host
                )));
            }
            if imap.auth == AuthMethod::Xoauth2 && imap.token_command.is_none() {
                return Err(ConfigError::new(format!(
                    "account \"{name}\": imap auth = \"xoauth2\" needs token_command"
                )));
            }
        }
        if let Some(smtp) = &self.smtp {
            if smtp.tls == TlsMode::None && !is_loopback(&smtp.host) {
                return Err(ConfigError::new(format!(
                    "account \"{name}\": smtp tls = \"none\" is only allowed on loopback, not {}",
                    smtp.host
                )));
            }
            let sent_mailbox = self.imap.as_ref().and_then(|i| i.sent_mailbox.as_ref());
            if smtp.append_sent && sent_mailbox.is_none() {
                return Err(ConfigError::new(format!(
                    "account \"{name}\": smtp append_sent = true needs imap.sent_mailbox (e.g. \"Sent\")"
                )));
            }
            if smtp.mark_answered && self.imap.is_none() {
                return Err(ConfigError::new(format!(
                    "account \"{name}\": smtp mark_answered = true needs an imap table"
                )));
            }
        }
        Ok(())
    }
}

impl ImapConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::Implicit => 993,
            _ => 143,
        })
    }
    pub fn password_source(&self) -> SecretSource {
        SecretSource {
            env: self.password_env.clone(),
            command: self.password_command.clone(),
            plain: self.password.clone(),
        }
    }
    pub fn token_source(&self) -> SecretSource {
        SecretSource { command: self.token_command.clone(), ..Default::default() }
    }
}

impl SmtpConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::Implicit => 465,
            TlsMode::Starttls => 587,
            TlsMode::None => 25,
        })
    }
    pub fn password_source(&self) -> SecretSource {
        SecretSource {
            env: self.password_env.clone(),
            command: self.password_command.clone(),
            plain: self.password.clone(),
        }
    }
}
