//! Hidden `mailroom generate`: man pages and shell completions from the clap definitions.
//! `scripts/gen-docs` runs it; a test fails when the committed copies are stale.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::error::Outcome;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    pub what: Generate,
}

#[derive(Debug, Subcommand)]
pub enum Generate {
    /// One man page per command (mailroom.1, mailroom-fetch.1, …)
    Man {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// bash, zsh and fish completions
    Completions {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Train the embedded spam model on the training split of shared/data
    SpamModel(super::filter::SpamModelArgs),
    /// Print the filter's figures on the held-out split of shared/data
    FilterEval(super::filter::FilterEvalArgs),
    /// Train the embedded classifier (intents train split + seed set); prints held-out scores
    ClassifyModel {
        /// The intents corpus folder (shared/data/intents)
        #[arg(long, value_name = "DIR")]
        intents: PathBuf,
        #[arg(long, value_name = "FILE", default_value = "src/stages/classify/default-model.bin")]
        out: PathBuf,
    },
    /// Score the classifier on the intents held-out split (per-category precision, recall, F1)
    ClassifyEval {
        #[arg(long, value_name = "DIR")]
        intents: PathBuf,
        /// A model file instead of the embedded one
        #[arg(long, value_name = "FILE")]
        model: Option<PathBuf>,
    },
}

pub fn run(args: GenerateArgs, cmd: clap::Command) -> Result<Outcome> {
    match args.what {
        Generate::Man { dir } => man_pages(cmd, &dir)?,
        Generate::Completions { dir } => completions(cmd, &dir)?,
        Generate::SpamModel(a) => super::filter::generate_spam_model(a)?,
        Generate::FilterEval(a) => return super::filter::filter_eval(a),
        Generate::ClassifyModel { intents, out } => super::classify::generate_model(&intents, &out)?,
        Generate::ClassifyEval { intents, model } => super::classify::generate_eval(&intents, model.as_deref())?,
    }
    Ok(Outcome::Success)
}

pub fn man_pages(cmd: clap::Command, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(cmd, dir).with_context(|| format!("writing man pages to {}", dir.display()))?;
    // Hidden commands get no page of their own.
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("mailroom-generate")) {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
}

pub fn completions(mut cmd: clap::Command, dir: &Path) -> Result<()> {
    use clap_complete::Shell;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (shell, file) in [(Shell::Bash, "mailroom.bash"), (Shell::Zsh, "_mailroom"), (Shell::Fish, "mailroom.fish")] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, "mailroom", &mut buf);
        std::fs::write(dir.join(file), buf).with_context(|| format!("writing {file}"))?;
    }
    Ok(())
}
