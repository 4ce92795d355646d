//! Commands: the edge between the terminal and the stages.
//!
//! Each file holds one command's clap `Args` (whose doc comments are its `--help` and man
//! page) and a `run` function. `Ctx` carries what every command shares: resolved global
//! flags, the config and ledger (opened on first use), the run row and the error flag.

pub mod cases;
pub mod classify;
pub mod deliver;
pub mod digest;
pub mod draft;
pub mod export;
pub mod fetch;
pub mod filter;
pub mod generate;
pub mod heartbeat;
pub mod init;
pub mod ledger;
pub mod notify;
pub mod review;
pub mod run;
pub mod send;
pub mod stream;

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Map, Value};

use crate::cli::{Cli, GlobalArgs};
use crate::config::{self, Config};
use crate::error::Outcome;
use crate::ledger::Ledger;

#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(about = "New messages from IMAP or from mbox / Maildir / .eml files, stored once")]
    Fetch(fetch::FetchArgs),
    #[command(about = "Drop spam, blank, test, auto-reply, bounce and bulk mail; pass customers")]
    Filter(filter::FilterArgs),
    #[command(about = "Category, priority, sentiment, language and escalation for each record")]
    Classify(classify::ClassifyArgs),
    #[command(about = "English reply drafts with a missing-information checklist and a risk level")]
    Draft(draft::DraftArgs),
    #[command(about = "Post each record to the team's group chat with a review link")]
    Notify(notify::NotifyArgs),
    #[command(about = "Approve, edit, reject or mark drafts handled (terminal, scripts or web page)")]
    Review(review::ReviewArgs),
    #[command(about = "Send approved drafts over SMTP, threaded, exactly once")]
    Send(send::SendArgs),
    #[command(about = "The manager's summary of a day or any window")]
    Digest(digest::DigestArgs),
    #[command(about = "Alert when the chain goes quiet or keeps failing; exit 1 while alerting")]
    Heartbeat(heartbeat::HeartbeatArgs),
    #[command(about = "Messages from the ledger as records, for reclassification and jq")]
    Export(export::ExportArgs),
    #[command(about = "fetch → filter → classify → draft → notify in one process (for one timer)")]
    Run(run::RunArgs),
    #[command(about = "Service cases: threads with an owner, a waiting state and a next step")]
    Cases(cases::CasesArgs),
    #[command(about = "Write a commented starter config and create the ledger")]
    Init(init::InitArgs),
    Ledger(ledger::LedgerArgs),
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Fetch(_) => "fetch",
            Command::Filter(_) => "filter",
            Command::Classify(_) => "classify",
            Command::Draft(_) => "draft",
            Command::Notify(_) => "notify",
            Command::Review(_) => "review",
            Command::Send(_) => "send",
            Command::Digest(_) => "digest",
            Command::Heartbeat(_) => "heartbeat",
            Command::Export(_) => "export",
            Command::Run(_) => "run",
            Command::Cases(_) => "cases",
            Command::Init(_) => "init",
            Command::Ledger(_) => "ledger",
            Command::Generate(_) => "generate",
        }
    }
}

/// Shared state of one command run.
pub struct Ctx {
    pub command: &'static str,
    pub global: GlobalArgs,
    config: Option<Config>,
    ledger: Option<Ledger>,
    run_id: Option<i64>,
    args_json: Value,
    /// Set when anything failed along the way; the exit code is 1 at the end.
    errored: bool,
    pub counts: Map<String, Value>,
}

impl Ctx {
    pub fn new(command: &'static str, global: GlobalArgs, args_json: Value) -> Ctx {
        Ctx { command, global, config: None, ledger: None, run_id: None, args_json, errored: false, counts: Map::new() }
    }

    /// The config, loaded on first use.
    pub fn config(&mut self) -> Result<&Config> {
        if self.config.is_none() {
            self.config = Some(Config::load(self.global.config.as_deref())?);
        }
        Ok(self.config.as_ref().expect("config loaded above"))
    }

    pub fn ledger_path(&self) -> PathBuf {
        self.global.ledger.clone().unwrap_or_else(config::default_ledger_path)
    }

    /// The ledger, opened (and this run recorded) on first use.
    pub fn ledger(&mut self) -> Result<&mut Ledger> {
        if self.ledger.is_none() {
            let ledger = Ledger::open(&self.ledger_path())?;
            self.run_id = Some(ledger.start_run(self.command, &self.args_json)?);
            self.ledger = Some(ledger);
        }
        Ok(self.ledger.as_mut().expect("ledger opened above"))
    }

