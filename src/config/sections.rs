//! The smaller config sections: team, model, and one table per stage.
//! Every field has a default so an empty config works.

use std::path::PathBuf;

use serde::Deserialize;

use crate::secret::SecretSource;

/// `[team]`: who we are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeamConfig {
    pub name: String,
    /// Our own mail domains: test mail from them is dropped, our own sent mail is a loop.
    pub domains: Vec<String>,
    /// IANA time zone for digests, e.g. "Europe/Berlin".
    pub timezone: String,
    /// Sign-off line of drafts.
    pub sign_off: String,
    /// Base URL of `mailroom review serve` as agents reach it, for links in notifications.
    pub review_url: String,
    /// VIP senders (addresses or @domains): escalated and prioritised.
    pub vip: Vec<String>,
}

impl Default for TeamConfig {
    fn default() -> Self {
        TeamConfig {
            name: "Support".into(),
            domains: Vec::new(),
            timezone: "UTC".into(),
            sign_off: "Best regards,\nThe Support Team".into(),
            review_url: "http://127.0.0.1:8025".into(),
            vip: Vec::new(),
        }
    }
}

/// `[model]`: an OpenAI-compatible endpoint with the team's own key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    pub model: String,
    pub api_key_env: Option<String>,
    pub api_key_command: Option<String>,
    /// Provider name, informational ("openai", "deepseek", "qwen", "ollama", …).
    pub provider: Option<String>,
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// Concurrent requests when `-j` is not given.
    #[serde(default = "default_jobs")]
    pub jobs: usize,
}

fn default_base_url() -> String {
    "https://api.openai.com/v1".into()
}
fn default_timeout() -> u64 {
    60
}
fn default_retries() -> u32 {
    5
}
fn default_jobs() -> usize {
    4
}

impl ModelConfig {
    pub fn key_source(&self) -> SecretSource {
        SecretSource { env: self.api_key_env.clone(), command: self.api_key_command.clone(), plain: None }
    }
}

/// `[filter]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    /// Addresses or `@domain`s that always pass.
    pub allow: Vec<String>,
    /// Addresses or `@domain`s that are always spam.
    pub block: Vec<String>,
    /// Trust X-Spam-Status / X-Spam-Flag set by an upstream filter.
    pub trust_upstream_spam_headers: bool,
    /// Spam probability at or above which the statistical model says spam. High on
    /// purpose: a customer called spam is the worst mistake the filter can make.
    pub spam_threshold: f64,
    /// A retrained spam model (written by `filter --train`); the embedded one otherwise.
    pub model_path: Option<PathBuf>,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            allow: Vec::new(),
            block: Vec::new(),
            trust_upstream_spam_headers: false,
            spam_threshold: 0.995,
            model_path: None,
        }
    }
}

impl FilterConfig {
    /// A threshold below one half would call mail spam that the model thinks is more likely ham.
    pub fn validate(&self) -> Result<(), crate::error::ConfigError> {
        if !(0.5..=1.0).contains(&self.spam_threshold) {
            return Err(crate::error::ConfigError::new(format!(
                "[filter] spam_threshold = {}: must be between 0.5 and 1.0 (default 0.995)",
                self.spam_threshold
            )));
        }
        Ok(())
    }
}

/// `[classify]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifyConfig {
    /// "embedded" (default) or "model" (the `[model]` endpoint).
    pub backend: String,
    /// Below this confidence the category becomes `other` and review is required.
    pub min_confidence: f64,
    /// The team's own taxonomy; empty means the default categories.
    pub categories: Vec<CategoryDef>,
    /// A retrained text model (written by `classify --train`).
    pub model_path: Option<PathBuf>,
    /// Days within which a second message from the same sender counts as repeated contact.
    pub repeat_contact_days: u32,
    /// How the model backend asks for structured output: "json_schema" (default),
    /// "json_object" (DeepSeek, older servers) or "none".
    pub response_format: String,
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        ClassifyConfig {
            backend: "embedded".into(),
            min_confidence: 0.45,
            categories: Vec::new(),
            model_path: None,
            repeat_contact_days: 7,
            response_format: "json_schema".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDef {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Words that point to this category (used by the embedded rules).
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// `[draft]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DraftConfig {
    /// "template" (default) or "model".
    pub backend: String,
    /// Folder of Markdown policies drafts are grounded in.
    pub knowledge_dir: Option<PathBuf>,
    /// Folder of minijinja templates (`<category>.txt.j2`) overriding the built-in ones.
    pub templates_dir: Option<PathBuf>,
    /// Command given an order id, printing JSON (status, carrier, tracking, customer_email).
    pub order_lookup_command: Option<String>,
    /// Seconds the order lookup may take before it counts as failed.
    pub order_lookup_timeout_secs: u64,
    /// Below this classification confidence a draft is high risk.
    pub min_confidence: f64,
    /// Missing-information checks per category, replacing the built-in ones for that category,
    /// e.g. `wholesale = ["order_number"]`. Keys: order_number, photos, new_address,
    /// amount_and_date, account_email.
    pub checklist: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for DraftConfig {
    fn default() -> Self {
        DraftConfig {
            backend: "template".into(),
            knowledge_dir: None,
            templates_dir: None,
            order_lookup_command: None,
            order_lookup_timeout_secs: 10,
            min_confidence: 0.6,
            checklist: Default::default(),
        }
    }
}

/// `[policy]`: what may be sent without a human.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    pub auto_send: bool,
    pub categories: Vec<String>,
    pub min_confidence: f64,
    pub daily_cap: u32,
    /// While this file exists, auto-send is paused.
    pub pause_file: Option<PathBuf>,
    /// Messages per minute `send` may submit.
    pub rate_per_minute: u32,
    /// Attempts for temporary failures before a draft is `failed`.
    pub max_attempts: u32,
    /// Wait before the first retry of a temporary failure; doubles with each attempt (max 6 h).
    pub retry_backoff_secs: u64,
    /// A send interrupted after the message went out is looked up in the Sent folder only after
    /// this many seconds (the copy may still be on its way); until then it stays `sending`.
    pub reconcile_after_secs: u64,
    /// "now": Approve & send on the review page sends at once; "queue": the send timer does.
    pub approve_sends: String,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            auto_send: false,
            categories: vec!["shipping".into()],
            min_confidence: 0.9,
            daily_cap: 20,
            pause_file: None,
            rate_per_minute: 30,
            max_attempts: 5,
            retry_backoff_secs: 60,
            reconcile_after_secs: 300,
            approve_sends: "now".into(),
        }
    }
}

