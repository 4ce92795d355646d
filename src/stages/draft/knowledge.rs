//! The knowledge folder: Markdown policies, shipping times, return rules and FAQ that drafts
//! are grounded in.
//!
//! Every `*.md` file (subfolders included) is split at its headings into passages; a passage
//! is named `file.md#heading-slug` in `draft.sources`. Retrieval is Okapi BM25 over a small
//! stemmed vocabulary, with heading words counted twice. Text inside `<!-- … -->` comments
//! is neither indexed nor ever quoted to a customer (a place for internal notes).

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use anyhow::{Context, Result};
use regex::Regex;

/// One section of one Markdown file.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    /// `file.md#heading-slug`
    pub source: String,
    /// The heading path, e.g. "Returns › Return window".
    pub heading: String,
    /// The body as Markdown, comments removed.
    pub body: String,
}

/// A retrieved passage with its score.
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    pub passage: &'a Passage,
    pub score: f64,
    /// Distinct query terms the passage contains.
    pub matched: usize,
}

#[derive(Debug, Default)]
pub struct Knowledge {
    passages: Vec<Passage>,
    /// Term frequencies per passage.
    docs: Vec<HashMap<String, u32>>,
    lengths: Vec<f64>,
    avg_len: f64,
    df: HashMap<String, u32>,
}

const K1: f64 = 1.2;
const B: f64 = 0.75;

impl Knowledge {
    /// Loads every Markdown file under `dir`. A missing or unreadable folder is an error.
    pub fn load(dir: &Path) -> Result<Knowledge> {
        let mut files = Vec::new();
        collect_markdown(dir, dir, &mut files).with_context(|| format!("reading knowledge folder {}", dir.display()))?;
        files.sort();
        let mut docs = Vec::new();
        for (name, path) in files {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            docs.push((name, text));
        }
        Ok(Knowledge::from_documents(&docs))
    }

    /// Builds the index from `(file name, Markdown text)` pairs.
    pub fn from_documents(docs: &[(String, String)]) -> Knowledge {
        let passages: Vec<Passage> = docs.iter().flat_map(|(name, text)| split_passages(name, text)).collect();
        let mut k = Knowledge { passages, ..Default::default() };
        for p in &k.passages {
            let mut tf: HashMap<String, u32> = HashMap::new();
            let heading_terms = terms(&p.heading);
            let body_terms = terms(&p.body);
            for t in heading_terms.iter().chain(&heading_terms).chain(&body_terms) {
                *tf.entry(t.clone()).or_default() += 1;
            }
            for t in tf.keys() {
                *k.df.entry(t.clone()).or_default() += 1;
            }
            k.lengths.push(tf.values().sum::<u32>() as f64);
            k.docs.push(tf);
        }
        k.avg_len = if k.lengths.is_empty() { 0.0 } else { k.lengths.iter().sum::<f64>() / k.lengths.len() as f64 };
        k
    }

    pub fn is_empty(&self) -> bool {
        self.passages.is_empty()
    }

    pub fn len(&self) -> usize {
        self.passages.len()
    }

    /// The best `k` passages for `query` that share at least `min_matched` distinct terms with it.
    pub fn search(&self, query: &str, k: usize, min_matched: usize) -> Vec<Hit<'_>> {
        let mut q = terms(query);
        q.sort();
        q.dedup();
        let n = self.passages.len() as f64;
        let mut hits: Vec<Hit<'_>> = Vec::new();
        for (i, tf) in self.docs.iter().enumerate() {
            let mut score = 0.0;
            let mut matched = 0;
            for t in &q {
                let Some(&f) = tf.get(t) else { continue };
                matched += 1;
                let df = f64::from(*self.df.get(t).unwrap_or(&1));
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                let f = f64::from(f);
                score += idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * self.lengths[i] / self.avg_len.max(1.0)));
            }
            if matched >= min_matched.max(1) {
                hits.push(Hit { passage: &self.passages[i], score, matched });
            }
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.passage.source.cmp(&b.passage.source)));
        hits.truncate(k);
        hits
    }

    pub fn passages(&self) -> &[Passage] {
        &self.passages
    }
}

fn collect_markdown(root: &Path, dir: &Path, out: &mut Vec<(String, std::path::PathBuf)>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_markdown(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown")) {
            let name = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            out.push((name, path));
        }
    }
    Ok(())
}

static COMMENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?s)<!--.*?-->").expect("comment regex"));
static HEADING: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(#{1,6})\s+(.+?)\s*#*\s*$").expect("heading regex"));

/// Splits one file at its headings. Text before the first heading is a passage named after
/// the file; a heading's passage is named by the heading path (parents included).
pub fn split_passages(name: &str, text: &str) -> Vec<Passage> {
    let text = COMMENT.replace_all(text, "");
    let mut out = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut slug = String::new();
    let mut body = String::new();
    let mut in_fence = false;
    let flush = |path: &[(usize, String)], slug: &str, body: &mut String, out: &mut Vec<Passage>| {
        if !body.trim().is_empty() {
            let heading = if path.is_empty() {
                name.trim_end_matches(".md").to_string()
            } else {
                path.iter().map(|(_, h)| h.as_str()).collect::<Vec<_>>().join(" › ")
            };
            let source = if slug.is_empty() { name.to_string() } else { format!("{name}#{slug}") };
            out.push(Passage { source, heading, body: body.trim().to_string() });
        }
        body.clear();
    };
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let heading = if in_fence { None } else { HEADING.captures(line) };
        if let Some(c) = heading {
            flush(&path, &slug, &mut body, &mut out);
            let level = c[1].len();
            let title = c[2].to_string();
            path.retain(|(l, _)| *l < level);
            slug = slugify(&title);
            path.push((level, title));
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    flush(&path, &slug, &mut body, &mut out);
    out
}

/// GitHub-style anchor: lower case, punctuation dropped, spaces to dashes.
pub fn slugify(heading: &str) -> String {
    let mut s = String::new();
    for ch in heading.trim().chars() {
        if ch.is_alphanumeric() {
            s.extend(ch.to_lowercase());
        } else if ch == ' ' || ch == '-' || ch == '_' {
            s.push('-');
        }
    }
    s
}

const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "before", "but",
    "by", "can", "could", "did", "do", "does", "for", "from", "get", "got", "had", "has", "have", "hello", "hi", "how",
    "i", "if", "in", "into", "is", "it", "its", "just", "me", "my", "no", "not", "of", "on", "or", "our", "please",
    "so", "than", "thank", "thanks", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to",
    "us", "was", "we", "were", "what", "when", "where", "which", "who", "will", "with", "would", "you", "your",
    "yours", "dear", "regards", "best",
];

/// Lower-cased, stemmed words without stop words; each Han character is a term of its own.
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let push_word = |word: &mut String, out: &mut Vec<String>| {
        if word.chars().count() >= 2 && !STOPWORDS.contains(&word.as_str()) {
            out.push(stem(word));
        }
        word.clear();
    };
    for ch in text.chars() {
        if is_han(ch) {
            push_word(&mut word, &mut out);
            out.push(ch.to_string());
        } else if ch.is_alphanumeric() {
            word.extend(ch.to_lowercase());
        } else if ch == '\'' || ch == '’' {
            // "don't" stays one word; "customer's" loses the "s" below.
        } else {
            push_word(&mut word, &mut out);
        }
    }
    push_word(&mut word, &mut out);
    out
}

fn is_han(ch: char) -> bool {
    matches!(ch as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF)
}

/// A light English suffix stripper: enough to match "returns", "returned", "returning".
fn stem(word: &str) -> String {
    let w = word;
    let n = w.len();
    if !w.is_ascii() || n <= 3 {
        return w.to_string();
    }
    for (suffix, replacement, min) in [
        ("ies", "y", 5),
        ("sses", "ss", 5),
        ("ing", "", 6),
        ("ed", "", 5),
        ("es", "", 5),
        ("s", "", 4),
    ] {
        if n >= min && w.ends_with(suffix) {
            if suffix == "s" && (w.ends_with("ss") || w.ends_with("us") || w.ends_with("is")) {
                return w.to_string();
            }
            if suffix == "es" && !(w.ends_with("ches") || w.ends_with("shes") || w.ends_with("xes") || w.ends_with("sses")) {
                continue;
            }
            return format!("{}{replacement}", &w[..n - suffix.len()]);
        }
    }
    w.to_string()
}

static LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[([^\]]+)\]\(([^)\s]+)\)").expect("link regex"));
static EMPHASIS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\*\*|__|`").expect("emphasis regex"));
static TABLE_RULE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*\|?[\s:|-]+\|?\s*$").expect("table rule regex"));

/// Markdown to plain text a customer can read: links as "text (url)", no emphasis marks,
/// table rows as "a: b".
pub fn plain(markdown: &str) -> String {
    let mut lines = Vec::new();
    for line in markdown.lines() {
        let t = line.trim_end();
        if t.trim().starts_with("```") || (t.contains('|') && TABLE_RULE.is_match(t) && t.contains('-')) {
            continue;
        }
        let t = if t.trim_start().starts_with('|') {
            t.trim().trim_matches('|').split('|').map(str::trim).collect::<Vec<_>>().join(": ")
        } else {
            t.to_string()
        };
        let t = t.trim_start_matches('>').trim_start().to_string();
        let t = if let Some(rest) = t.trim_start().strip_prefix("* ") { format!("- {rest}") } else { t };
        let t = LINK.replace_all(&t, |c: &regex::Captures<'_>| {
            if c[1] == c[2] { c[1].to_string() } else { format!("{} ({})", &c[1], &c[2]) }
        });
        lines.push(EMPHASIS.replace_all(&t, "").into_owned());
    }
    let text = lines.join("\n");
    let mut out = String::new();
    let mut blank = 0;
    for line in text.trim().lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank == 1 {
                out.push('\n');
            }
        } else {
            blank = 0;
            out.push_str(line);
            out.push('\n');
        }
    }
    out.trim().to_string()
}