    /// Config and ledger together (a stage often needs both at once).
    pub fn config_and_ledger(&mut self) -> Result<(&Config, &mut Ledger)> {
        self.config()?;
        self.ledger()?;
        Ok((self.config.as_ref().expect("loaded"), self.ledger.as_mut().expect("opened")))
    }

    pub fn run_id(&self) -> Option<i64> {
        self.run_id
    }

    /// A diagnostic on stderr with the command prefix; marks the run as failed.
    pub fn error(&mut self, message: impl std::fmt::Display) {
        self.errored = true;
        eprintln!("mailroom {}: {message}", self.command);
    }

    /// A warning on stderr (not a failure), unless `--quiet`.
    pub fn warn(&self, message: impl std::fmt::Display) {
        if !self.global.quiet {
            eprintln!("mailroom {}: warning: {message}", self.command);
        }
    }

    /// Information for a human on stderr, unless `--quiet`.
    pub fn info(&self, message: impl std::fmt::Display) {
        if !self.global.quiet {
            eprintln!("mailroom {}: {message}", self.command);
        }
    }

    pub fn mark_failed(&mut self) {
        self.errored = true;
    }

    pub fn failed(&self) -> bool {
        self.errored
    }

    pub fn count(&mut self, key: &str, n: u64) {
        self.counts.insert(key.to_string(), Value::from(n));
    }

    pub fn progress(&self) -> crate::output::Progress {
        crate::output::Progress::new(self.global.quiet, self.global.verbose)
    }

    /// Records the end of the run in the ledger (when it was opened).
    fn finish(&mut self, result: &Result<Outcome>) {
        let (Some(ledger), Some(run_id)) = (self.ledger.as_ref(), self.run_id) else { return };
        let (status, error) = match result {
            Ok(Outcome::Success) if !self.errored => ("ok", None),
            Ok(_) => ("partial", None),
            Err(e) if crate::error::is_broken_pipe(e) => ("ok", None),
            Err(e) => ("error", Some(format!("{e:#}"))),
        };
        let counts = Value::Object(self.counts.clone());
        if let Err(e) = ledger.finish_run(run_id, status, &counts, error.as_deref()) {
            tracing::warn!("could not record the end of run {run_id}: {e:#}");
        }
    }

    /// The outcome from the error flag.
    pub fn outcome(&self) -> Outcome {
        Outcome::from_failed(self.errored)
    }
}

/// Runs the parsed command line.
pub async fn dispatch(cli: Cli) -> Result<Outcome> {
    let name = cli.command.name();
    // args_os: a file name that is not UTF-8 is a valid argument (env::args panics on it).
    let args: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    let args_json = Value::String(args.join(" "));
    let mut ctx = Ctx::new(name, cli.global, redact_args(args_json));
    let result = match cli.command {
        Command::Fetch(a) => fetch::run(a, &mut ctx).await,
        Command::Filter(a) => filter::run(a, &mut ctx).await,
        Command::Classify(a) => classify::run(a, &mut ctx).await,
        Command::Draft(a) => draft::run(a, &mut ctx).await,
        Command::Notify(a) => notify::run(a, &mut ctx).await,
        Command::Review(a) => review::run(a, &mut ctx).await,
        Command::Send(a) => send::run(a, &mut ctx).await,
        Command::Digest(a) => digest::run(a, &mut ctx).await,
        Command::Heartbeat(a) => heartbeat::run(a, &mut ctx).await,
        Command::Export(a) => export::run(a, &mut ctx).await,
        Command::Run(a) => run::run(a, &mut ctx).await,
        Command::Cases(a) => cases::run(a, &mut ctx).await,
        Command::Init(a) => init::run(a, &mut ctx).await,
        Command::Ledger(a) => ledger::run(a, &mut ctx).await,
        Command::Generate(a) => generate::run(a, <Cli as clap::CommandFactory>::command()),
    };
    let result = result.map(|o| if ctx.failed() { Outcome::PartialFailure } else { o });
    ctx.finish(&result);
    result
}

/// Command lines are stored in `runs`; nothing secret is passed as a flag, but be safe
/// with anything that looks like `--password=…` or a token in a URL.
fn redact_args(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(
            s.split(' ')
                .map(|w| {
                    let lw = w.to_ascii_lowercase();
                    if lw.contains("password") || lw.contains("token") || lw.contains("key=") || w.contains("://") && w.contains('@') {
                        "[redacted]"
                    } else {
                        w
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        other => other,
    }
}
