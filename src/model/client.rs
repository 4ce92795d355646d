//! The HTTP client: one chat completion with retries.
//!
//! 429 waits as long as `Retry-After` (seconds or an HTTP date) or `retry-after-ms` says;
//! 5xx, timeouts, dropped connections and junk answers back off exponentially with jitter.
//! Authentication failures and rejected requests are not retried. Every HTTP attempt is
//! returned as an `Attempt` so the caller can log it (status, latency, tokens).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::ModelError;
use super::wire::{ChatRequest, ChatResponse, Usage, error_message};
use crate::config::ModelConfig;
use crate::secret::Secret;

/// The longest `Retry-After` honoured; a server asking for more is treated as failing now.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(30);

pub struct Client {
    http: reqwest::Client,
    url: String,
    key: Option<Secret>,
    max_retries: u32,
    timeout_secs: u64,
}

/// One HTTP attempt, for the event log.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// "ok" or a `ModelError::status()` word.
    pub status: &'static str,
    pub http_status: Option<u16>,
    pub latency_ms: u64,
    pub usage: Option<Usage>,
    pub error: Option<String>,
}

/// The result of a call and every attempt it took.
#[derive(Debug, Clone)]
pub struct Outcome<T> {
    pub result: Result<(T, Usage), ModelError>,
    pub attempts: Vec<Attempt>,
}

impl Client {
    /// A client for `[model]`; `key` is None for local servers that need none.
    pub fn new(cfg: &ModelConfig, key: Option<Secret>, ca_file: Option<&std::path::Path>) -> Result<Client> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(cfg.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("mailroom/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = ca_file {
            let pem = std::fs::read(ca).with_context(|| format!("[model] ca_file {}", ca.display()))?;
            let cert = reqwest::Certificate::from_pem(&pem).with_context(|| format!("[model] ca_file {}", ca.display()))?;
            builder = builder.tls_certs_merge([cert]);
        }
        let http = builder.build().context("cannot build the HTTP client")?;
        let url = format!("{}/chat/completions", cfg.base_url.trim_end_matches('/'));
        Ok(Client { http, url, key, max_retries: cfg.max_retries, timeout_secs: cfg.timeout_secs })
    }

    /// Sends `req` until `accept` takes the answer's content or the retries run out.
    /// `accept` turns the content into a value or says why it is junk (junk is retried once).
    pub async fn chat<T>(&self, req: &ChatRequest, accept: impl Fn(&str) -> Result<T, String>) -> Outcome<T> {
        let mut attempts = Vec::new();
        let mut junk_retried = false;
        let mut n = 0u32;
        loop {
            let started = Instant::now();
            let (result, http_status) = self.once(req).await;
            let result = result.and_then(|(content, usage)| match accept(&content) {
                Ok(v) => Ok((v, usage)),
                Err(detail) => Err((ModelError::Junk { detail }, Some(usage))),
            });
            let latency_ms = started.elapsed().as_millis() as u64;
            match result {
                Ok((v, usage)) => {
                    attempts.push(Attempt { status: "ok", http_status, latency_ms, usage: Some(usage), error: None });
                    return Outcome { result: Ok((v, usage)), attempts };
                }
                Err((e, usage)) => {
                    attempts.push(Attempt {
                        status: e.status(),
                        http_status,
                        latency_ms,
                        usage,
                        error: Some(self.scrub(&e.to_string())),
                    });
                    let retry = e.is_transient()
                        && n < self.max_retries
                        && !(matches!(e, ModelError::Junk { .. }) && junk_retried);
                    let wait = match &e {
                        ModelError::RateLimited { retry_after: Some(d) } if *d > MAX_RETRY_AFTER => None,
                        ModelError::RateLimited { retry_after: Some(d) } => Some(*d),
                        _ => Some(backoff(n)),
                    };
                    match (retry, wait) {
                        (true, Some(wait)) => {
                            junk_retried |= matches!(e, ModelError::Junk { .. });
                            n += 1;
                            tokio::time::sleep(wait).await;
                        }
                        _ => return Outcome { result: Err(e), attempts },
                    }
                }
            }
        }
    }