/// The part of a passage a draft quotes: the whole passage when short, else the sentences
/// and list items that share the most words with the query (at most `max_units`, in order).
pub fn excerpt(passage: &Passage, query: &str, max_chars: usize, max_units: usize) -> String {
    let text = plain(&passage.body);
    if text.chars().count() <= max_chars {
        return text;
    }
    let mut q = terms(query);
    q.sort();
    q.dedup();
    let units = split_units(&text);
    let mut scored: Vec<(usize, usize)> = units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let mut t = terms(u);
            t.sort();
            t.dedup();
            (i, t.iter().filter(|x| q.binary_search(x).is_ok()).count())
        })
        .collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen: Vec<usize> = Vec::new();
    let mut len = 0;
    for (i, s) in scored {
        if chosen.len() >= max_units || (s == 0 && !chosen.is_empty()) {
            break;
        }
        let l = units[i].chars().count();
        if !chosen.is_empty() && len + l > max_chars {
            continue;
        }
        chosen.push(i);
        len += l;
    }
    chosen.sort_unstable();
    let mut out = String::new();
    for i in chosen {
        let u = &units[i];
        if !out.is_empty() {
            out.push(if u.starts_with("- ") || out.ends_with(':') { '\n' } else { ' ' });
        }
        out.push_str(u);
    }
    out
}

/// Sentences and list items of plain text.
fn split_units(text: &str) -> Vec<String> {
    static SENTENCE_END: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"([.!?])\s+").expect("sentence regex"));
    let mut units = Vec::new();
    for para in text.split("\n\n") {
        for line in para.lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with("- ") || line.starts_with(|c: char| c.is_ascii_digit()) && line.contains(". ") {
                units.push(line.to_string());
                continue;
            }
            let marked = SENTENCE_END.replace_all(line, "$1\u{1}");
            units.extend(marked.split('\u{1}').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Knowledge {
        Knowledge::from_documents(&[
            (
                "returns.md".into(),
                "# Returns\n\nWe accept returns of unused items within 30 days of delivery.\n\n## Return shipping costs\n\nReturn shipping is free for faulty items; otherwise a label costs EUR 5.\n\n<!-- internal: agents may waive the fee for VIPs -->\n".into(),
            ),
            (
                "shipping.md".into(),
                "# Shipping times\n\nOrders leave our warehouse within 1-2 business days.\n\n| Region | Delivery |\n|---|---|\n| Germany | 2-3 business days |\n| EU | 3-5 business days |\n\n# Lost parcels\n\nIf tracking shows delivered but nothing arrived, check with neighbours, then tell us within 14 days.\n".into(),
            ),
        ])
    }

    #[test]
    fn passages_are_named_by_file_and_heading_path() {
        let k = sample();
        let sources: Vec<&str> = k.passages().iter().map(|p| p.source.as_str()).collect();
        assert_eq!(
            sources,
            ["returns.md#returns", "returns.md#return-shipping-costs", "shipping.md#shipping-times", "shipping.md#lost-parcels"]
        );
        assert_eq!(k.passages()[1].heading, "Returns › Return shipping costs");
    }

    #[test]
    fn comments_are_never_indexed_or_quoted() {
        let k = sample();
        assert!(k.passages().iter().all(|p| !p.body.contains("internal")));
        assert!(k.search("agents waive fee VIPs", 3, 2).is_empty());
    }

    #[test]
    fn bm25_ranks_the_matching_section_first() {
        let k = sample();
        let hits = k.search("Who pays the return shipping label for a faulty kettle?", 3, 2);
        assert_eq!(hits[0].passage.source, "returns.md#return-shipping-costs");
        let hits = k.search("tracking says delivered but the parcel never arrived", 3, 2);
        assert_eq!(hits[0].passage.source, "shipping.md#lost-parcels");
        assert!(k.search("completely unrelated words here", 3, 2).is_empty());
    }

    #[test]
    fn stemming_matches_word_forms() {
        assert_eq!(terms("Returns returned returning"), ["return", "return", "return"]);
        assert_eq!(terms("parcels boxes"), ["parcel", "box"]);
        assert_eq!(terms("退货 policy"), ["退", "货", "policy"]);
    }

    #[test]
    fn plain_text_for_customers() {
        assert_eq!(plain("**Free** returns: see [our page](https://x.example/r)."), "Free returns: see our page (https://x.example/r).");
        assert_eq!(plain("| Region | Delivery |\n|---|---|\n| EU | 3-5 days |"), "Region: Delivery\nEU: 3-5 days");
    }

    #[test]
    fn long_passages_are_cut_to_the_relevant_sentences() {
        let long = Passage {
            source: "faq.md#care".into(),
            heading: "Care".into(),
            body: "Cast iron needs seasoning before first use. Never put cast iron in the dishwasher. Enamel pans can go in the oven up to 250 °C. Linen shrinks about 3% at the first wash. Wooden boards need oil once a month.".into(),
        };
        let e = excerpt(&long, "Can the enamel pan go in the oven?", 80, 2);
        assert!(e.contains("Enamel pans can go in the oven"), "{e}");
        assert!(!e.contains("Linen"), "{e}");
    }
}
