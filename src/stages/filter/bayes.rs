//! The statistical spam model: token counts per source, scored the way SpamBayes and
//! bogofilter do (Robinson's smoothed token probabilities, Fisher's chi-square combining).
//!
//! The model keeps raw document counts, not probabilities, so retraining is addition: the
//! embedded base counts plus the team's own labels give the retrained model. Ham comes from
//! two sources, mailing-list and personal mail ("general") and customer-service text
//! ("customer"), each normalised by its own size and averaged, so neither drowns the other.
//!
//! File format (little-endian, varints are LEB128): `MRSPAM1\n`, varint metadata length +
//! JSON metadata, 3 varint document counts (spam, general ham, customer ham), varint language
//! count + (u8 len, code, 3 varint counts) each, varint token count + (u8 len, token,
//! 3 varint counts) each.

use std::collections::{BTreeMap, HashMap, HashSet};

use foldhash::fast::RandomState;

use anyhow::{Result, bail};

pub const SOURCES: usize = 3;

/// A message's distinct features. foldhash, not SipHash: hashing the words is a good part
/// of scoring, and a per-process random seed still keeps crafted collisions out.
pub type Features = HashSet<String, RandomState>;

/// Where a training document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Spam = 0,
    GeneralHam = 1,
    CustomerHam = 2,
}

const MAGIC: &[u8] = b"MRSPAM1\n";
/// Robinson's strength and assumed probability of a rarely seen token.
const STRENGTH: f64 = 1.0;
const UNKNOWN: f64 = 0.5;
/// Tokens closer to 0.5 than this say nothing and are left out.
const MIN_DEV: f64 = 0.1;
const MAX_DISCRIMINATORS: usize = 150;
/// A language the model has seen fewer ham messages of is not judged (see `score`).
pub const MIN_LANGUAGE_HAM: u32 = 50;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpamModel {
    pub meta: serde_json::Map<String, serde_json::Value>,
    pub docs: [u32; SOURCES],
    pub languages: BTreeMap<String, [u32; SOURCES]>,
    pub tokens: HashMap<String, [u32; SOURCES], RandomState>,
}

/// What the model says about one message.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamScore {
    /// 0 (ham) … 1 (spam); None when the model abstained.
    pub probability: Option<f64>,
    /// The tokens that pushed hardest towards spam, for the reasons.
    pub spam_tokens: Vec<String>,
    /// Why the model abstained, if it did.
    pub abstained: Option<String>,
}

impl SpamModel {
    /// Adds one document's features `weight` times.
    pub fn add(&mut self, source: Source, features: &Features, language: Option<&str>, weight: u32) {
        let s = source as usize;
        self.docs[s] += weight;
        if let Some(lang) = language {
            self.languages.entry(lang.to_string()).or_default()[s] += weight;
        }
        for f in features {
            self.tokens.entry(f.clone()).or_default()[s] += weight;
        }
    }

    /// Adds another model's counts (the base model under the team's labels).
    pub fn merge(&mut self, other: &SpamModel) {
        for s in 0..SOURCES {
            self.docs[s] += other.docs[s];
        }
        for (l, c) in &other.languages {
            let e = self.languages.entry(l.clone()).or_default();
            for s in 0..SOURCES {
                e[s] += c[s];
            }
        }
        for (t, c) in &other.tokens {
            let e = self.tokens.entry(t.clone()).or_default();
            for s in 0..SOURCES {
                e[s] += c[s];
            }
        }
    }

    /// Drops tokens seen in fewer than `min_docs` documents (they are noise and size).
    pub fn prune(&mut self, min_docs: u32) {
        self.tokens.retain(|_, c| c.iter().sum::<u32>() >= min_docs);
    }

    /// Ham messages of `language` the model learned from.
    pub fn language_ham(&self, language: &str) -> u32 {
        self.languages.get(language).map(|c| c[1] + c[2]).unwrap_or(0)
    }

