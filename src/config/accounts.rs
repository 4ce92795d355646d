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
}

fn yes() -> bool {
    true
}
fn inbox() -> Vec<String> {
    vec!["INBOX".into()]
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