    /// One HTTP request: the answer's content and usage, or a typed error.
    async fn once(&self, req: &ChatRequest) -> (Result<(String, Usage), (ModelError, Option<Usage>)>, Option<u16>) {
        let mut builder = self.http.post(&self.url).json(req);
        if let Some(key) = &self.key {
            builder = builder.bearer_auth(key.expose());
        }
        let resp = match builder.send().await {
            Ok(r) => r,
            Err(e) => return (Err((self.transport_error(&e), None)), None),
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = match resp.text().await {
            Ok(b) => b,
            Err(e) => return (Err((self.transport_error(&e), None)), Some(status.as_u16())),
        };
        (self.interpret(status, &headers, &body), Some(status.as_u16()))
    }

    fn interpret(&self, status: StatusCode, headers: &HeaderMap, body: &str) -> Result<(String, Usage), (ModelError, Option<Usage>)> {
        let code = status.as_u16();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err((ModelError::RateLimited { retry_after: retry_after(headers) }, None));
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            // The body of an auth error may quote part of the key: never keep it.
            return Err((ModelError::Auth { status: code }, None));
        }
        if status.is_server_error() {
            return Err((ModelError::Server { status: code }, None));
        }
        if !status.is_success() {
            let detail = error_message(body).unwrap_or_else(|| truncate(body, 200));
            return Err((ModelError::Rejected { status: code, detail: self.scrub(&detail) }, None));
        }
        let parsed: ChatResponse = serde_json::from_str(body)
            .map_err(|e| (ModelError::Junk { detail: format!("not a chat completion: {e}") }, None))?;
        let usage = parsed.usage.unwrap_or_default();
        let Some(choice) = parsed.choices.into_iter().next() else {
            return Err((ModelError::Junk { detail: "no choices in the answer".into() }, Some(usage)));
        };
        match (choice.message.content, choice.message.refusal) {
            (Some(c), _) if !c.trim().is_empty() => Ok((c, usage)),
            (_, Some(r)) => Err((ModelError::Junk { detail: format!("the model refused: {}", truncate(&r, 120)) }, Some(usage))),
            _ => Err((ModelError::Junk { detail: "empty answer".into() }, Some(usage))),
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> ModelError {
        if e.is_timeout() {
            ModelError::Timeout { secs: self.timeout_secs }
        } else {
            // Without the URL: it is in the config anyway, and a proxy URL may carry credentials.
            let detail = std::error::Error::source(e).map(|s| s.to_string()).unwrap_or_else(|| e.to_string());
            ModelError::Connect { detail: self.scrub(&detail) }
        }
    }

    /// Removes the key from any text that might be shown or stored.
    fn scrub(&self, text: &str) -> String {
        match &self.key {
            Some(k) if !k.expose().is_empty() => text.replace(k.expose(), "***"),
            _ => text.to_string(),
        }
    }
}

/// `retry-after-ms` (OpenAI), else `Retry-After` in seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers.get("retry-after-ms").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok()) {
        return (ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// 0.5 s, 1 s, 2 s, … capped at 30 s, each ±25 % so parallel workers do not retry in step.
fn backoff(n: u32) -> Duration {
    let base = BACKOFF_BASE.saturating_mul(1u32 << n.min(16)).min(BACKOFF_CAP);
    let jitter = 0.75 + rand::random::<f64>() * 0.5;
    base.mul_f64(jitter)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { s.chars().take(max).collect::<String>() + "…" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        let future = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        h.insert(RETRY_AFTER, HeaderValue::from_str(&future).unwrap());
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(25) && d <= Duration::from_secs(30), "{d:?}");
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(0) <= Duration::from_millis(625));
        assert!(backoff(3) >= Duration::from_secs(3));
        assert!(backoff(40) <= BACKOFF_CAP.mul_f64(1.25));
    }

    fn client(key: &str) -> Client {
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let cfg: ModelConfig = toml::from_str("model = \"m\"").unwrap();
        Client::new(&cfg, Some(Secret::new(key)), None).unwrap()
    }

    #[test]
    fn statuses_map_to_typed_errors_without_the_key() {
        let c = client("sk-test-SECRET123");
        let h = HeaderMap::new();
        let e = c.interpret(StatusCode::UNAUTHORIZED, &h, "{\"error\":{\"message\":\"Incorrect API key sk-test-SECRET123\"}}").unwrap_err().0;
        assert_eq!(e, ModelError::Auth { status: 401 });
        let e = c.interpret(StatusCode::BAD_REQUEST, &h, "{\"error\":{\"message\":\"key sk-test-SECRET123 bad\"}}").unwrap_err().0;
        assert!(!e.to_string().contains("SECRET123"), "{e}");
        assert_eq!(c.interpret(StatusCode::BAD_GATEWAY, &h, "").unwrap_err().0, ModelError::Server { status: 502 });
        assert!(matches!(c.interpret(StatusCode::OK, &h, "{\"nope\":1}").unwrap_err().0, ModelError::Junk { .. }));
        let ok = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}";
        assert_eq!(c.interpret(StatusCode::OK, &h, ok).unwrap().0, "hi");
    }
}
