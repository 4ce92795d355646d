//! Posting a payload to a webhook, with retries.
//!
//! Retried: connection errors, timeouts, HTTP 429 (honouring `Retry-After`, capped) and 5xx,
//! and the "too many requests" answers WeCom and DingTalk give with HTTP 200. Not retried:
//! other 4xx and other application errors, which a retry cannot fix. WeCom, DingTalk and
//! Feishu report errors in a 200 body (`errcode` / `code`), so those bodies are checked too.
//!
//! The URL carries the webhook's token: it is never part of an error or a log line
//! (`reqwest::Error::without_url`).

use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::Flavour;
use crate::secret::Secret;

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all (the first one included).
    pub attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// The longest wait a `Retry-After` may ask for.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 3, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(30) }
    }
}

/// One webhook, resolved.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub flavour: Flavour,
    pub url: Secret,
    /// Feishu and DingTalk "signature" security setting.
    pub sign_secret: Option<Secret>,
}

/// What posting did (the event's content).
#[derive(Debug, Clone, PartialEq)]
pub struct PostOutcome {
    pub ok: bool,
    pub attempts: u32,
    /// The last HTTP status seen.
    pub http_status: Option<u16>,
    pub latency_ms: i64,
    /// Why it failed (never contains the URL).
    pub error: Option<String>,
}

/// Posts payloads with one shared HTTP client.
pub struct Poster {
    client: reqwest::Client,
    retry: RetryPolicy,
}

enum Attempt {
    Done(u16),
    Retry { status: Option<u16>, error: String, wait: Option<Duration> },
    Fail { status: Option<u16>, error: String },
}

impl Poster {
    pub fn new(timeout: Duration, retry: RetryPolicy) -> anyhow::Result<Poster> {
        // reqwest is built without a default TLS provider; the binary installs ring, and so
        // must a library user that never went through main.
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("mailroom/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {}", e.without_url()))?;
        Ok(Poster { client, retry })
    }

    /// Posts `body` to `target`, retrying as the policy allows.
    pub async fn post(&self, target: &Target, body: &Value) -> PostOutcome {
        let started = Instant::now();
        let mut attempts = 0;
        let mut delay = self.retry.base_delay;
        loop {
            attempts += 1;
            let result = self.attempt(target, body).await;
            let outcome = |ok, http_status, error| PostOutcome {
                ok,
                attempts,
                http_status,
                latency_ms: started.elapsed().as_millis() as i64,
                error,
            };
            match result {
                Attempt::Done(status) => return outcome(true, Some(status), None),
                Attempt::Fail { status, error } => return outcome(false, status, Some(error)),
                Attempt::Retry { status, error, wait } => {
                    if attempts >= self.retry.attempts.max(1) {
                        return outcome(false, status, Some(format!("{error} (after {attempts} attempts)")));
                    }
                    let wait = wait.unwrap_or(delay).min(self.retry.max_delay);
                    tracing::debug!(webhook = %target.name, attempts, ?wait, "retrying webhook: {error}");
                    tokio::time::sleep(wait).await;
                    delay = delay.saturating_mul(2);
                }
            }
        }
    }

    async fn attempt(&self, target: &Target, body: &Value) -> Attempt {
        let (url, body) = signed(target, body);
        let response = match self.client.post(url).json(&body).send().await {
            Ok(r) => r,
            Err(e) => return Attempt::Retry { status: None, error: describe(e), wait: None },
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = match response.text().await {
            Ok(t) => t,
            Err(e) => return Attempt::Retry { status: Some(status), error: describe(e), wait: None },
        };
        if status == 429 || (500..600).contains(&status) {
            return Attempt::Retry { status: Some(status), error: format!("HTTP {status}: {}", snippet(&text)), wait: retry_after };
        }
        if !(200..300).contains(&status) {
            return Attempt::Fail { status: Some(status), error: format!("HTTP {status}: {}", snippet(&text)) };
        }
        match app_error(target.flavour, &text) {
            None => Attempt::Done(status),
            Some((error, true)) => Attempt::Retry { status: Some(status), error, wait: None },
            Some((error, false)) => Attempt::Fail { status: Some(status), error },
        }
    }
}

