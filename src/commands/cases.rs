//! `mailroom cases`: threads with an owner, a waiting state and a next step.

use std::io::IsTerminal;

use anyhow::Result;
use chrono::Utc;
use clap::{Args, Subcommand};

use super::Ctx;
use crate::config::current_user;
use crate::error::{ConfigError, Outcome, UsageError};
use crate::jsonl::RecordWriter;
use crate::stages::cases::story::{self, CaseDetail, CaseSummary, Filter};
use crate::stages::cases::timeouts::{self, OnTimeout, Sla, SweepSettings};
use crate::stages::cases::{self, CaseState, Change};
use crate::stages::review::actions::clean_actor;
use crate::stages::review::queue::age_label;

const AFTER_HELP: &str = "\
A case is a conversation with one customer: the messages of a thread (In-Reply-To and
References, else the same sender and subject within [cases] thread_window_days), our replies,
and replies a person wrote from their own mail client (read from the Sent folder).

States: new → waiting_internal | waiting_customer | waiting_partner → resolved | cancelled.
Sending a reply that asks for missing information makes a case wait for the customer; the
customer's answer moves it back to us, and the next draft knows what the answer said.

Examples:
  mailroom cases                                    # open cases, most recently active first
  mailroom cases --state waiting_customer --json | jq -r .id
  mailroom cases show c1a2b3c4d5                    # the full story, in order
  mailroom cases show c1a2 --json | jq '.story[].text'
  mailroom review assign c1a2b3c4d5 maria           # give it an owner
  mailroom cases set c1a2b3c4d5 waiting_partner --waiting-for 'carrier claim'
  mailroom cases sweep                              # remind (or close) silent customers
  mailroom export --case c1a2b3c4d5 | jq .text_new";

/// List service cases, show one case's full story, apply waiting timeouts, or set a state.
///
/// Without a subcommand, lists the open cases (a table on a terminal, JSON lines otherwise).
#[derive(Debug, Args)]
#[command(after_long_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
pub struct CasesArgs {
    #[command(flatten)]
    pub list: ListArgs,
    #[command(subcommand)]
    pub action: Option<CasesAction>,
}

#[derive(Debug, Subcommand)]
pub enum CasesAction {
    /// List cases (the default): open ones, most recently active first
    List(ListArgs),
    /// Show one case: customer, state, owner, what it waits for, and its full story in order
    Show(ShowArgs),
    /// Apply the waiting timeout: follow up on (or close) cases the customer left waiting
    /// longer than [cases] waiting_customer_days; for a timer
    Sweep(SweepArgs),
    /// Set a case's state by hand (waiting on a partner, resolved, cancelled, …)
    Set(SetArgs),
}

#[derive(Debug, Args, Default)]
pub struct ListArgs {
    /// Cases in this state (repeatable): new, waiting_internal, waiting_customer,
    /// waiting_partner, resolved, cancelled [default: the open ones]
    #[arg(long, value_name = "STATE")]
    pub state: Vec<String>,
    /// Cases in every state, closed ones included
    #[arg(long, conflicts_with = "state")]
    pub all: bool,
    /// Only cases owned by NAME
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
    /// Only cases waiting on us longer than their SLA
    #[arg(long)]
    pub over_sla: bool,
    /// JSON lines instead of a table (the default when stdout is not a terminal)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Case id (or a unique prefix of at least 4 characters), or a message or draft id of the case
    pub id: String,
    /// The case as one JSON object (the default when stdout is not a terminal)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Say what would happen, change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Case id (or a unique prefix), or a message or draft id of the case
    pub id: String,
    /// The new state: new, waiting_internal, waiting_customer, waiting_partner, resolved, cancelled
    pub state: String,
    /// What the case waits for (repeatable), e.g. --waiting-for 'carrier claim'
    #[arg(long, value_name = "TEXT")]
    pub waiting_for: Vec<String>,
    /// The next step, e.g. --next-step 'call the carrier on Monday'
    #[arg(long, value_name = "TEXT")]
    pub next_step: Option<String>,
    /// Why (kept in the case's story)
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Name recorded for the change [default: $MAILROOM_USER or $USER]
    #[arg(long = "as", value_name = "NAME")]
    pub actor: Option<String>,
}

pub async fn run(args: CasesArgs, ctx: &mut Ctx) -> Result<Outcome> {
    match args.action {
        None => list(args.list, ctx),
        Some(CasesAction::List(a)) => list(a, ctx),
        Some(CasesAction::Show(a)) => show(a, ctx),
        Some(CasesAction::Sweep(a)) => sweep(a, ctx),
        Some(CasesAction::Set(a)) => set(a, ctx),
    }
}

fn parse_state(s: &str, flag: &str) -> Result<CaseState> {
    CaseState::parse(s).ok_or_else(|| {
        let known: Vec<&str> = CaseState::ALL.iter().map(|s| s.as_str()).collect();
        UsageError(format!("{flag} {s}: expected one of {}", known.join(", "))).into()
    })
}

fn sla(ctx: &mut Ctx) -> Result<Sla> {
    Ok(Sla::from_config(&ctx.config()?.cases))
}

