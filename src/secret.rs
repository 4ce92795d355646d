//! Secrets: resolved late, from an environment variable or a command, never printed.
//!
//! `Secret` has a `Debug`/`Display` of `***`, so it cannot leak through a log line or an error
//! by accident. A failing `password_command` is reported with its exit status and stderr,
//! never its stdout (which may hold half a password).

use std::fmt;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// A resolved secret value.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The only way to read the value: call it where it is sent, nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a secret comes from, as written in the config.
#[derive(Debug, Clone, Default)]
pub struct SecretSource {
    pub env: Option<String>,
    pub command: Option<String>,
    /// Plain text in the config: allowed, discouraged.
    pub plain: Option<String>,
}

impl SecretSource {
    pub fn is_set(&self) -> bool {
        self.env.is_some() || self.command.is_some() || self.plain.is_some()
    }

    /// Resolves the secret. `what` names it in errors, e.g. `account "support" IMAP password`.
    pub fn resolve(&self, what: &str) -> Result<Secret> {
        if let Some(var) = &self.env {
            return match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Secret(v)),
                _ => Err(crate::error::hinted(
                    format!("{what}: environment variable {var} is not set"),
                    format!("export {var}=… before running mailroom, or use a *_command"),
                )),
            };
        }
        if let Some(cmd) = &self.command {
            return run_secret_command(cmd).with_context(|| format!("{what}: command failed"));
        }
        if let Some(p) = &self.plain {
            return Ok(Secret(p.clone()));
        }
        bail!("{what}: no secret configured (set password_env or password_command)")
    }
}

/// Runs `sh -c CMD` and takes the first line of stdout as the secret.
pub fn run_secret_command(cmd: &str) -> Result<Secret> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .context("could not start `sh`")?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.trim();
        bail!(
            "`{}` exited with {}{}",
            first_word(cmd),
            out.status,
            if stderr.is_empty() { String::new() } else { format!(": {}", truncate(stderr, 300)) }
        );
    }
    let stdout = String::from_utf8(out.stdout).context("the command printed something that is not UTF-8")?;
    let value = stdout.lines().next().unwrap_or("").trim_end_matches('\r').to_string();
    if value.is_empty() {
        bail!("`{}` printed nothing", first_word(cmd));
    }
    Ok(Secret(value))
}

/// The program name only: a command line may carry a secret as an argument.
fn first_word(cmd: &str) -> &str {
    cmd.split_whitespace().next().unwrap_or("")
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { s.chars().take(max).collect::<String>() + "…" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_displays() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
    }

    #[test]
    fn command_secret_takes_first_line() {
        let s = run_secret_command("printf 'pw1\\nsecond\\n'").unwrap();
        assert_eq!(s.expose(), "pw1");
    }

    #[test]
    fn failing_command_reports_stderr_not_stdout() {
        let err = run_secret_command("echo leaked-stdout; echo bad-thing >&2; exit 3").unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("bad-thing"));
        assert!(!text.contains("leaked-stdout"));
        assert!(text.contains("exit status: 3"));
    }

    #[test]
    fn missing_env_names_the_variable() {
        let src = SecretSource { env: Some("MAILROOM_TEST_SURELY_UNSET_VAR".into()), ..Default::default() };
        let err = src.resolve("account \"x\" IMAP password").unwrap_err();
        assert!(err.to_string().contains("MAILROOM_TEST_SURELY_UNSET_VAR"));
    }
}
