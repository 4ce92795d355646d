//! Training and evaluating the spam model.
//!
//! The embedded base model is trained from the development corpora with a fixed split: a
//! file (or an utterance) whose SHA-256 name hash starts with a byte divisible by 4 is held
//! out, never trained on, and used for the figures `scripts/eval-filter.sh` prints.
//! `mailroom filter --train` adds the team's own labels (rescues, confirmations, spam marks)
//! on top of the base counts; a team's label weighs more than a corpus message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::json;

use super::bayes::{SpamModel, Source};
use super::history::{self, HAM, SPAM};
use super::{FilterContext, tokens, verdict};
use crate::ledger::Ledger;
use crate::mail::import::read_file;
use crate::mail::parse::{DEFAULT_MAX_PARSE_BYTES, Headers, parse_message};
use crate::record::{FilterResult, Record, Verdict};

/// Tokens seen in fewer documents than this are dropped from the shipped model.
const MIN_TOKEN_DOCS: u32 = 3;
/// Customer utterances joined into one training message.
const UTTERANCES_PER_MESSAGE: usize = 4;
/// One label of the team's counts as this many corpus messages.
pub const LABEL_WEIGHT: u32 = 5;

/// The fixed held-out split.
pub fn held_out(name: &str) -> bool {
    use sha2::{Digest, Sha256};
    Sha256::digest(name.as_bytes())[0] % 4 == 0
}

/// The development corpora under `shared/data`.
pub struct Corpus {
    pub spam: Vec<PathBuf>,
    pub ham: Vec<PathBuf>,
    /// Customer-service utterances (Bitext), one per row.
    pub utterances: Vec<String>,
}

fn eml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    Ok(files)
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

impl Corpus {
    pub fn load(data: &Path) -> Result<Corpus> {
        let sh = data.join("spam-ham");
        let spam = eml_files(&sh.join("spam-1"))?;
        let mut ham = eml_files(&sh.join("easy-ham-1"))?;
        ham.extend(eml_files(&sh.join("hard-ham-1"))?);
        let csv = data.join("intents").join("TrainingdatasetBitextsample.csv");
        let text = std::fs::read_to_string(&csv).with_context(|| format!("cannot read {}", csv.display()))?;
        let utterances = csv_column(&text, 1).into_iter().skip(1).filter(|u| !u.trim().is_empty()).collect();
        Ok(Corpus { spam, ham, utterances })
    }
}

/// Column `col` of a CSV text (RFC 4180 quoting).
fn csv_column(text: &str, col: usize) -> Vec<String> {
    let mut out = Vec::new();
    let (mut field, mut fields, mut quoted) = (String::new(), 0usize, false);
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => {
                if fields == col {
                    out.push(std::mem::take(&mut field));
                }
                field.clear();
                fields += 1;
            }
            ('\n', false) => {
                if fields == col {
                    out.push(std::mem::take(&mut field));
                }
                field.clear();
                fields = 0;
            }
            ('\r', false) => {}
            _ => field.push(c),
        }
    }
    if fields == col && !field.is_empty() {
        out.push(field);
    }
    out
}