fn list(args: ListArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let states = args.state.iter().map(|s| parse_state(s, "--state")).collect::<Result<Vec<_>>>()?;
    let filter = Filter { states, all: args.all, owner: args.owner.clone() };
    let sla = sla(ctx)?;
    let mut cases = story::list(ctx.ledger()?.conn(), &filter, &sla, Utc::now())?;
    if args.over_sla {
        cases.retain(|c| c.over_sla);
    }
    if args.json || !std::io::stdout().is_terminal() {
        let mut out = RecordWriter::stdout(false);
        for c in &cases {
            out.write_value(c)?;
        }
        out.flush()?;
        return Ok(Outcome::Success);
    }
    if cases.is_empty() {
        ctx.info(if args.all { "no cases yet" } else { "no open cases" });
        return Ok(Outcome::Success);
    }
    let mut table = crate::output::table(vec![
        "case",
        "state",
        "waiting",
        "prio",
        "category",
        "owner",
        "customer",
        "subject",
        "next step",
    ]);
    for c in &cases {
        table.add_row(row(c));
    }
    println!("{table}");
    Ok(Outcome::Success)
}

fn row(c: &CaseSummary) -> Vec<String> {
    let waiting = c.waiting_since.as_deref().map(age_label).unwrap_or_default();
    vec![
        c.id.clone(),
        c.state.as_str().replace('_', " "),
        if c.over_sla { format!("{waiting} (over SLA)") } else { waiting },
        c.priority.clone().unwrap_or_default(),
        c.category.clone().unwrap_or_default(),
        c.owner.clone().unwrap_or_default(),
        clean(&c.customer.address),
        clean(&c.subject),
        clean(c.next_step.as_deref().unwrap_or("")),
    ]
}

/// Text from mail, safe for a terminal: control characters removed.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn show(args: ShowArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let sla = sla(ctx)?;
    let conn = ctx.ledger()?.conn();
    let case = cases::resolve(conn, &args.id)?;
    let detail = story::show(conn, &case, &sla, Utc::now())?;
    if args.json || !std::io::stdout().is_terminal() {
        let mut out = RecordWriter::stdout(false);
        out.write_value(&detail)?;
        out.flush()?;
    } else {
        print!("{}", render(&detail));
    }
    Ok(Outcome::Success)
}

/// The case as text for a terminal.
fn render(d: &CaseDetail) -> String {
    let c = &d.summary;
    let customer = match c.customer.name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(n) => format!("{} <{}>", clean(n), clean(&c.customer.address)),
        None => clean(&c.customer.address),
    };
    let mut out = format!("Case {}: {}\n", c.id, clean(&c.subject));
    let mut field = |k: &str, v: String| {
        if !v.is_empty() {
            out.push_str(&format!("  {k:<12} {v}\n"));
        }
    };
    field("customer", customer);
    let since = c.waiting_since.as_deref().map(|s| format!(" since {s} ({})", age_label(s))).unwrap_or_default();
    field("state", format!("{}{since}{}", c.state.as_str(), if c.over_sla { ", over its SLA" } else { "" }));
    field("waiting for", cases::state::labels(&c.waiting_for));
    field("next step", clean(c.next_step.as_deref().unwrap_or("")));
    field("owner", c.owner.clone().unwrap_or_else(|| "nobody (mailroom review assign ID NAME)".into()));
    field("category", c.category.clone().unwrap_or_default());
    field("priority", c.priority.clone().unwrap_or_default());
    out.push_str("\nStory:\n");
    for line in &d.story {
        let who = line.actor.as_deref().map(|a| format!(" [{}]", clean(a))).unwrap_or_default();
        out.push_str(&format!("  {}{who} {}\n", line.at, clean(&line.text)));
    }
    out
}

fn sweep(args: SweepArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let config = ctx.config()?.clone();
    let on_timeout = OnTimeout::parse(&config.cases.on_timeout).ok_or_else(|| {
        ConfigError::with_hint(
            format!("[cases] on_timeout = \"{}\" is not known", config.cases.on_timeout),
            "use \"follow_up\" or \"close\"",
        )
    })?;
    let settings = SweepSettings {
        waiting_customer_days: config.cases.waiting_customer_days,
        on_timeout,
        sign_off: config.team.sign_off.clone(),
    };
    let run_id = ctx.run_id();
    let actions = timeouts::sweep(ctx.ledger()?, &settings, Utc::now(), args.dry_run, run_id)?;
    let mut out = RecordWriter::stdout(false);
    for a in &actions {
        out.write_value(a)?;
    }
    out.flush()?;
    let follow_ups = actions.iter().filter(|a| a.action == "follow_up").count() as u64;
    ctx.count("follow_ups", follow_ups);
    ctx.count("closed", actions.len() as u64 - follow_ups);
    let verb = if args.dry_run { "would write" } else { "wrote" };
    ctx.info(format!(
        "{verb} {follow_ups} follow-up drafts, {} {} closed",
        actions.len() as u64 - follow_ups,
        if args.dry_run { "cases would be" } else { "cases" }
    ));
    Ok(Outcome::Success)
}

fn set(args: SetArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let state = parse_state(&args.state, "STATE")?;
    let actor = match &args.actor {
        Some(a) => clean_actor(a).ok_or_else(|| UsageError("--as needs a name".into()))?,
        None => clean_actor(&current_user()).unwrap_or_else(|| "unknown".into()),
    };
    let run_id = ctx.run_id();
    let ledger = ctx.ledger()?;
    let case = cases::resolve(ledger.conn(), &args.id)?;
    let reason = match &args.note {
        Some(n) => format!("set by {actor}: {n}"),
        None => format!("set by {actor}"),
    };
    let mut change = Change::new(state, "manual", reason).actor(actor).waiting_for(args.waiting_for.clone());
    change.next_step = args.next_step.clone();
    let previous = ledger.write(|tx| cases::state::apply(tx, &case, &change, run_id))?;
    let mut out = RecordWriter::stdout(false);
    out.write_value(&serde_json::json!({"case": case, "state": state, "previous": previous}))?;
    out.flush()?;
    Ok(Outcome::Success)
}
