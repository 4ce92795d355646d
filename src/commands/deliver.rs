//! Delivery of reports (the digest, heartbeat alerts) to the team's chat webhooks and by e-mail.
//!
//! SEAM: the notify adapter (`src/notify/`: payload builders and a poster with retries) and the
//! SMTP sender (`src/mail/smtp.rs`) are built in other branches. Until they are merged,
//! [`to_webhooks`] posts one plain text payload per webhook flavour itself, and [`by_email`]
//! says that e-mail is not available in this build. Re-point these two functions when they land;
//! the commands only call them.

use std::time::Duration;

use anyhow::Result;
use serde_json::{Value, json};

use crate::config::{Config, WebhookConfig};
use crate::error::ConfigError;
use crate::ledger::{Event, Ledger};

/// A report to deliver.
pub struct Report<'a> {
    /// "digest" or "heartbeat": the `type` of the generic JSON payload.
    pub kind: &'a str,
    pub title: &'a str,
    /// Markdown body (chat flavours render it or show it as text).
    pub text: &'a str,
    /// The structured report, for the generic JSON flavour.
    pub data: &'a Value,
}

/// Chat platforms cap message size (WeCom 4096 bytes); a digest stays well below that
/// except for unusual subjects, which are cut here rather than rejected by the platform.
const MAX_CHAT_BYTES: usize = 3800;

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n…", &text[..end])
}

/// The JSON body a webhook of `flavour` expects for a text report.
pub fn payload(flavour: &str, report: &Report<'_>) -> Value {
    let body = truncate(report.text, MAX_CHAT_BYTES);
    match flavour {
        "slack" | "mattermost" => json!({ "text": format!("*{}*\n{}", report.title, body) }),
        "wecom" => {
            json!({ "msgtype": "markdown", "markdown": { "content": format!("**{}**\n{}", report.title, body) } })
        }
        "feishu" | "lark" => {
            json!({ "msg_type": "text", "content": { "text": format!("{}\n{}", report.title, body) } })
        }
        "dingtalk" => {
            json!({ "msgtype": "markdown", "markdown": { "title": report.title, "text": format!("### {}\n{}", report.title, body) } })
        }
        _ => {
            json!({ "type": format!("mailroom.{}", report.kind), "title": report.title, "text": report.text, "data": report.data })
        }
    }
}

/// The configured webhooks, or a config error when there are none.
pub fn webhooks(config: &Config) -> Result<&[WebhookConfig], ConfigError> {
    if config.notify.webhooks.is_empty() {
        return Err(ConfigError::with_hint(
            "no webhooks configured to deliver to",
            "add a [[notify.webhooks]] table (name, kind, url_env) to the config",
        ));
    }
    Ok(&config.notify.webhooks)
}

/// Posts `report` to every configured webhook; returns (webhook name, outcome) per webhook and
/// records each post as a `notify.post` event. Errors never contain the URL (it holds a token).
pub async fn to_webhooks(
    config: &Config,
    ledger: &Ledger,
    run_id: Option<i64>,
    report: &Report<'_>,
) -> Vec<(String, Result<()>)> {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("mailroom/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("cannot build the HTTP client: {}", e.without_url());
            return config
                .notify
                .webhooks
                .iter()
                .map(|w| (w.name.clone(), Err(anyhow::anyhow!(msg.clone()))))
                .collect();
        }
    };
    let mut out = Vec::new();
    for hook in &config.notify.webhooks {
        let started = std::time::Instant::now();
        let result = post(&client, hook, report).await;
        let event = Event::new("notify.post", if result.is_ok() { "ok" } else { "error" })
            .run(run_id)
            .latency_ms(started.elapsed().as_millis() as i64)
            .detail(json!({
                "webhook": hook.name,
                "report": report.kind,
                "error": result.as_ref().err().map(|e| format!("{e:#}")),
            }));
        if let Err(e) = ledger.event(&event) {
            tracing::warn!("could not record the webhook post: {e:#}");
        }
        out.push((hook.name.clone(), result));
    }
    out
}

async fn post(client: &reqwest::Client, hook: &WebhookConfig, report: &Report<'_>) -> Result<()> {
    let url = hook.url_source().resolve(&format!("webhook \"{}\" url", hook.name))?;
    let body = payload(&hook.kind, report);
    let response = client
        .post(url.expose())
        .json(&body)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("webhook \"{}\": {}", hook.name, e.without_url()))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("webhook \"{}\": HTTP {}: {}", hook.name, status.as_u16(), text.lines().next().unwrap_or(""));
    }
    // WeCom, DingTalk and Feishu answer 200 with an error code in the body.
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        let code = v.get("errcode").or_else(|| v.get("code")).and_then(Value::as_i64).unwrap_or(0);
        if code != 0 {
            let msg = v.get("errmsg").or_else(|| v.get("msg")).and_then(Value::as_str).unwrap_or("");
            anyhow::bail!("webhook \"{}\": error {code}: {msg}", hook.name);
        }
    }
    Ok(())
}

/// E-mail delivery through an account's SMTP settings.
pub async fn by_email(
    _config: &Config,
    _account: Option<&str>,
    _to: &[String],
    _subject: &str,
    _text: &str,
    _html: &str,
) -> Result<()> {
    Err(crate::error::hinted(
        "e-mail delivery needs the SMTP sender, which this build does not have yet; nothing was sent",
        "use --deliver notify or --deliver stdout (e.g. `mailroom digest --format html > digest.html`)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flavour_gets_its_own_shape() {
        let data = json!({"counts": {"new": 3}});
        let r = Report { kind: "digest", title: "T", text: "body", data: &data };
        assert_eq!(payload("slack", &r)["text"], "*T*\nbody");
        assert_eq!(payload("wecom", &r)["msgtype"], "markdown");
        assert_eq!(payload("feishu", &r)["content"]["text"], "T\nbody");
        assert_eq!(payload("dingtalk", &r)["markdown"]["title"], "T");
        let generic = payload("json", &r);
        assert_eq!(generic["type"], "mailroom.digest");
        assert_eq!(generic["data"]["counts"]["new"], 3);
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let text = "é".repeat(3000);
        let cut = truncate(&text, MAX_CHAT_BYTES);
        assert!(cut.len() <= MAX_CHAT_BYTES + 4);
        assert!(cut.ends_with('…'));
    }
}