/// An error as text, without the URL (which holds the token).
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// The first line of a response body, short: enough to tell what went wrong.
fn snippet(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > 200 { line.chars().take(200).collect::<String>() + "…" } else { line.to_string() }
}

/// An error reported inside a 2xx body: (text, worth retrying).
fn app_error(flavour: Flavour, text: &str) -> Option<(String, bool)> {
    let v: Value = serde_json::from_str(text).ok()?;
    let (code, msg) = match flavour {
        Flavour::Wecom | Flavour::Dingtalk => (v.get("errcode")?.as_i64()?, v.get("errmsg")),
        Flavour::Feishu => {
            let code = v.get("code").or_else(|| v.get("StatusCode"))?.as_i64()?;
            (code, v.get("msg").or_else(|| v.get("StatusMessage")))
        }
        Flavour::Slack | Flavour::Json => return None,
    };
    if code == 0 {
        return None;
    }
    let msg = msg.and_then(Value::as_str).unwrap_or("");
    // WeCom 45009 and DingTalk 130101 / 660026: sending too fast.
    let retry = matches!(code, 45009 | 130101 | 660026) || (flavour == Flavour::Feishu && code == 11232);
    Some((format!("{} error {code}: {}", flavour.as_str(), snippet(msg)), retry))
}

/// The URL and body to send, signed when the webhook has a signing secret: DingTalk wants
/// `timestamp` (ms) and `sign` in the query, Feishu wants them (s) in the body.
fn signed(target: &Target, body: &Value) -> (String, Value) {
    let url = target.url.expose().to_string();
    let Some(secret) = &target.sign_secret else { return (url, body.clone()) };
    let b64 = base64::engine::general_purpose::STANDARD;
    match target.flavour {
        Flavour::Dingtalk => {
            let ts = chrono::Utc::now().timestamp_millis();
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("any key length");
            mac.update(format!("{ts}\n{}", secret.expose()).as_bytes());
            let sign = b64.encode(mac.finalize().into_bytes());
            let sep = if url.contains('?') { '&' } else { '?' };
            (format!("{url}{sep}timestamp={ts}&sign={}", percent_encoding::utf8_percent_encode(&sign, percent_encoding::NON_ALPHANUMERIC)), body.clone())
        }
        Flavour::Feishu => {
            let ts = chrono::Utc::now().timestamp();
            let key = format!("{ts}\n{}", secret.expose());
            let mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
            let sign = b64.encode(mac.finalize().into_bytes());
            let mut body = body.clone();
            if let Some(obj) = body.as_object_mut() {
                obj.insert("timestamp".into(), ts.to_string().into());
                obj.insert("sign".into(), sign.into());
            }
            (url, body)
        }
        _ => (url, body.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_errors_inside_200_are_failures() {
        assert_eq!(app_error(Flavour::Wecom, r#"{"errcode":0,"errmsg":"ok"}"#), None);
        let (e, retry) = app_error(Flavour::Wecom, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#).unwrap();
        assert!(e.contains("93000") && !retry);
        assert!(app_error(Flavour::Dingtalk, r#"{"errcode":130101,"errmsg":"send too fast"}"#).unwrap().1);
        assert!(app_error(Flavour::Feishu, r#"{"code":19021,"msg":"sign match fail"}"#).is_some());
        assert_eq!(app_error(Flavour::Feishu, r#"{"StatusCode":0,"StatusMessage":"success"}"#), None);
        assert_eq!(app_error(Flavour::Slack, "ok"), None);
    }

    #[test]
    fn signing_follows_each_chat() {
        let t = |flavour| Target {
            name: "x".into(),
            flavour,
            url: Secret::new("http://h/robot/send?access_token=T"),
            sign_secret: Some(Secret::new("SEC")),
        };
        let (url, _) = signed(&t(Flavour::Dingtalk), &serde_json::json!({}));
        assert!(url.starts_with("http://h/robot/send?access_token=T&timestamp="), "{url}");
        assert!(url.contains("&sign="));
        let (url, body) = signed(&t(Flavour::Feishu), &serde_json::json!({"msg_type": "text"}));
        assert_eq!(url, "http://h/robot/send?access_token=T");
        assert!(body["sign"].as_str().unwrap().ends_with('='));
        assert!(body["timestamp"].is_string());
    }
}
