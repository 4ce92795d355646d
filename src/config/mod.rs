//! The TOML config: where it lives, what it holds, how it is loaded.
//!
//! Load order: `--config PATH` > `MAILROOM_CONFIG` > `$XDG_CONFIG_HOME/mailroom/config.toml`.
//! A missing default file is fine (everything has a default: embedded backend, no accounts);
//! a missing file that was named explicitly, a syntax error or an unknown key is a config
//! error (exit 2) that names the file and the line. Each section lives in its own module.

mod accounts;
mod sections;

pub use accounts::{AccountConfig, AuthMethod, ImapConfig, SmtpConfig, TlsMode};
pub use sections::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::env;
use crate::error::ConfigError;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub team: TeamConfig,
    #[serde(default)]
    pub accounts: BTreeMap<String, AccountConfig>,
    /// Optional: without it the embedded default backend is used.
    pub model: Option<ModelConfig>,
    #[serde(default)]
    pub filter: FilterConfig,
    #[serde(default)]
    pub classify: ClassifyConfig,
    #[serde(default)]
    pub draft: DraftConfig,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
    #[serde(default)]
    pub review: ReviewConfig,
    #[serde(default)]
    pub heartbeat: HeartbeatConfig,
    #[serde(default)]
    pub cases: CasesConfig,
    /// The file this was read from, if any (relative paths in the config resolve against its folder).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Config {
    /// Reads and validates the config. `explicit` is `--config` or `MAILROOM_CONFIG`.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, must_exist) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => (default_config_path(), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                return Ok(Config::default());
            }
            Err(e) => {
                return Err(ConfigError::with_hint(
                    format!("cannot read config {}: {e}", path.display()),
                    "run `mailroom init` to write a starter config, or pass --config PATH",
                ));
            }
        };
        let mut config = Config::parse(&text, &path)?;
        config.source = Some(path);
        Ok(config)
    }

    /// Parses TOML text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let location = match line {
                Some(l) => format!("{}:{l}", path.display()),
                None => path.display().to_string(),
            };
            ConfigError::new(format!("invalid config {location}: {}", e.message()))
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (name, account) in &self.accounts {
            account.validate(name)?;
        }
        self.filter.validate()?;
        Ok(())
    }

    /// The account named `name`, or a config error listing the known ones.
    pub fn account(&self, name: &str) -> Result<&AccountConfig, ConfigError> {
        self.accounts.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.accounts.keys().map(String::as_str).collect();
            ConfigError::with_hint(
                format!("unknown account \"{name}\""),
                if known.is_empty() {
                    "the config defines no [accounts.NAME] table yet".to_string()
                } else {
                    format!("known accounts: {}", known.join(", "))
                },
            )
        })
    }

    /// Resolves a path from the config relative to the config file's folder.
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        let expanded = expand_home(p);
        if expanded.is_absolute() {
            return expanded;
        }
        match self.source.as_ref().and_then(|s| s.parent()) {
            Some(dir) => dir.join(expanded),
            None => expanded,
        }
    }

    /// The folder the config lives in (templates, knowledge and models default to it).
    pub fn config_dir(&self) -> PathBuf {
        match self.source.as_ref().and_then(|s| s.parent()) {
            Some(d) => d.to_path_buf(),
            None => default_config_path().parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    }
}

fn expand_home(p: &Path) -> PathBuf {
    if let Ok(rest) = p.strip_prefix("~") {
        if let Some(home) = std::env::var_os(env::HOME) {
            return PathBuf::from(home).join(rest);
        }
    }
    p.to_path_buf()
}

fn home() -> PathBuf {
    std::env::var_os(env::HOME).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."))
}

/// `$XDG_CONFIG_HOME/mailroom/config.toml` (default `~/.config/...`).
pub fn default_config_path() -> PathBuf {
    let base = std::env::var_os(env::XDG_CONFIG_HOME)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".config"));
    base.join("mailroom").join("config.toml")
}

/// `$XDG_DATA_HOME/mailroom/ledger.sqlite` (default `~/.local/share/...`).
pub fn default_ledger_path() -> PathBuf {
    let base = std::env::var_os(env::XDG_DATA_HOME)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".local").join("share"));
    base.join("mailroom").join("ledger.sqlite")
}

/// The name recorded for human decisions.
pub fn current_user() -> String {
    std::env::var(env::MAILROOM_USER)
        .or_else(|_| std::env::var(env::USER))
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_parses() {
        let text = r#"
[accounts.support]
imap = { host = "imap.example.com", port = 993, tls = "implicit", user = "support@example.com",
         password_command = "pass show mail/support", mailboxes = ["INBOX"] }
smtp = { host = "smtp.example.com", port = 587, tls = "starttls", user = "support@example.com",
         password_env = "SUPPORT_SMTP_PASSWORD", from = "Support <support@example.com>" }

[model]
base_url = "https://api.openai.com/v1"
model = "gpt-4o-mini"
api_key_env = "OPENAI_API_KEY"
"#;
        let c = Config::parse(text, Path::new("c.toml")).unwrap();
        let a = c.account("support").unwrap();
        assert_eq!(a.imap.as_ref().unwrap().port(), 993);
        assert_eq!(a.imap.as_ref().unwrap().tls, TlsMode::Implicit);
        assert_eq!(a.smtp.as_ref().unwrap().tls, TlsMode::Starttls);
        assert_eq!(c.model.unwrap().model, "gpt-4o-mini");
    }

    #[test]
    fn unknown_key_is_an_error_with_a_line() {
        let err = Config::parse("[team]\nname = \"x\"\nnmae = \"y\"\n", Path::new("c.toml")).unwrap_err();
        assert!(err.message.contains("c.toml:3"), "{}", err.message);
        assert!(err.message.contains("nmae"), "{}", err.message);
    }

    #[test]
    fn plaintext_imap_only_on_loopback() {
        let text = r#"[accounts.a]
imap = { host = "mail.example.com", tls = "none", user = "u", password_env = "P" }"#;
        let err = Config::parse(text, Path::new("c.toml")).unwrap_err();
        assert!(err.message.contains("loopback"), "{}", err.message);
    }

    #[test]
    fn unknown_account_lists_known_ones() {
        let c = Config::parse("[accounts.support]\n", Path::new("c.toml")).unwrap();
        let err = c.account("sales").unwrap_err();
        assert!(err.hint.unwrap().contains("support"));
    }
}
