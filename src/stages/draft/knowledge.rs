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
    /// BM25 summed over all query parts, each times its weight.
    pub score: f64,
    /// Per query part: its BM25 score and how many of its distinct terms the passage contains.
    pub parts: Vec<(f64, usize)>,
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

    /// The best `k` passages for a query made of weighted `parts` (e.g. the message, and words
    /// for its category), best first; only passages sharing at least one term with the query.
    pub fn search(&self, parts: &[(&str, f64)], k: usize) -> Vec<Hit<'_>> {
        let queries: Vec<Vec<String>> = parts
            .iter()
            .map(|(p, _)| {
                let mut q = terms(p);
                q.sort();
                q.dedup();
                q
            })
            .collect();
        let n = self.passages.len() as f64;
        let mut hits: Vec<Hit<'_>> = Vec::new();
        for (i, tf) in self.docs.iter().enumerate() {
            let mut part_scores = Vec::with_capacity(queries.len());
            for q in &queries {
                let mut score = 0.0;
                let mut matched = 0;
                for t in q {
                    let Some(&f) = tf.get(t) else { continue };
                    matched += 1;
                    let df = f64::from(*self.df.get(t).unwrap_or(&1));
                    let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                    let f = f64::from(f);
                    score += idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * self.lengths[i] / self.avg_len.max(1.0)));
                }
                part_scores.push((score, matched));
            }
            let score: f64 = part_scores.iter().zip(parts).map(|(p, (_, w))| p.0 * w).sum();
            if part_scores.iter().any(|p| p.1 > 0) {
                hits.push(Hit { passage: &self.passages[i], score, parts: part_scores });
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
static ITALIC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\*([^*\s][^*\n]*?)\*").expect("italic regex"));
static TABLE_RULE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*\|?[\s:|-]+\|?\s*$").expect("table rule regex"));

/// Markdown to plain text a customer can read: links as "text (url)", no emphasis marks,
/// each table row a list item "first cell: other cells" (the header row dropped).
pub fn plain(markdown: &str) -> String {
    let source: Vec<&str> = markdown.lines().collect();
    let is_rule = |l: &str| l.contains('|') && l.contains('-') && TABLE_RULE.is_match(l);
    let mut lines = Vec::new();
    for (i, line) in source.iter().enumerate() {
        let t = line.trim();
        if t.starts_with("```") || is_rule(t) {
            continue;
        }
        let t = if t.starts_with('|') {
            if source.get(i + 1).is_some_and(|next| is_rule(next.trim())) {
                continue; // the header row
            }
            let cells: Vec<&str> = t.trim_matches('|').split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
            match cells.split_first() {
                Some((first, rest)) if !rest.is_empty() => format!("- {first}: {}", rest.join(", ")),
                Some((first, _)) => format!("- {first}"),
                None => continue,
            }
        } else {
            let t = t.trim_start_matches('>').trim_start();
            match t.strip_prefix("* ") {
                Some(rest) => format!("- {rest}"),
                None => t.to_string(),
            }
        };
        let t = LINK.replace_all(&t, |c: &regex::Captures<'_>| {
            if c[1] == c[2] { c[1].to_string() } else { format!("{} ({})", &c[1], &c[2]) }
        });
        let t = EMPHASIS.replace_all(&t, "");
        lines.push(ITALIC.replace_all(&t, "$1").into_owned());
    }
    let mut out = String::new();
    let mut blank = false;
    for line in lines {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.trim().to_string()
}

impl Knowledge {
    /// Customer-facing sentences and list items of a passage that share at least two
    /// distinctive words with the query (words found in at most a quarter of all passages, so
    /// "order" or "days" alone never make a sentence relevant) and at least half as many as
    /// the best one; best first, at most `max_units` and `max_chars`, returned in the passage's
    /// own order. Instructions to agents are never returned (see `customer_part`), nor lists of
    /// what we need from the customer (the checklist asks for those).
    pub fn excerpt(&self, passage: &Passage, query: &str, max_chars: usize, max_units: usize) -> Vec<String> {
        let last_heading = passage.heading.rsplit(" › ").next().unwrap_or("");
        if NEEDS_LIST.is_match(last_heading) {
            return Vec::new();
        }
        let common = (self.passages.len() / 4).max(2) as u32;
        let mut q = terms(query);
        q.retain(|t| self.df.get(t).is_some_and(|&df| df <= common));
        q.sort();
        q.dedup();
        let units: Vec<String> =
            split_units(&plain(&passage.body)).into_iter().filter_map(|u| customer_part(&u)).collect();
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
        let best = scored.iter().map(|s| s.1).max().unwrap_or(0);
        scored.retain(|(_, overlap)| *overlap >= MIN_UNIT_OVERLAP && *overlap * 2 >= best);
        scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut chosen: Vec<usize> = Vec::new();
        let mut len = 0;
        for (i, _) in scored {
            if chosen.len() >= max_units {
                break;
            }
            let l = units[i].chars().count();
            if len + l > max_chars {
                continue;
            }
            chosen.push(i);
            len += l;
        }
        chosen.sort_unstable();
        chosen.into_iter().map(|i| units[i].clone()).collect()
    }
}

/// Query words a sentence must share to be quoted.
const MIN_UNIT_OVERLAP: usize = 2;

/// Joins quoted units: list items and blocks on their own lines, sentences in one paragraph.
pub fn join_units(units: &[String]) -> String {
    let mut out = String::new();
    for u in units {
        if !out.is_empty() {
            let block = u.starts_with("- ") || u.contains('\n') || out.ends_with(':') || out.contains('\n');
            out.push_str(if block { "\n" } else { " " });
        }
        out.push_str(u);
    }
    out
}

static LIST_ITEM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(?:- |\d+\. )").expect("list item regex"));
static SENTENCE_END: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"([.!?])\s+").expect("sentence regex"));