    /// Robinson's f(w) for a token, or None when unknown.
    fn token_probability(&self, counts: &[u32; SOURCES]) -> Option<f64> {
        let spam_freq = if self.docs[0] > 0 { counts[0] as f64 / self.docs[0] as f64 } else { return None };
        // The mean frequency over the ham sources the model has documents of.
        let (mut ham_sum, mut ham_sources) = (0.0, 0);
        for s in (1..SOURCES).filter(|&s| self.docs[s] > 0) {
            ham_sum += counts[s] as f64 / self.docs[s] as f64;
            ham_sources += 1;
        }
        if ham_sources == 0 {
            return None;
        }
        let ham_freq = ham_sum / ham_sources as f64;
        if spam_freq + ham_freq == 0.0 {
            return None;
        }
        let p = spam_freq / (spam_freq + ham_freq);
        let n = counts.iter().sum::<u32>() as f64;
        Some((STRENGTH * UNKNOWN + n * p) / (STRENGTH + n))
    }

    /// Scores a message's features. `language` is its reliably detected language, if any:
    /// the model abstains on languages it has too little ham of, because then every word of
    /// that language looks like spam only for lack of evidence.
    pub fn score(&self, features: &Features, language: Option<&str>) -> SpamScore {
        if let Some(lang) = language {
            if self.language_ham(lang) < MIN_LANGUAGE_HAM {
                return SpamScore {
                    probability: None,
                    spam_tokens: Vec::new(),
                    abstained: Some(format!("the spam model has seen too little {lang} mail to judge it")),
                };
            }
        }
        let mut probs: Vec<(f64, &str)> = features
            .iter()
            .filter_map(|f| {
                let counts = self.tokens.get(f)?;
                let p = self.token_probability(counts)?;
                ((p - 0.5).abs() >= MIN_DEV).then_some((p, f.as_str()))
            })
            .collect();
        if probs.is_empty() {
            return SpamScore {
                probability: None,
                spam_tokens: Vec::new(),
                abstained: Some("no word the spam model knows".into()),
            };
        }
        probs.sort_by(|a, b| (b.0 - 0.5).abs().total_cmp(&(a.0 - 0.5).abs()).then(a.1.cmp(b.1)));
        probs.truncate(MAX_DISCRIMINATORS);
        let n = probs.len();
        let (mut ln_ham, mut ln_spam) = (0.0, 0.0);
        for (p, _) in &probs {
            ln_ham += p.max(1e-9).ln();
            ln_spam += (1.0 - p).max(1e-9).ln();
        }
        let h = 1.0 - chi2q(-2.0 * ln_ham, 2 * n);
        let s = 1.0 - chi2q(-2.0 * ln_spam, 2 * n);
        let probability = ((s - h + 1.0) / 2.0).clamp(0.0, 1.0);
        let mut spammy: Vec<&(f64, &str)> = probs.iter().filter(|(p, _)| *p > 0.5).collect();
        spammy.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        SpamScore {
            probability: Some(probability),
            spam_tokens: spammy.iter().take(6).map(|(_, t)| t.to_string()).collect(),
            abstained: None,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        let meta = serde_json::Value::Object(self.meta.clone()).to_string();
        varint(&mut out, meta.len() as u64);
        out.extend(meta.as_bytes());
        for d in self.docs {
            varint(&mut out, d as u64);
        }
        varint(&mut out, self.languages.len() as u64);
        for (l, c) in &self.languages {
            short_str(&mut out, l);
            c.iter().for_each(|&v| varint(&mut out, v as u64));
        }
        // Sorted, so the same counts always give the same bytes.
        let mut tokens: Vec<(&String, &[u32; SOURCES])> =
            self.tokens.iter().filter(|(t, _)| t.len() <= 255).collect();
        tokens.sort();
        varint(&mut out, tokens.len() as u64);
        for (t, c) in tokens {
            short_str(&mut out, t);
            c.iter().for_each(|&v| varint(&mut out, v as u64));
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<SpamModel> {
        let Some(mut rest) = bytes.strip_prefix(MAGIC) else { bail!("not a mailroom spam model (bad magic)") };
        let r = &mut rest;
        let meta_len = read_varint(r)? as usize;
        let meta_bytes = take(r, meta_len)?;
        let meta = match serde_json::from_slice(meta_bytes)? {
            serde_json::Value::Object(m) => m,
            _ => bail!("spam model metadata is not an object"),
        };
        let mut docs = [0u32; SOURCES];
        for d in &mut docs {
            *d = read_u32(r)?;
        }
        let n_lang = read_varint(r)? as usize;
        let mut languages = BTreeMap::new();
        for _ in 0..n_lang {
            let l = read_short_str(r)?;
            languages.insert(l, read_counts(r)?);
        }
        let n_tok = read_varint(r)? as usize;
        let mut tokens = HashMap::with_capacity_and_hasher(n_tok.min(1 << 22), RandomState::default());
        for _ in 0..n_tok {
            let t = read_short_str(r)?;
            tokens.insert(t, read_counts(r)?);
        }
        if !r.is_empty() {
            bail!("spam model has {} unexpected trailing bytes", r.len());
        }
        Ok(SpamModel { meta, docs, languages, tokens })
    }
}

/// P(chi-square with `dof` (even) degrees of freedom >= x2).
fn chi2q(x2: f64, dof: usize) -> f64 {
    let m = x2 / 2.0;
    let mut term = (-m).exp();
    let mut sum = term;
    for i in 1..dof / 2 {
        term *= m / i as f64;
        sum += term;
    }
    sum.min(1.0)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn short_str(out: &mut Vec<u8>, s: &str) {
    out.push(s.len().min(255) as u8);
    out.extend(&s.as_bytes()[..s.len().min(255)]);
}

fn take<'a>(r: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
    if r.len() < n {
        bail!("spam model is truncated");
    }
    let (head, tail) = r.split_at(n);
    *r = tail;
    Ok(head)
}

fn read_varint(r: &mut &[u8]) -> Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = take(r, 1)?[0];
        v |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    bail!("spam model has a malformed number")
}

fn read_u32(r: &mut &[u8]) -> Result<u32> {
    u32::try_from(read_varint(r)?).map_err(|_| anyhow::anyhow!("spam model count out of range"))
}

fn read_counts(r: &mut &[u8]) -> Result<[u32; SOURCES]> {
    Ok([read_u32(r)?, read_u32(r)?, read_u32(r)?])
}

fn read_short_str(r: &mut &[u8]) -> Result<String> {
    let n = take(r, 1)?[0] as usize;
    Ok(String::from_utf8(take(r, n)?.to_vec())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str]) -> Features {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn toy() -> SpamModel {
        let mut m = SpamModel::default();
        for _ in 0..20 {
            m.add(Source::Spam, &set(&["viagra", "cheap", "click", "the"]), Some("en"), 1);
            m.add(Source::GeneralHam, &set(&["patch", "kernel", "the", "thanks"]), Some("en"), 1);
            m.add(Source::CustomerHam, &set(&["order", "refund", "the", "thanks"]), Some("en"), 3);
        }
        m
    }

    #[test]
    fn spam_words_score_high_and_ham_words_low() {
        let m = toy();
        let spam = m.score(&set(&["viagra", "cheap", "click", "the"]), Some("en"));
        assert!(spam.probability.unwrap() > 0.99, "{spam:?}");
        assert_eq!(spam.spam_tokens.len(), 3);
        let ham = m.score(&set(&["order", "refund", "thanks"]), Some("en"));
        assert!(ham.probability.unwrap() < 0.01, "{ham:?}");
    }

    #[test]
    fn unknown_words_and_unknown_languages_abstain() {
        let m = toy();
        assert!(m.score(&set(&["bestellung", "wo"]), None).probability.is_none());
        let s = m.score(&set(&["viagra", "cheap"]), Some("de"));
        assert!(s.probability.is_none());
        assert!(s.abstained.unwrap().contains("de"));
    }

    #[test]
    fn bytes_round_trip_and_reject_junk() {
        let mut m = toy();
        m.meta.insert("trained".into(), "test".into());
        let bytes = m.to_bytes();
        assert_eq!(SpamModel::from_bytes(&bytes).unwrap(), m);
        assert_eq!(m.to_bytes(), bytes, "serialization is deterministic");
        assert!(SpamModel::from_bytes(b"hello").is_err());
        assert!(SpamModel::from_bytes(&bytes[..bytes.len() - 3]).is_err());
    }

    #[test]
    fn merging_adds_counts() {
        let mut a = toy();
        let b = toy();
        a.merge(&b);
        assert_eq!(a.docs, [40, 40, 120]);
        assert_eq!(a.tokens["the"], [40, 40, 120]);
    }

    #[test]
    fn chi2q_matches_known_values() {
        assert!((chi2q(0.0, 4) - 1.0).abs() < 1e-12);
        // P(chi2_2 >= 2) = e^-1
        assert!((chi2q(2.0, 2) - (-1.0f64).exp()).abs() < 1e-12);
    }
}
