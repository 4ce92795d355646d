//! `mailroom notify`: post each record to the team's group chat.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::Ctx;
use super::stream::{Emit, run_stage};
use crate::error::{ConfigError, Outcome};
use crate::stages::notify::{Notifier, check_config, resolve_route};

/// Post each record to the team's group chat, with a link to its review page.
///
/// One message per record to the configured webhooks (Slack, WeCom, Feishu/Lark, DingTalk,
/// generic JSON), naming priority, category, sender, subject and the missing-information
/// checklist, with a signed, expiring link to the message's review page. Records pass
/// through unchanged.
///
/// Each webhook takes the records its `categories` / `priorities` lists allow. A failed post
/// is retried (`notify.attempts`), recorded in the ledger and reported on stderr; the records
/// still go to stdout and the exit status is 1 at the end. A record already posted to a
/// webhook is not posted there again (use --force).
///
/// Examples:
///   mailroom fetch | mailroom filter | mailroom classify | mailroom draft | mailroom notify
///   mailroom export --state pending --category refund | mailroom notify --force > /dev/null
///
/// Config:
///   [[notify.webhooks]]
///   name = "support-chat"
///   kind = "slack"                     # slack | wecom | feishu | dingtalk | json
///   url_env = "MAILROOM_SLACK_WEBHOOK" # or url_command = "pass show chat/webhook"
///   priorities = ["P1", "P2"]          # optional routing; also categories = [...]
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct NotifyArgs {
    /// JSONL files to read [default: stdin]
    pub inputs: Vec<PathBuf>,
    /// Post again to webhooks that already have this message
    #[arg(long)]
    pub force: bool,
    /// Only the webhook named NAME (repeatable)
    #[arg(long, value_name = "NAME")]
    pub webhook: Vec<String>,
    /// One message per webhook listing all records of this run, instead of one per record
    /// (records still pass through as they are read; the post happens at the end)
    #[arg(long)]
    pub batch: bool,
}

pub async fn run(args: NotifyArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let config = ctx.config()?.clone();
    check_config(&config.notify.webhooks)?;
    if config.notify.webhooks.is_empty() {
        return Err(ConfigError::with_hint(
            "no webhooks configured: nothing to notify",
            "add a [[notify.webhooks]] table (name, kind, url_env) to the config",
        )
        .into());
    }
    for name in &args.webhook {
        if !config.notify.webhooks.iter().any(|w| &w.name == name) {
            let known: Vec<&str> = config.notify.webhooks.iter().map(|w| w.name.as_str()).collect();
            return Err(ConfigError::new(format!("--webhook {name}: no such webhook (known: {})", known.join(", "))).into());
        }
    }
    let mut routes = Vec::new();
    for w in config.notify.webhooks.iter().filter(|w| args.webhook.is_empty() || args.webhook.contains(&w.name)) {
        match resolve_route(w) {
            Ok(r) => routes.push(r),
            // One broken webhook must not silence the others, nor stop the records.
            Err(e) => ctx.error(format!("{e:#}; skipping this webhook")),
        }
    }
    let notifier = Notifier::new(&config, ctx.ledger()?, routes)?;
    let (mut posted, mut failed, mut skipped) = (0u64, 0u64, 0u64);
    let runtime = tokio::runtime::Handle::current();
    let mut batch = Vec::new();
    run_stage(ctx, &args.inputs, false, |ctx, record| {
        if args.batch {
            batch.push(record.clone());
            return Ok(Emit::Records(vec![record]));
        }
        let run_id = ctx.run_id();
        let ledger = ctx.ledger()?;
        let reports =
            tokio::task::block_in_place(|| runtime.block_on(notifier.notify(ledger, &record, args.force, run_id)));
        match reports {
            Ok(reports) => {
                for r in reports {
                    match r.outcome {
                        None => skipped += 1,
                        Some(o) if o.ok => posted += 1,
                        Some(o) => {
                            failed += 1;
                            ctx.error(format!(
                                "message {}: webhook \"{}\": {}",
                                record.id,
                                r.webhook,
                                o.error.as_deref().unwrap_or("failed")
                            ));
                        }
                    }
                }
            }
            // The record still passes: notification is a side effect, not a gate.
            Err(e) => ctx.error(format!("message {}: {e:#}", record.id)),
        }
        Ok(Emit::Records(vec![record]))
    })?;
    if args.batch && !batch.is_empty() {
        let run_id = ctx.run_id();
        let reports = notifier.notify_batch(ctx.ledger()?, &batch, args.force, run_id).await?;
        for r in reports {
            match r.outcome {
                Some(o) if o.ok => posted += 1,
                Some(o) => {
                    failed += 1;
                    ctx.error(format!("batch to webhook \"{}\": {}", r.webhook, o.error.as_deref().unwrap_or("failed")));
                }
                None => skipped += 1,
            }
        }
    }
    ctx.count("posted", posted);
    ctx.count("post_failed", failed);
    ctx.count("already_posted", skipped);
    Ok(ctx.outcome())
}
