//! `mailroom filter`: drop spam, blank, test, auto-reply, bounce and bulk mail.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::Ctx;
use super::stream::{Emit, run_stage_batched};
use crate::config::{self, Config};
use crate::error::{Outcome, UsageError};
use crate::jsonl::RecordWriter;
use crate::record::Verdict;
use crate::stages::filter::history::{self, Correction};
use crate::stages::filter::{FilterContext, embedded_model, filter_record, load_model, model_path, train};

/// Give each record a verdict (pass, spam, blank, test, autoreply, bounce, bulk, duplicate)
/// with reasons. Passing records go to stdout; the rest are kept in the ledger, where they
/// can be rescued.
///
/// Every verdict is stored in the ledger as a versioned filter result, so `mailroom digest`
/// can count them and `mailroom export --verdict spam` can list them. A rescue puts a
/// wrongly dropped message back into the pipeline and teaches the spam model; `--train`
/// retrains the model from those corrections.
///
/// Examples:
///   mailroom fetch --mbox examples/sample.mbox | mailroom filter | mailroom classify
///   mailroom filter --all records.jsonl | jq -r '[.filter.verdict, .subject] | @tsv'
///   mailroom export --verdict spam | jq -r '[.id, .subject] | @tsv'
///   mailroom filter --rescue m3f2a9c0d1e2b3a4c5d6e7f8 | mailroom classify | mailroom draft
///   mailroom filter --train
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct FilterArgs {
    /// JSONL files to read [default: stdin]
    pub inputs: Vec<PathBuf>,
    /// Emit every record with its verdict, not only the passing ones
    #[arg(long)]
    pub all: bool,
    /// Also write the rejected records to FILE (JSONL, with their verdicts)
    #[arg(long, value_name = "FILE")]
    pub rejected: Option<PathBuf>,
    /// Put a wrongly dropped message back into the pipeline: it is printed with verdict `pass`
    /// and recorded as "not spam" for training; repeatable. Example: --rescue m3f2a9c0d1e2b3a4c5d6e7f8
    #[arg(long, value_name = "ID", conflicts_with_all = ["inputs", "all", "train"])]
    pub rescue: Vec<String>,
    /// Confirm the current verdict of a message (spam or pass) as a training label; repeatable
    #[arg(long, value_name = "ID", conflicts_with_all = ["inputs", "all", "train"])]
    pub confirm: Vec<String>,
    /// Mark a message that got through as spam (a training label); repeatable
    #[arg(long, value_name = "ID", conflicts_with_all = ["inputs", "all", "train"])]
    pub mark_spam: Vec<String>,
    /// Retrain the spam model from the embedded base and the labels in the ledger (rescues,
    /// confirmations, spam marks) and write it to `[filter] model_path` [default:
    /// spam-model.bin next to the ledger, $XDG_DATA_HOME/mailroom/], where filter then loads it
    #[arg(long, conflicts_with_all = ["inputs", "all", "rejected"])]
    pub train: bool,
}

pub async fn run(args: FilterArgs, ctx: &mut Ctx) -> Result<Outcome> {
    if args.train {
        return train_model(ctx);
    }
    if !args.rescue.is_empty() || !args.confirm.is_empty() || !args.mark_spam.is_empty() {
        return corrections(&args, ctx);
    }
    filter_records(args, ctx)
}

