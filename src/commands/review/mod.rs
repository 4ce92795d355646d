//! `mailroom review`: humans approve, edit, reject or mark drafts handled.
//!
//! Without a subcommand on a terminal it is the interactive flow (`tui.rs`); the
//! subcommands are the scriptable forms (each decision one JSON line on stdout), and
//! `review serve` is the web page (`serve.rs`). All of them call `stages::review`.

mod card;
mod editor;
mod serve;
mod tui;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use super::Ctx;
use crate::config::{Config, current_user};
use crate::error::{Outcome, UsageError};
use crate::jsonl::RecordWriter;
use crate::ledger::DraftState;
use crate::stages::review::actions::{self, Decision, clean_actor};
use crate::stages::review::links::{LinkSigner, unix_now};
use crate::stages::review::{self as stage, ApproveSends, SendJob, queue};

const AFTER_HELP: &str = "\
Interactive keys (mailroom review on a terminal):
  a approve   e edit in $EDITOR   r reject (asks a reason)   h mark handled
  c recategorize   s/→ skip   p/← previous   v view whole message   q quit

Examples:
  mailroom review                                   # work through the queue on a terminal
  mailroom review list --json | jq -r 'select(.priority == \"P1\") | .draft'
  mailroom review approve d3f…  --as alice
  mailroom review edit d3f… --body-file reply.txt
  mailroom review reject d3f… --reason 'customer already called'
  mailroom review recategorize m9a… refund          # also a training label for classify
  mailroom review link m9a…                          # a signed link to the review page
  mailroom review serve --listen 127.0.0.1:8025";

/// Review drafts: interactive on a terminal, scriptable sub-actions (one JSON decision per
/// line on stdout), or a web page (`review serve`). IDs are draft ids or message ids (a
/// message id means its newest draft). Decisions are recorded in the ledger with who made
/// them: --as, else MAILROOM_USER, else $USER.
#[derive(Debug, Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct ReviewArgs {
    /// Name recorded as the reviewer [default: $MAILROOM_USER or $USER]
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub actor: Option<String>,
    #[command(subcommand)]
    pub action: Option<ReviewAction>,
}