/// `[notify]`: group-chat webhooks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    pub webhooks: Vec<WebhookConfig>,
    /// Seconds one POST may take.
    pub timeout_secs: u64,
    /// Attempts per post, the first included (retries on network errors, 429 and 5xx).
    pub attempts: u32,
    /// Wait before the first retry, doubled for each further one.
    pub retry_delay_ms: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig { webhooks: Vec::new(), timeout_secs: 10, attempts: 3, retry_delay_ms: 500 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub name: String,
    /// "slack" | "wecom" | "feishu" | "dingtalk" | "json"
    pub kind: String,
    /// The URL usually carries a token: give it by env or command, or inline if you must.
    pub url: Option<String>,
    pub url_env: Option<String>,
    pub url_command: Option<String>,
    /// Only these categories (empty: all).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Only these priorities (empty: all).
    #[serde(default)]
    pub priorities: Vec<String>,
    /// Feishu / DingTalk "signature" secret (the bot's security setting), by env or command.
    pub secret_env: Option<String>,
    pub secret_command: Option<String>,
}

impl WebhookConfig {
    pub fn url_source(&self) -> SecretSource {
        SecretSource { env: self.url_env.clone(), command: self.url_command.clone(), plain: self.url.clone() }
    }

    pub fn secret_source(&self) -> SecretSource {
        SecretSource { env: self.secret_env.clone(), command: self.secret_command.clone(), plain: None }
    }
}

/// `[review]`: the review page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewConfig {
    pub listen: String,
    /// How long a link in a notification stays valid.
    pub link_ttl_hours: u64,
    /// Pending drafts older than this are overdue (heartbeat, digest).
    pub sla_hours: u64,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig { listen: "127.0.0.1:8025".into(), link_ttl_hours: 72, sla_hours: 24 }
    }
}

/// `[heartbeat]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeartbeatConfig {
    pub max_idle: String,
    /// Consecutive failures of a kind (IMAP login, model call) that make an incident.
    pub failure_threshold: u32,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig { max_idle: "2h".into(), failure_threshold: 3 }
    }
}

/// `[cases]`: service cases (threads with an owner, a waiting state and a next step).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CasesConfig {
    /// Days a case may wait for the customer before `on_timeout` applies.
    pub waiting_customer_days: u32,
    /// "follow_up" (a low-risk reminder draft; the next timeout closes the case) or "close".
    pub on_timeout: String,
    /// A message without threading headers joins a case of the same customer with the same
    /// subject (Re:/AW:/Fwd: removed) when that case had a message within this many days.
    pub thread_window_days: u32,
    /// Hours a case may wait on us (new or waiting_internal) before it is over its SLA.
    pub sla_hours: u64,
    /// Per-priority SLA hours replacing `sla_hours`, e.g. `{ P1 = 4, P2 = 8 }`.
    pub sla_hours_by_priority: std::collections::BTreeMap<String, u64>,
}

impl Default for CasesConfig {
    fn default() -> Self {
        CasesConfig {
            waiting_customer_days: 5,
            on_timeout: "follow_up".into(),
            thread_window_days: 14,
            sla_hours: 24,
            sla_hours_by_priority: [("P1".to_string(), 4), ("P2".to_string(), 8)].into_iter().collect(),
        }
    }
}
