//! Error kinds and their rendering.
//!
//! Adapters return typed errors where a caller must branch; everything above them uses
//! `anyhow` with context. The exit code is decided once, in `main`, from the kind found
//! in the chain: usage and config errors exit 2, everything else exits 1.

use std::fmt;

/// The three outcomes a command can report besides a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked (also: nothing to do, or the reader closed the pipe).
    Success,
    /// Some of the work failed; details were already written to stderr.
    PartialFailure,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::PartialFailure => 1,
        }
    }

    /// Success unless `failed` is true.
    pub fn from_failed(failed: bool) -> Outcome {
        if failed { Outcome::PartialFailure } else { Outcome::Success }
    }
}

/// A mistake in how the command was called: exit 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UsageError {}

/// A configuration file, account or ledger that cannot be used: exit 2.
#[derive(Debug)]
pub struct ConfigError {
    pub message: String,
    pub hint: Option<String>,
}

impl ConfigError {
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError { message: message.into(), hint: None }
    }
    pub fn with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        ConfigError { message: message.into(), hint: Some(hint.into()) }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for ConfigError {}

/// An error that carries advice for the user, shown as `hint:` after the chain.
#[derive(Debug)]
pub struct Hinted {
    pub message: String,
    pub hint: String,
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Hinted {}

pub fn hinted(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hinted { message: message.into(), hint: hint.into() })
}

/// A command of the spec that this build does not do yet: exit 2, no fake output.
pub fn not_built(command: &str) -> anyhow::Error {
    anyhow::Error::new(UsageError(format!(
        "`mailroom {command}` is not built yet in this version; nothing was done"
    )))
}

/// Exit code for an error that ended a command.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some() || cause.downcast_ref::<ConfigError>().is_some() {
            return 2;
        }
    }
    1
}

/// True when the error is only a reader that went away (`mailroom export | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Render `error:` + `Caused by:` lines + `hint:` lines, each prefixed by the command name.
pub fn render(command: &str, err: &anyhow::Error) -> String {
    let mut out = format!("mailroom {command}: error: {err}\n");
    for cause in err.chain().skip(1) {
        out.push_str(&format!("  Caused by: {cause}\n"));
    }
    for cause in err.chain() {
        let hint = if let Some(h) = cause.downcast_ref::<Hinted>() {
            Some(h.hint.as_str())
        } else if let Some(c) = cause.downcast_ref::<ConfigError>() {
            c.hint.as_deref()
        } else {
            None
        };
        if let Some(hint) = hint {
            out.push_str(&format!("hint: {hint}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_and_config_errors_exit_2_others_1() {
        assert_eq!(exit_code_for(&anyhow::Error::new(UsageError("x".into()))), 2);
        assert_eq!(exit_code_for(&anyhow::Error::new(ConfigError::new("x")).context("loading")), 2);
        assert_eq!(exit_code_for(&anyhow::anyhow!("imap down")), 1);
        assert_eq!(Outcome::PartialFailure.exit_code(), 1);
        assert_eq!(Outcome::Success.exit_code(), 0);
    }

    #[test]
    fn render_shows_chain_and_hint() {
        let err = anyhow::Error::new(ConfigError::with_hint("bad key", "see mailroom init"))
            .context("loading config");
        let text = render("fetch", &err);
        assert!(text.starts_with("mailroom fetch: error: loading config\n"));
        assert!(text.contains("Caused by: bad key"));
        assert!(text.contains("hint: see mailroom init"));
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe");
        let err = anyhow::Error::new(io).context("writing record");
        assert!(is_broken_pipe(&err));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