#[derive(Debug, Subcommand)]
pub enum ReviewAction {
    /// List drafts waiting for review, most urgent first (priority, then age)
    List(ListArgs),
    /// Show one draft: the message, the draft, its checklist, reasons and history
    Show(ShowArgs),
    /// Approve drafts; they are sent at once or queued, per policy.approve_sends
    Approve(ApproveArgs),
    /// Replace a draft's text, from a file, stdin (-) or $EDITOR
    Edit(EditArgs),
    /// Reject drafts (nobody sends them); a reason is required
    Reject(RejectArgs),
    /// Mark messages handled (answered some other way)
    Handle(HandleArgs),
    /// Give a message another category (recorded as a training label for classify)
    Recategorize(RecategorizeArgs),
    /// Print signed links to the review page (for a message, or the listing)
    Link(LinkArgs),
    /// Serve the review web page
    Serve(serve::ServeArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Drafts in this state (repeatable) [default: pending]
    #[arg(long, value_name = "STATE")]
    pub state: Vec<String>,
    /// Drafts in every state
    #[arg(long, conflicts_with = "state")]
    pub all: bool,
    /// JSON lines instead of a table (the default when stdout is not a terminal)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Draft id or message id
    pub id: String,
    /// The full detail as one JSON object (the default when stdout is not a terminal)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// Draft ids or message ids
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// Only approve: leave the draft for the send timer even when policy.approve_sends = "now"
    #[arg(long)]
    pub queue: bool,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// Draft id or message id
    pub id: String,
    /// Take the new reply text from FILE (- for stdin) instead of opening $EDITOR
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// A new subject line
    #[arg(long)]
    pub subject: Option<String>,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    /// Draft ids or message ids
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// Why (required: it is how the drafts get better)
    #[arg(long, required = true)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct HandleArgs {
    /// Draft ids or message ids
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// How it was handled, e.g. "answered by phone"
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct RecategorizeArgs {
    /// Draft id or message id
    pub id: String,
    /// The right category (one of the taxonomy's names)
    pub category: String,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    /// Message ids or draft ids
    #[arg(required_unless_present = "listing")]
    pub ids: Vec<String>,
    /// The link to the listing of all pending drafts instead
    #[arg(long)]
    pub listing: bool,
    /// Hours the link stays valid [default: review.link_ttl_hours]
    #[arg(long, value_name = "HOURS")]
    pub ttl: Option<u64>,
}

pub async fn run(args: ReviewArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let actor = match &args.actor {
        Some(a) => clean_actor(a).ok_or_else(|| UsageError("--as needs a name".into()))?,
        None => clean_actor(&current_user()).unwrap_or_else(|| "unknown".into()),
    };
    match args.action {
        None => {
            if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
                return Err(UsageError(
                    "`mailroom review` alone is interactive and needs a terminal; \
                     use `mailroom review list`, `show`, `approve`, … in scripts"
                        .into(),
                )
                .into());
            }
            tui::run(ctx, &actor).await
        }
        Some(ReviewAction::List(a)) => list(a, ctx),
        Some(ReviewAction::Show(a)) => show(a, ctx),
        Some(ReviewAction::Approve(a)) => approve(a, ctx, &actor).await,
        Some(ReviewAction::Edit(a)) => edit(a, ctx, &actor),
        Some(ReviewAction::Reject(a)) => {
            each(ctx, &a.ids, |ctx, id| {
                let run_id = ctx.run_id();
                actions::reject(ctx.ledger()?, id, &actor, &a.reason, run_id)
            })
        }
        Some(ReviewAction::Handle(a)) => each(ctx, &a.ids, |ctx, id| {
            let run_id = ctx.run_id();
            actions::handle(ctx.ledger()?, id, &actor, a.note.as_deref(), run_id)
        }),
        Some(ReviewAction::Recategorize(a)) => {
            let ids = [a.id.clone()];
            each(ctx, &ids, |ctx, id| {
                let run_id = ctx.run_id();
                let (config, ledger) = ctx.config_and_ledger()?;
                actions::recategorize(ledger, config, id, &a.category, &actor, run_id)
            })
        }
        Some(ReviewAction::Link(a)) => link(a, ctx),
        Some(ReviewAction::Serve(a)) => serve::run(a, ctx).await,
    }
}

/// Writes one decision as a JSON line.
fn emit(out: &mut RecordWriter, d: &Decision) -> Result<()> {
    out.write_value(d)?;
    out.flush()?;
    Ok(())
}

/// Applies `f` to each id; a failing id is reported and the others still go through.
fn each(ctx: &mut Ctx, ids: &[String], mut f: impl FnMut(&mut Ctx, &str) -> Result<Decision>) -> Result<Outcome> {
    let mut out = RecordWriter::stdout(true);
    for id in ids {
        match f(ctx, id) {
            Ok(d) => emit(&mut out, &d)?,
            Err(e) => ctx.error(format!("{id}: {e:#}")),
        }
    }
    Ok(ctx.outcome())
}

fn parse_states(names: &[String]) -> Result<Vec<DraftState>> {
    names
        .iter()
        .map(|s| {
            DraftState::parse(s).ok_or_else(|| {
                UsageError(format!("--state {s}: expected pending, approved, rejected, handled, sending, sent or failed"))
                    .into()
            })
        })
        .collect()
}

fn list(args: ListArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let states = if args.all { DraftState::ALL.to_vec() } else { parse_states(&args.state)? };
    let items = queue::list(ctx.ledger()?, &states)?;
    if args.json || !std::io::stdout().is_terminal() {
        let mut out = RecordWriter::stdout(false);
        for item in &items {
            out.write_value(item)?;
        }
        out.flush()?;
        return Ok(Outcome::Success);
    }
    if items.is_empty() {
        ctx.info("nothing waiting for review");
        return Ok(Outcome::Success);
    }
    let mut table = crate::output::table(vec!["prio", "waiting", "category", "risk", "from", "subject", "missing", "draft"]);
    for i in &items {
        table.add_row(vec![
            i.priority.clone().unwrap_or_else(|| "P?".into()),
            queue::age_label(&i.received),
            i.category.clone().unwrap_or_default(),
            i.risk.clone(),
            card::clean(&i.from),
            card::clean(&i.subject),
            i.missing_info.len().to_string(),
            i.draft.clone(),
        ]);
    }
    println!("{table}");
    Ok(Outcome::Success)
}

fn show(args: ShowArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let detail = queue::detail(ctx.ledger()?, &args.id)?;
    if args.json || !std::io::stdout().is_terminal() {
        let mut out = RecordWriter::stdout(false);
        out.write_value(&detail)?;
        out.flush()?;
    } else {
        let style = card::Style { color: std::env::var_os("NO_COLOR").is_none() };
        print!("{}", card::render(&detail, style, tui::terminal_width(), 0));
    }
    Ok(Outcome::Success)
}

/// Approves, then sends at once or queues per policy (the same as the page's "Approve & send").
pub(crate) async fn approve_and_deliver(
    ctx: &mut Ctx,
    id: &str,
    actor: &str,
    force_queue: bool,
) -> Result<Decision> {
    let run_id = ctx.run_id();
    let config = Arc::new(ctx.config()?.clone());
    let policy = if force_queue { ApproveSends::Queue } else { ApproveSends::from_config(&config.policy)? };
    let ledger_path = ctx.ledger_path();
    let mut decision = actions::approve(ctx.ledger()?, id, actor, run_id)?;
    let hook = stage::send_now_hook();
    let job = SendJob { config, ledger_path, draft_id: decision.draft.clone(), actor: actor.to_string() };
    let delivery = stage::deliver(policy, hook.as_ref(), job).await;
    if let Some(d) = ctx.ledger()?.draft(&decision.draft)? {
        decision.state = d.state;
    }
    decision.delivery = Some(delivery.as_str().to_string());
    decision.note = Some(delivery.note().to_string());
    Ok(decision)
}

async fn approve(args: ApproveArgs, ctx: &mut Ctx, actor: &str) -> Result<Outcome> {
    let mut out = RecordWriter::stdout(true);
    for id in &args.ids {
        match approve_and_deliver(ctx, id, actor, args.queue).await {
            Ok(d) => {
                if d.delivery.as_deref() == Some("send_failed") {
                    ctx.error(format!("{id}: approved, but sending failed: {}", d.note.as_deref().unwrap_or("")));
                }
                emit(&mut out, &d)?;
            }
            Err(e) => ctx.error(format!("{id}: {e:#}")),
        }
    }
    Ok(ctx.outcome())
}

fn edit(args: EditArgs, ctx: &mut Ctx, actor: &str) -> Result<Outcome> {
    let current = queue::resolve(ctx.ledger()?, &args.id)?;
    let body = match &args.body_file {
        Some(p) if p.as_os_str() == "-" => {
            std::io::read_to_string(std::io::stdin()).context("reading the new reply from stdin")?
        }
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        None => editor::edit_text(&current.body, &current.id)?,
    };
    let mut out = RecordWriter::stdout(true);
    match actions::edit(ctx.ledger()?, &current.id, args.subject.as_deref(), &body, actor)? {
        Some(d) => emit(&mut out, &d)?,
        None => ctx.info(format!("{}: unchanged, nothing recorded", current.id)),
    }
    Ok(Outcome::Success)
}

fn link(args: LinkArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let config: Config = ctx.config()?.clone();
    let ttl = args.ttl.unwrap_or(config.review.link_ttl_hours);
    let ledger = ctx.ledger()?;
    let signer = LinkSigner::from_ledger(ledger)?;
    let base = &config.team.review_url;
    if args.listing {
        println!("{}", signer.listing_url(base, ttl, unix_now()));
    }
    let mut failed = Vec::new();
    for id in &args.ids {
        // A message id is what links carry; a draft id is accepted for convenience.
        let message = if ledger.has_message(id)? {
            id.clone()
        } else {
            match ledger.draft(id)? {
                Some(d) => d.message,
                None => {
                    failed.push(id.clone());
                    continue;
                }
            }
        };
        println!("{}", signer.message_url(base, &message, ttl, unix_now()));
    }
    for id in failed {
        ctx.error(format!("{id}: no message or draft with this id"));
    }
    Ok(ctx.outcome())
}
