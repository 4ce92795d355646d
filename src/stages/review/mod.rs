//! Review: what humans decide about drafts, shared by `mailroom review` (terminal and
//! scriptable forms) and `mailroom review serve` (the web page).
//!
//! - `queue`: the list of drafts by priority and age, and the full story of one.
//! - `actions`: approve, edit, reject, handle, recategorize; each is one ledger transition
//!   plus an event, whoever calls it.
//! - `links`: signed, expiring links to the review page and CSRF tokens for its forms.
//!
//! "Approve & send" approves first, then either hands the draft to the send stage at once
//! (`policy.approve_sends = "now"`, through [`SendNow`]) or leaves it `approved` for the send
//! timer (`"queue"`). Both paths end in the same ledger states, because the send stage is
//! the only one that moves a draft past `approved`.

pub mod actions;
pub mod links;
pub mod queue;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use futures::future::BoxFuture;

use crate::config::{Config, PolicyConfig};
use crate::error::ConfigError;

/// The default taxonomy (SPEC section 2), used when the config defines none.
pub const DEFAULT_CATEGORIES: [&str; 10] = [
    "shipping",
    "refund",
    "return",
    "complaint",
    "product",
    "address_change",
    "cancellation",
    "payment",
    "account",
    "other",
];

/// One approved draft for the send stage to send now.
#[derive(Debug, Clone)]
pub struct SendJob {
    pub config: Arc<Config>,
    /// The send stage opens its own connection: a send may take seconds, and the review page
    /// must not hold its ledger meanwhile.
    pub ledger_path: PathBuf,
    pub draft_id: String,
    /// Who pressed "Approve & send".
    pub actor: String,
}

/// The send stage's entry point for one draft. It owns the draft's state from `approved` on
/// (`sending`, then `sent`, `failed`, or back to `approved` for a later retry) and returns a
/// short description for the reviewer (the SMTP reply, say).
pub type SendNow = Arc<dyn Fn(SendJob) -> BoxFuture<'static, Result<Delivery>> + Send + Sync>;

/// The send hook: "Approve & send" hands the draft to the send stage at once, on its own
/// ledger connection, and reports the outcome to the reviewer.
pub fn send_now_hook() -> Option<SendNow> {
    Some(Arc::new(|job: SendJob| {
        Box::pin(async move {
            // The send stage keeps a ledger borrow across awaits (rusqlite is not Sync), so it
            // runs on its own thread with its own small runtime.
            let outcome = tokio::task::spawn_blocking(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                rt.block_on(async {
                    let mut ledger = crate::ledger::Ledger::open(&job.ledger_path)?;
                    crate::stages::send::send_one(&job.config, &mut ledger, &job.draft_id, &job.actor).await
                })
            })
            .await
            .map_err(|e| anyhow::anyhow!("the send task failed: {e}"))??;
            let detail = outcome.smtp_response.or(outcome.reason).unwrap_or_default();
            let report = if detail.is_empty() { outcome.state.clone() } else { format!("{}: {detail}", outcome.state) };
            Ok(match outcome.state.as_str() {
                "sent" => Delivery::Sent(report),
                // Not sent now (no SMTP account, paused, retry scheduled): `mailroom send` picks it up.
                "approved" | "skipped" => Delivery::Queued(report),
                _ => Delivery::Failed(report),
            })
        })
    }))
}

/// `policy.approve_sends`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApproveSends {
    Now,
    Queue,
}

impl ApproveSends {
    pub fn from_config(policy: &PolicyConfig) -> Result<ApproveSends, ConfigError> {
        match policy.approve_sends.as_str() {
            "now" => Ok(ApproveSends::Now),
            "queue" => Ok(ApproveSends::Queue),
            other => Err(ConfigError::new(format!(
                "policy.approve_sends = \"{other}\": expected \"now\" or \"queue\""
            ))),
        }
    }
}

/// What happened to an approved draft right after approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The send stage sent it; the text is its report.
    Sent(String),
    /// Left `approved` for the send timer; the text says why.
    Queued(String),
    /// The send stage was asked and failed; the draft's state is whatever it left.
    Failed(String),
}

impl Delivery {
    /// `sent` | `queued` | `send_failed`, as in decision records.
    pub fn as_str(&self) -> &'static str {
        match self {
            Delivery::Sent(_) => "sent",
            Delivery::Queued(_) => "queued",
            Delivery::Failed(_) => "send_failed",
        }
    }

    pub fn note(&self) -> &str {
        match self {
            Delivery::Sent(s) | Delivery::Queued(s) | Delivery::Failed(s) => s,
        }
    }
}

/// Sends an approved draft at once or leaves it for the timer, per policy.
pub async fn deliver(policy: ApproveSends, hook: Option<&SendNow>, job: SendJob) -> Delivery {
    match (policy, hook) {
        (ApproveSends::Queue, _) => Delivery::Queued("queued for the send timer (policy.approve_sends = \"queue\")".into()),
        (ApproveSends::Now, None) => Delivery::Queued(
            "queued: this build has no send stage yet; `mailroom send` will pick it up".into(),
        ),
        (ApproveSends::Now, Some(send)) => match send(job).await {
            Ok(delivery) => delivery,
            Err(e) => Delivery::Failed(format!("{e:#}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> SendJob {
        SendJob {
            config: Arc::new(Config::default()),
            ledger_path: PathBuf::from("x"),
            draft_id: "d1".into(),
            actor: "alice".into(),
        }
    }

    #[tokio::test]
    async fn the_policy_decides_between_sending_and_queueing() {
        let hook: SendNow = Arc::new(|job: SendJob| Box::pin(async move { Ok(Delivery::Sent(format!("250 ok {}", job.draft_id))) }));
        assert_eq!(deliver(ApproveSends::Now, Some(&hook), job()).await, Delivery::Sent("250 ok d1".into()));
        assert_eq!(deliver(ApproveSends::Queue, Some(&hook), job()).await.as_str(), "queued");
        assert_eq!(deliver(ApproveSends::Now, None, job()).await.as_str(), "queued");
        let failing: SendNow = Arc::new(|_| Box::pin(async { anyhow::bail!("554 relay denied") }));
        let d = deliver(ApproveSends::Now, Some(&failing), job()).await;
        assert_eq!(d.as_str(), "send_failed");
        assert!(d.note().contains("554"));
    }

    #[test]
    fn approve_sends_accepts_now_and_queue_only() {
        let mut p = PolicyConfig::default();
        assert_eq!(ApproveSends::from_config(&p).unwrap(), ApproveSends::Now);
        p.approve_sends = "queue".into();
        assert_eq!(ApproveSends::from_config(&p).unwrap(), ApproveSends::Queue);
        p.approve_sends = "later".into();
        assert!(ApproveSends::from_config(&p).is_err());
    }
}
