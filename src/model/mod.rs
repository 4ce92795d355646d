//! An OpenAI-compatible chat-completions client (OpenAI, DeepSeek, Qwen, llama.cpp, vLLM,
//! Ollama): request and response types in `wire`, retries and backoff in `client`.
//!
//! Errors are typed because callers branch on them: a rate limit is waited out, an
//! authentication failure stops the run, junk falls back to the embedded classifier.
//! No error, log line or event ever holds the API key.

pub mod client;
pub mod wire;

use std::time::Duration;

pub use client::{Attempt, Client, Outcome};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("rate limited (HTTP 429){}", .retry_after.map(|d| format!(", retry after {:.1} s", d.as_secs_f64())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    #[error("server error (HTTP {status})")]
    Server { status: u16 },
    /// `status` 0: not sent, because another call was refused.
    #[error("authentication failed (HTTP {status}); check the API key source in [model]")]
    Auth { status: u16 },
    #[error("request rejected (HTTP {status}): {detail}")]
    Rejected { status: u16, detail: String },
    #[error("unusable answer: {detail}")]
    Junk { detail: String },
    #[error("no answer within {secs} s")]
    Timeout { secs: u64 },
    #[error("cannot reach the model endpoint: {detail}")]
    Connect { detail: String },
    /// Not sent: the run was interrupted first.
    #[error("not sent: interrupted")]
    Interrupted,
}

impl ModelError {
    /// Worth another attempt (the same request may succeed later).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ModelError::RateLimited { .. } | ModelError::Server { .. } | ModelError::Timeout { .. } | ModelError::Connect { .. } | ModelError::Junk { .. }
        )
    }

    /// Short status word for the event log.
    pub fn status(&self) -> &'static str {
        match self {
            ModelError::RateLimited { .. } => "rate_limited",
            ModelError::Server { .. } => "server_error",
            ModelError::Auth { .. } => "auth_error",
            ModelError::Rejected { .. } => "rejected",
            ModelError::Junk { .. } => "junk",
            ModelError::Timeout { .. } => "timeout",
            ModelError::Connect { .. } => "connect_error",
            ModelError::Interrupted => "interrupted",
        }
    }
}