/// A message file as the filter sees it.
pub fn load_message(path: &Path) -> Result<(Record, Headers)> {
    let raw = read_file(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let record = parse_message(&raw.bytes, "files", "corpus", DEFAULT_MAX_PARSE_BYTES).record;
    Ok((record, Headers::parse(&raw.bytes)))
}

fn add_record(model: &mut SpamModel, source: Source, record: &Record, weight: u32) {
    let text = super::model_text(record);
    model.add(source, &tokens::features(&record.subject, text), tokens::language(text), weight);
}

/// Trains the base model on the training part of the corpora.
pub fn train_base(data: &Path) -> Result<SpamModel> {
    let corpus = Corpus::load(data)?;
    let mut model = SpamModel::default();
    let mut counts = [0u32; 3];
    for (files, source) in [(&corpus.spam, Source::Spam), (&corpus.ham, Source::GeneralHam)] {
        for path in files.iter().filter(|p| !held_out(&file_name(p))) {
            let (record, _) = load_message(path)?;
            add_record(&mut model, source, &record, 1);
            counts[source as usize] += 1;
        }
    }
    // Utterances are a sentence or two; a few together make a message of e-mail length.
    let training: Vec<&String> = corpus.utterances.iter().filter(|u| !held_out(u)).collect();
    for group in training.chunks(UTTERANCES_PER_MESSAGE) {
        let text = group.iter().map(|u| u.as_str()).collect::<Vec<_>>().join("\n");
        let subject = pseudo_subject(group[0]);
        model.add(Source::CustomerHam, &tokens::features(&subject, &text), tokens::language(&text), 1);
        counts[2] += 1;
    }
    model.prune(MIN_TOKEN_DOCS);
    model.meta.insert("name".into(), json!("mailroom-spam-base-1"));
    model.meta.insert(
        "trained_on".into(),
        json!({
            "spam": format!("SpamAssassin public corpus 2002 spam-1, {} messages", counts[0]),
            "general_ham": format!("SpamAssassin public corpus 2002 easy-ham-1 + hard-ham-1, {} messages", counts[1]),
            "customer_ham": format!("Bitext customer-service utterances, {} messages of {UTTERANCES_PER_MESSAGE}", counts[2]),
            "split": "held out: first byte of SHA-256(file name or utterance) divisible by 4",
        }),
    );
    Ok(model)
}

/// The base model plus the team's labels from the ledger; returns it and the label counts.
pub fn retrain(base: &SpamModel, ledger: &Ledger) -> Result<(SpamModel, usize, usize)> {
    let mut model = SpamModel::default();
    let (mut spam, mut ham) = (0, 0);
    for (id, label) in history::spam_labels(ledger)? {
        let Some(record) = ledger.base_record(&id)? else { continue };
        match label.as_str() {
            SPAM => {
                add_record(&mut model, Source::Spam, &record, LABEL_WEIGHT);
                spam += 1;
            }
            HAM => {
                add_record(&mut model, Source::CustomerHam, &record, LABEL_WEIGHT);
                ham += 1;
            }
            _ => {}
        }
    }
    model.merge(base);
    model.meta = base.meta.clone();
    model.meta.insert("name".into(), json!("mailroom-spam-retrained"));
    model.meta.insert("base".into(), base.meta.get("name").cloned().unwrap_or(json!("unknown")));
    model.meta.insert("labels".into(), json!({"spam": spam, "ham": ham, "weight": LABEL_WEIGHT}));
    model.meta.insert("trained_at".into(), json!(crate::ledger::now()));
    Ok((model, spam, ham))
}

/// Verdict counts of one evaluation set, with the files that went wrong.
#[derive(Debug, Default, Serialize)]
pub struct SetScore {
    pub total: usize,
    pub verdicts: BTreeMap<&'static str, usize>,
    pub wrong: Vec<String>,
    /// Spam-model scores of the messages the model judged.
    #[serde(skip)]
    pub scores: Vec<f64>,
}

impl SetScore {
    fn add(&mut self, r: &FilterResult, ok: bool, name: impl FnOnce() -> String) {
        let v = r.verdict;
        if let Some(score) = r.extra.get("spam_score").and_then(|s| s.as_f64()) {
            self.scores.push(score);
        }
        self.total += 1;
        *self.verdicts.entry(v.as_str()).or_default() += 1;
        if !ok {
            self.wrong.push(format!("{} ({})", name(), v.as_str()));
        }
    }
    pub fn count(&self, v: Verdict) -> usize {
        self.verdicts.get(v.as_str()).copied().unwrap_or(0)
    }
    /// How many judged messages scored at least `t`.
    pub fn scored_at_least(&self, t: f64) -> usize {
        self.scores.iter().filter(|s| **s >= t).count()
    }
    pub fn rate(&self, vs: &[Verdict]) -> f64 {
        if self.total == 0 { 0.0 } else { vs.iter().map(|v| self.count(*v)).sum::<usize>() as f64 / self.total as f64 }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Evaluation {
    /// Held-out ham: anything but spam is right (mailing lists may be bulk).
    pub ham: SetScore,
    /// Held-out spam: spam or bulk is right.
    pub spam: SetScore,
    /// Every bounce of the sisimai set: bounce or autoreply is right.
    pub bounces: SetScore,
    /// Held-out customer utterances wrapped as e-mails: only pass is right.
    pub customer: SetScore,
}

/// Customers' subjects say what their text says: its first words stand in for one.
fn pseudo_subject(text: &str) -> String {
    text.split_whitespace().take(6).collect::<Vec<_>>().join(" ")
}

/// Wraps a customer utterance as a plain e-mail from a free-mail address.
pub fn utterance_mail(n: usize, text: &str) -> Vec<u8> {
    let providers = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "web.de", "qq.com"];
    let subject = pseudo_subject(text);
    format!(
        "From: Customer {n} <customer{n}@{}>\r\nTo: support@shop.example\r\nSubject: {subject}\r\n\
         Message-ID: <u{n}@mail.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\n\r\n{text}\r\n\r\nThanks,\r\nSam\r\n",
        providers[n % providers.len()]
    )
    .into_bytes()
}

/// Runs the whole rule set (without a ledger) over the held-out data.
pub fn evaluate(data: &Path, ctx: &FilterContext<'_>) -> Result<Evaluation> {
    let corpus = Corpus::load(data)?;
    let (ham, spam) = eval_spam_ham(&corpus, ctx)?;
    Ok(Evaluation { ham, spam, bounces: eval_bounces(data, ctx)?, customer: eval_customers(&corpus, ctx, 1)? })
}

fn judge(path: &Path, ctx: &FilterContext<'_>) -> Result<FilterResult> {
    let (record, headers) = load_message(path)?;
    verdict(&record, Some(&headers), ctx, None)
}

/// Held-out ham (anything but spam is right) and spam (spam or bulk is right).
pub fn eval_spam_ham(corpus: &Corpus, ctx: &FilterContext<'_>) -> Result<(SetScore, SetScore)> {
    let (mut ham, mut spam) = (SetScore::default(), SetScore::default());
    for path in corpus.ham.iter().filter(|p| held_out(&file_name(p))) {
        let r = judge(path, ctx)?;
        ham.add(&r, r.verdict != Verdict::Spam, || file_name(path));
    }
    for path in corpus.spam.iter().filter(|p| held_out(&file_name(p))) {
        let r = judge(path, ctx)?;
        spam.add(&r, matches!(r.verdict, Verdict::Spam | Verdict::Bulk), || file_name(path));
    }
    Ok((ham, spam))
}

/// Every message of the sisimai bounce set: bounce or autoreply is right.
pub fn eval_bounces(data: &Path, ctx: &FilterContext<'_>) -> Result<SetScore> {
    let mut score = SetScore::default();
    for path in eml_files(&data.join("bounces").join("sisimai").join("bsd"))? {
        let r = judge(&path, ctx)?;
        score.add(&r, matches!(r.verdict, Verdict::Bounce | Verdict::Autoreply), || file_name(&path));
    }
    Ok(score)
}

/// Held-out customer utterances wrapped as e-mails (every `every`-th one): only pass is right.
pub fn eval_customers(corpus: &Corpus, ctx: &FilterContext<'_>, every: usize) -> Result<SetScore> {
    let mut score = SetScore::default();
    for (n, u) in corpus.utterances.iter().filter(|u| held_out(u)).enumerate().step_by(every.max(1)) {
        let raw = utterance_mail(n, u);
        let record = parse_message(&raw, "files", "intents", DEFAULT_MAX_PARSE_BYTES).record;
        let r = verdict(&record, Some(&Headers::parse(&raw)), ctx, None)?;
        score.add(&r, r.verdict == Verdict::Pass, || u.clone());
    }
    Ok(score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_commas() {
        let text = "\u{feff}flags,utterance,category\nB,\"hi, there \"\"you\"\"\",X\nC,plain,Y\n";
        assert_eq!(csv_column(text, 1), ["utterance", "hi, there \"you\"", "plain"]);
    }

    #[test]
    fn retraining_learns_the_teams_labels() {
        use crate::stages::filter::history::{Correction, correct, keep_record};
        let mut ledger = Ledger::open_in_memory().unwrap();
        let mut record = Record::new("m1");
        record.subject = "Zorblax kettle descaler deal".into();
        record.text = "Zorblax quarnix descaler, zorblax quarnix for every kettle.".into();
        record.text_new = record.text.clone();
        keep_record(&mut ledger, &record, None).unwrap();
        let base = super::super::embedded_model().unwrap();
        let features = tokens::features(&record.subject, &record.text);
        let before = base.score(&features, None).probability.unwrap_or(0.5);
        correct(&mut ledger, "m1", Correction::MarkSpam, "ana", None).unwrap();
        let (model, spam, ham) = retrain(&base, &ledger).unwrap();
        assert_eq!((spam, ham), (1, 0));
        assert_eq!(model.docs[0], base.docs[0] + LABEL_WEIGHT);
        let after = model.score(&features, None).probability.unwrap();
        assert!(after > before && after > 0.9, "before {before}, after {after}");
        assert_eq!(model.meta["labels"]["spam"], 1);
    }

    #[test]
    fn the_split_is_fixed_and_about_a_quarter() {
        let held = (0..4000).filter(|i| held_out(&format!("{i}.eml"))).count();
        assert!((800..1200).contains(&held), "{held}");
        assert_eq!(held_out("00001.7c53336b37003a9286aba55d2945844c.eml"), held_out("00001.7c53336b37003a9286aba55d2945844c.eml"));
    }
}