fn filter_records(args: FilterArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let config = ctx.config()?.clone();
    let (model, model_name) = load_model(&config, &ctx.ledger_path())?;
    let model_name = model_name.as_str();
    let fctx = FilterContext::new(&config, &model);
    ctx.ledger()?;
    let run_id = ctx.run_id();
    let mut rejected = match &args.rejected {
        Some(path) => Some(RecordWriter::to_writer(
            Box::new(BufWriter::new(
                File::create(path).map_err(|e| UsageError(format!("--rejected {}: {e}", path.display())))?,
            )),
            false,
        )),
        None => None,
    };
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut rebuilt = 0u64;
    run_stage_batched(
        ctx,
        &args.inputs,
        |ctx, mut record| {
            let judged = filter_record(ctx.ledger()?, &record, &fctx, model_name, run_id)?;
            rebuilt += u64::from(judged.rebuilt);
            *counts.entry(judged.result.verdict.as_str()).or_default() += 1;
            record.filter = Some(judged.result);
            Ok(record)
        },
        // After the verdicts are committed: the rejected file too only names stored verdicts.
        |record| {
            let pass = record.filter.as_ref().is_some_and(|f| f.verdict == Verdict::Pass);
            if !pass {
                if let Some(w) = rejected.as_mut() {
                    w.write(&record).context("writing the --rejected file")?;
                }
            }
            Ok(if pass || args.all { Emit::Records(vec![record]) } else { Emit::Nothing })
        },
    )?;
    if let Some(mut w) = rejected {
        w.flush().context("writing the rejected records")?;
    }
    if rebuilt > 0 {
        ctx.warn(format!(
            "{rebuilt} record(s) were not in the ledger: stored from the record itself and judged without their headers \
             (import mail with `mailroom fetch` to keep the original)"
        ));
    }
    for v in Verdict::ALL {
        ctx.count(v.as_str(), counts.get(v.as_str()).copied().unwrap_or(0));
    }
    let dropped: u64 = counts.iter().filter(|(k, _)| **k != "pass").map(|(_, n)| n).sum();
    if dropped > 0 {
        let summary: Vec<String> = counts.iter().filter(|(k, _)| **k != "pass").map(|(k, n)| format!("{n} {k}")).collect();
        ctx.info(format!(
            "kept back {dropped} ({}); `mailroom export --verdict VERDICT` lists them, `--rescue ID` brings one back",
            summary.join(", ")
        ));
    }
    Ok(ctx.outcome())
}

fn corrections(args: &FilterArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let actor = config::current_user();
    ctx.ledger()?;
    let run_id = ctx.run_id();
    let mut writer = RecordWriter::stdout(false);
    let jobs = args
        .rescue
        .iter()
        .map(|id| (id, Correction::Rescue))
        .chain(args.confirm.iter().map(|id| (id, Correction::Confirm)))
        .chain(args.mark_spam.iter().map(|id| (id, Correction::MarkSpam)));
    let mut done = 0u64;
    for (id, how) in jobs {
        let ledger = ctx.ledger()?;
        match history::correct(ledger, id, how, &actor, run_id) {
            Ok(c) => {
                done += 1;
                let was = c.previous.map(Verdict::as_str).unwrap_or("unfiltered");
                let label = c.label.map(|l| format!("; training label: {l}")).unwrap_or_default();
                ctx.info(format!("{id}: {} (was {was}){label}", c.record.filter.as_ref().map(|f| f.verdict.as_str()).unwrap_or("")));
                if how == Correction::Rescue && c.previous == Some(Verdict::Pass) {
                    ctx.warn(format!("{id} had already passed; it is printed again"));
                }
                // A rescued message goes back into the pipeline on stdout.
                if how == Correction::Rescue {
                    if let Err(e) = writer.write(&c.record) {
                        if e.kind() == std::io::ErrorKind::BrokenPipe {
                            break;
                        }
                        return Err(e.into());
                    }
                }
            }
            Err(e) => ctx.error(format!("{id}: {e:#}")),
        }
    }
    match writer.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    ctx.count("corrected", done);
    if done > 0 {
        ctx.info("run `mailroom filter --train` to teach the spam model these decisions");
    }
    Ok(ctx.outcome())
}

fn train_model(ctx: &mut Ctx) -> Result<Outcome> {
    let ledger_path = ctx.ledger_path();
    let (config, ledger) = ctx.config_and_ledger()?;
    let path = model_path(config, &ledger_path);
    let base = embedded_model()?;
    let (model, spam, ham) = train::retrain(&base, ledger)?;
    if spam + ham == 0 {
        ctx.info("no spam labels in the ledger yet (rescue, confirm or mark messages first); nothing written");
        return Ok(Outcome::Success);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Write beside and rename, so a filter running now never reads half a model.
    let tmp = path.with_extension("bin.tmp");
    std::fs::write(&tmp, model.to_bytes()).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))?;
    ctx.count("spam_labels", spam as u64);
    ctx.count("ham_labels", ham as u64);
    ctx.info(format!(
        "retrained the spam model with {spam} spam and {ham} not-spam label(s) on top of the base corpus; wrote {}",
        path.display()
    ));
    Ok(Outcome::Success)
}

/// `--data`, or `MAILROOM_SHARED_DATA`, or the first `shared/data` beside the current folder
/// or one of its parents.
fn shared_data(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(p) = given.or_else(|| std::env::var_os("MAILROOM_SHARED_DATA").map(PathBuf::from)) {
        return Ok(p);
    }
    let cwd = std::env::current_dir()?;
    cwd.ancestors()
        .map(|d| d.join("shared").join("data"))
        .find(|d| d.is_dir())
        .ok_or_else(|| UsageError("no shared/data folder found here or above; pass --data DIR".into()).into())
}

