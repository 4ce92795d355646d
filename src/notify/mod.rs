//! Group-chat webhooks: one payload builder per flavour, and one poster.
//!
//! A [`Notice`] is what a message to the team says (priority, category, sender, subject, the
//! missing-information checklist and the review link); [`payload::build`] turns it into the
//! JSON each chat expects, and [`poster::Poster`] delivers it with retries. Nothing here
//! knows about the ledger: the notify stage records each post as an event.

pub mod payload;
pub mod poster;

use serde::Serialize;

/// The chat a webhook belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// Slack incoming webhooks and the Slack-compatible ones (Mattermost, Rocket.Chat, Zulip's
    /// Slack endpoint): `{text, blocks}`.
    Slack,
    /// WeCom (WeChat Work) group robots: `{msgtype: "markdown", markdown: {content}}`.
    Wecom,
    /// Feishu / Lark custom bots: an interactive card with a button.
    Feishu,
    /// DingTalk custom robots: `{msgtype: "markdown", markdown: {title, text}}`.
    Dingtalk,
    /// mailroom's own JSON shape, for scripts and other tools (see `payload`).
    Json,
}

impl Flavour {
    pub const NAMES: &'static str = "slack, wecom, feishu, dingtalk, json";

    pub fn parse(s: &str) -> Option<Flavour> {
        match s.to_ascii_lowercase().as_str() {
            "slack" | "mattermost" => Some(Flavour::Slack),
            "wecom" | "wechat_work" | "workwx" => Some(Flavour::Wecom),
            "feishu" | "lark" => Some(Flavour::Feishu),
            "dingtalk" => Some(Flavour::Dingtalk),
            "json" | "generic" => Some(Flavour::Json),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Slack => "slack",
            Flavour::Wecom => "wecom",
            Flavour::Feishu => "feishu",
            Flavour::Dingtalk => "dingtalk",
            Flavour::Json => "json",
        }
    }
}

/// What one notification says about one message.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Notice {
    /// The team's name, shown as the source.
    pub team: String,
    /// The record id (the review page's key).
    pub message: String,
    pub draft: Option<String>,
    /// "P1".."P4", or empty when the message was not triaged.
    pub priority: String,
    pub category: String,
    pub risk: Option<String>,
    /// "Name <address>".
    pub sender: String,
    pub subject: String,
    /// Missing information the reply asks for.
    pub checklist: Vec<String>,
    /// The review page of this message (carries a token: never log it).
    pub link: String,
    /// True when triage asked for escalation.
    pub escalate: bool,
}