fn sentences(text: &str) -> Vec<String> {
    SENTENCE_END
        .replace_all(text, "$1\u{1}")
        .split('\u{1}')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Sentences, list items, and lead-in lines ending in ":" together with their list.
fn split_units(text: &str) -> Vec<String> {
    static LEAD_GAP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r":\n\n(- |\d+\. )").expect("lead gap regex"));
    // A list after a blank line still belongs to the line that introduces it.
    let text = LEAD_GAP.replace_all(text, ":\n$1");
    let mut units: Vec<String> = Vec::new();
    for para in text.split("\n\n") {
        // Continuation lines of a wrapped line or list item belong to it.
        let mut lines: Vec<String> = Vec::new();
        for line in para.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match lines.last_mut() {
                Some(last) if !LIST_ITEM.is_match(line) && !last.ends_with(':') => {
                    last.push(' ');
                    last.push_str(line);
                }
                _ => lines.push(line.to_string()),
            }
        }
        let mut lead: Option<String> = None;
        for line in lines {
            if LIST_ITEM.is_match(&line) {
                let item = format!("- {}", LIST_ITEM.replace(&line, ""));
                match lead.as_mut() {
                    Some(l) => {
                        l.push('\n');
                        l.push_str(&item);
                    }
                    None => units.push(item),
                }
                continue;
            }
            if let Some(l) = lead.take() {
                units.push(l);
            }
            let mut s = sentences(&line);
            if line.ends_with(':') {
                lead = s.pop();
            }
            units.extend(s);
        }
        if let Some(l) = lead.take() {
            units.push(l);
        }
    }
    units
}

/// A sentence written for agents: an imperative ("Ask …", "Do not …", also after a label
/// like "Wrong item: send …"), or a mention of "the customer", roles, priorities, internal
/// tools or other policy files.
static AGENT_FACING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        ^(?:-\s+)?(?:[^:]{1,60}:\s+|(?:if|when|once|after|before|to)\b[^,]{1,80},\s+)?(?:ask|always|do\s+not|don't|never|treat|reply|offer|find|check|apologi[sz]e|fix|suggest|hand
          |escalate|cancel|refund|issue|give|confirm|verify|send|tell|say|use|act|keep|thank|note|make\s+sure|remember
          |contact|forward|route|log|flag|mark|open|report|if\s+photos)\b
        | \bthe\s+customer\b | \bcustomer's\b | \bteam\s+lead\b | \bmanagement\b | \bfinance\b | \binsurer\b
        | \bagents?\b | \bescalat | \bP[1-4]\b | \binternal\b | \badmin\s+panel\b | \.md\b | \bsafety\s+lead\b",
    )
    .expect("agent-facing regex")
});

/// What the checklist asks for; quoting it too would ask twice.
static NEEDS_LIST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^(?:we\s+need|what\s+we\s+need|to\s+check,\s+we\s+need)\b").expect("needs regex"));