/// Hidden `mailroom generate spam-model`: trains the embedded base model.
#[derive(Debug, Args)]
pub struct SpamModelArgs {
    /// The shared development data folder (with spam-ham/ and intents/) [default: the
    /// first shared/data found here or above]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Where to write the model
    #[arg(long, value_name = "FILE", default_value = "src/stages/filter/spam_model.bin")]
    pub out: PathBuf,
}

pub fn generate_spam_model(args: SpamModelArgs) -> Result<()> {
    let model = train::train_base(&shared_data(args.data)?)?;
    let bytes = model.to_bytes();
    std::fs::write(&args.out, &bytes).with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "mailroom generate: wrote {} ({} tokens, {} bytes; documents: {} spam, {} general ham, {} customer ham)",
        args.out.display(),
        model.tokens.len(),
        bytes.len(),
        model.docs[0],
        model.docs[1],
        model.docs[2]
    );
    Ok(())
}

/// Hidden `mailroom generate filter-eval`: the acceptance figures on held-out data.
#[derive(Debug, Args)]
pub struct FilterEvalArgs {
    /// The shared development data folder (with spam-ham/, intents/ and bounces/) [default:
    /// the first shared/data found here or above]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Print the evaluation as JSON (with every wrongly judged file)
    #[arg(long)]
    pub json: bool,
    /// List the wrongly judged files
    #[arg(long)]
    pub show_errors: bool,
    /// Evaluate with this spam threshold instead of the default
    #[arg(long, value_name = "P")]
    pub threshold: Option<f64>,
}

pub fn filter_eval(args: FilterEvalArgs) -> Result<Outcome> {
    let mut config = Config::default();
    if let Some(t) = args.threshold {
        config.filter.spam_threshold = t;
    }
    let model = embedded_model()?;
    let ctx = FilterContext::new(&config, &model);
    let started = std::time::Instant::now();
    let eval = train::evaluate(&shared_data(args.data)?, &ctx)?;
    let secs = started.elapsed().as_secs_f64();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&eval)?);
        return Ok(Outcome::Success);
    }
    let pct = |x: f64| format!("{:.2}%", x * 100.0);
    let line = |name: &str, s: &train::SetScore| {
        let v: Vec<String> = s.verdicts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!("{name:<28} {:>6}  {}", s.total, v.join(", "));
    };
    line("held-out ham", &eval.ham);
    line("held-out spam", &eval.spam);
    line("bounces (sisimai)", &eval.bounces);
    line("held-out customer texts", &eval.customer);
    println!();
    println!("ham called spam:            {} (goal <= 0.50%)", pct(eval.ham.rate(&[Verdict::Spam])));
    println!("spam caught (spam or bulk): {} (goal >= 90%)", pct(eval.spam.rate(&[Verdict::Spam, Verdict::Bulk])));
    println!("spam called spam:           {}", pct(eval.spam.rate(&[Verdict::Spam])));
    println!("bounces caught:             {} (goal 100%)", pct(eval.bounces.rate(&[Verdict::Bounce, Verdict::Autoreply])));
    println!("customer texts called spam: {} (goal ~0)", pct(eval.customer.rate(&[Verdict::Spam])));
    println!("customer texts not passed:  {}", pct(1.0 - eval.customer.rate(&[Verdict::Pass])));
    println!();
    println!("spam-model scores at or above a threshold (of the messages the model judged):");
    println!("{:<28} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}", "threshold", "0.9", "0.95", "0.98", "0.99", "0.995", "0.999");
    for (name, s) in [("held-out ham", &eval.ham), ("held-out spam", &eval.spam), ("held-out customer texts", &eval.customer)] {
        let c: Vec<String> = [0.9, 0.95, 0.98, 0.99, 0.995, 0.999].iter().map(|t| format!("{:>7}", s.scored_at_least(*t))).collect();
        println!("{:<28} {} (of {})", name, c.join(" "), s.scores.len());
    }
    let n = eval.ham.total + eval.spam.total + eval.bounces.total + eval.customer.total;
    println!("{n} messages in {secs:.1} s ({:.2} ms per message, parsing included)", secs * 1000.0 / n.max(1) as f64);
    if args.show_errors {
        for (name, s) in [("ham", &eval.ham), ("spam", &eval.spam), ("bounces", &eval.bounces), ("customer", &eval.customer)] {
            for w in &s.wrong {
                println!("wrong {name}: {w}");
            }
        }
    }
    Ok(Outcome::Success)
}