/// The part of a unit a customer may read: agent-facing sentences and list items removed;
/// `None` when nothing is left or the unit is a list of what we need from the customer.
fn customer_part(unit: &str) -> Option<String> {
    let mut lines = unit.lines();
    let head = lines.next()?;
    if NEEDS_LIST.is_match(head.trim_start_matches("- ")) {
        return None;
    }
    let keep = |text: &str| -> Option<String> {
        let is_item = text.starts_with("- ");
        let body = text.trim_start_matches("- ");
        let kept: Vec<String> = sentences(body).into_iter().filter(|s| !AGENT_FACING.is_match(s)).collect();
        if kept.is_empty() {
            return None;
        }
        let joined = kept.join(" ");
        Some(if is_item { format!("- {joined}") } else { joined })
    };
    let items: Vec<&str> = lines.collect();
    if items.is_empty() {
        return keep(head);
    }
    // A lead-in keeps its list only when both survive.
    if AGENT_FACING.is_match(head) {
        return None;
    }
    let kept: Vec<String> = items.into_iter().filter_map(keep).collect();
    if kept.is_empty() {
        return None;
    }
    Some(format!("{head}\n{}", kept.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unrelated passages, so that the words of a test passage are distinctive.
    const FILLER: &str = "# A\n\nalpha\n\n# B\n\nbeta\n\n# C\n\ngamma\n\n# D\n\ndelta\n\n# E\n\nepsilon\n\n# F\n\nzeta\n\n# G\n\neta\n";

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
        assert!(k.search(&[("agents waive fee VIPs", 1.0)], 3).is_empty());
    }

    #[test]
    fn bm25_ranks_the_matching_section_first() {
        let k = sample();
        let hits = k.search(&[("Who pays the return shipping label for a faulty kettle?", 1.0)], 3);
        assert_eq!(hits[0].passage.source, "returns.md#return-shipping-costs");
        let hits = k.search(&[("tracking says delivered but the parcel never arrived", 1.0), ("shipping delivery", 2.0)], 3);
        assert_eq!(hits[0].passage.source, "shipping.md#lost-parcels");
        assert_eq!(hits[0].parts.len(), 2);
        assert!(hits[0].parts[0].1 >= 3, "{:?}", hits[0].parts);
        assert!(k.search(&[("completely unrelated words here", 1.0)], 3).is_empty());
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
        assert_eq!(plain("under *My account > Orders*, 2 * 3"), "under My account > Orders, 2 * 3");
        assert_eq!(
            plain("| Region | Carrier | Days |\n|---|---|---|\n| EU | DPD | 3-5 |\n| UK | Royal Mail | 2 |"),
            "- EU: DPD, 3-5\n- UK: Royal Mail, 2"
        );
    }

    #[test]
    fn instructions_to_agents_are_never_quoted() {
        let p = Passage {
            source: "damaged.md#reporting".into(),
            heading: "Reporting".into(),
            body: "Customers should report broken items within **14 days of delivery**. We need:\n\n1. The **order number**.\n2. Photos of the broken item.\n\nIf photos are missing, ask for them politely once. Do not delay a safety case.\n\n- Broken glass: tell them to dispose of it.\n- Broken glass is never sent back. We ask the customer to dispose of it.\n- Customers can see broken items' status online. Always give tracking details only to the owner.".into(),
        };
        let k = Knowledge::from_documents(&[("d.md".into(), format!("# Reporting\n\n{}", p.body)), ("other.md".into(), FILLER.into())]);
        let p = &k.passages()[0];
        let e = k.excerpt(p, "broken glass items photos delivery status", 500, 5);
        assert_eq!(
            e,
            [
                "Customers should report broken items within 14 days of delivery.",
                "- Broken glass is never sent back.",
                "- Customers can see broken items' status online.",
            ]
        );
    }

    #[test]
    fn long_passages_are_cut_to_the_relevant_sentences() {
        let long = Passage {
            source: "faq.md#care".into(),
            heading: "Care".into(),
            body: "Cast iron needs seasoning before first use. Never put cast iron in the dishwasher. Enamel pans can go in the oven up to 250 °C. Linen shrinks about 3% at the first wash. Wooden boards need oil once a month.".into(),
        };
        let k = Knowledge::from_documents(&[("faq.md".into(), format!("# Care\n\n{}", long.body)), ("other.md".into(), FILLER.into())]);
        let e = k.excerpt(&k.passages()[0], "Can the enamel pan go in the oven?", 80, 2).join(" ");
        assert!(e.contains("Enamel pans can go in the oven"), "{e}");
        assert!(!e.contains("Linen"), "{e}");
    }
}
