//! Features for the spam model: words of the subject and body.
//!
//! Lower-cased, Unicode-aware words; CJK text as character bigrams; numbers reduced to their
//! length; links and addresses reduced to a few shape tokens. Nothing from Received, Date,
//! Message-ID or list headers goes in: those describe where a corpus came from, not whether
//! a message is spam, and a model that learns them does not carry over to another mailbox.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::bayes::Features;
use crate::stages::classify::language::by_function_words;
// Han, kana and Hangul (`is_cjk`): no spaces between words, so bigrams stand in for words.
use crate::stages::classify::text::{head_chars, is_cjk, normalize_into};

/// Only the head of a long body is read: spam shows itself early and this bounds the cost.
const MAX_BODY_CHARS: usize = 16 * 1024;
const MAX_WORD_CHARS: usize = 24;

/// Letter etiquette: how formal a writer is, not whether they sell something. Old spam
/// corpora make "Dear Sir, kindly … Regards" look like spam; a polite customer writes it too.
const ETIQUETTE: &[&str] = &[
    "dear", "sir", "sirs", "madam", "kindly", "regards", "sincerely", "yours", "faithfully", "respectfully",
    "cordially", "greetings", "hello", "hi", "best", "warm", "thanks", "thank",
];

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?-u:\b)(?:https?://|www\.)([^\s<>"'()\[\]]+)"#).expect("url regex")
});
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+").expect("email regex"));
static MONEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[$€£¥]\s?\d|\d\s?(?:usd|eur|dollars)(?-u:\b)").expect("money regex"));

/// The distinct features of one message.
pub fn features(subject: &str, body: &str) -> Features {
    let mut out = Features::default();
    subject_features(subject, &mut out);
    let body = head_chars(body, MAX_BODY_CHARS);
    let without_urls = link_features(body, &mut out);
    // The second pass that cuts the addresses only for a text that has one.
    let clean = match EMAIL.find(&without_urls) {
        Some(_) => {
            out.insert("e:addr".into());
            Cow::Owned(EMAIL.replace_all(&without_urls, " ").into_owned())
        }
        None => without_urls,
    };
    if MONEY.is_match(&clean.to_lowercase()) {
        out.insert("p:money".into());
    }
    if clean.contains("!!") {
        out.insert("p:!!".into());
    }
    for_each_word(&clean, |w| insert(&mut out, w));
    out
}

/// Adds a feature, allocating only for one not yet there (most words come more than once).
fn insert(out: &mut Features, feature: &str) {
    if !out.contains(feature) {
        out.insert(feature.to_string());
    }
}

/// Subject words count twice: as words, and marked as subject words.
fn subject_features(subject: &str, out: &mut Features) {
    for_each_word(subject, |w| {
        // Order numbers make numbers in customers' subjects common; only the word form counts.
        if !w.starts_with("n:") {
            out.insert(format!("s:{w}"));
        }
        insert(out, w);
    });
    let letters: Vec<char> = subject.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() >= 6 && letters.iter().all(|c| !c.is_lowercase()) && letters.iter().any(|c| c.is_uppercase()) {
        out.insert("s:ALLCAPS".into());
    }
    if subject.contains("!!") || subject.contains("$$") {
        out.insert("s:!!".into());
    }
}

/// Shapes of the links in `body`; returns `body` with each link replaced by a space.
fn link_features<'a>(body: &'a str, out: &mut Features) -> Cow<'a, str> {
    let mut links = 0;
    for cap in URL.captures_iter(body) {
        links += 1;
        let rest = cap.get(1).map(|m| m.as_str()).unwrap_or("");
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.contains('@') {
            out.insert("u:userinfo".into());
        }
        let bare = host.rsplit('@').next().unwrap_or(host);
        let name = bare.split(':').next().unwrap_or(bare);
        if name.split('.').all(|p| p.chars().all(|c| c.is_ascii_digit())) && name.contains('.') {
            out.insert("u:ip".into());
        }
        if bare.contains(':') {
            out.insert("u:port".into());
        }
    }
    if links > 0 {
        out.insert("u:link".into());
    }
    if links > 5 {
        out.insert("u:many".into());
    }
    if links > 0 { URL.replace_all(body, " ") } else { Cow::Borrowed(body) }
}

/// Characters the language is judged on.
const LANGUAGE_CHARS: usize = 2000;

/// The message's language (ISO 639-3, as whatlang names it) when detection is reliable.
/// Plainly English text (most mail) is told by its function words, without whatlang, which
/// costs more than the rest of the spam model together.
pub fn language(text: &str) -> Option<&'static str> {
    let head = head_chars(text, LANGUAGE_CHARS);
    if plainly_english(head) {
        return Some("eng");
    }
    let info = whatlang::detect(head)?;
    info.is_reliable().then(|| info.lang().code())
}

/// Mostly ASCII letters (so whatlang too would read it as Latin script), and English
/// function words win a clear vote.
fn plainly_english(head: &str) -> bool {
    let (mut ascii, mut other) = (0usize, 0usize);
    for c in head.chars() {
        if c.is_ascii_alphabetic() {
            ascii += 1;
        } else if !c.is_ascii() && c.is_alphabetic() {
            other += 1;
        }
    }
    if ascii <= other {
        return false;
    }
    let mut norm = String::with_capacity(head.len() + 1);
    normalize_into(head, LANGUAGE_CHARS, &mut norm);
    by_function_words(&norm) == Some("en")
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c) || c == '\'' || c == '$' || c == '€' || c == '£'
}

/// Calls `f` with each word feature of `text` in turn (the same word as often as it occurs).
fn for_each_word(text: &str, mut f: impl FnMut(&str)) {
    let mut word = String::new();
    let mut cjk: Vec<char> = Vec::new();
    for c in text.chars() {
        if is_cjk(c) {
            flush_word(&mut word, &mut f);
            cjk.push(c);
            continue;
        }
        if !cjk.is_empty() {
            flush_cjk(&mut cjk, &mut f);
        }
        if c.is_ascii_alphanumeric() || c == '\'' || c == '$' {
            word.push(c.to_ascii_lowercase()); // is_word_char, without the Unicode tables
        } else if is_word_char(c) {
            word.extend(c.to_lowercase());
        } else {
            flush_word(&mut word, &mut f);
        }
    }
    flush_word(&mut word, &mut f);
    flush_cjk(&mut cjk, &mut f);
}

/// Numbers by their length in digits ("n:9": nine or more).
const NUMBERS: [&str; 10] = ["n:0", "n:1", "n:2", "n:3", "n:4", "n:5", "n:6", "n:7", "n:8", "n:9"];

fn flush_word(word: &mut String, f: &mut impl FnMut(&str)) {
    let w = word.trim_matches('\'');
    let n = w.chars().count();
    if (2..=MAX_WORD_CHARS).contains(&n) {
        if w.chars().all(|c| c.is_ascii_digit()) {
            f(NUMBERS[n.min(9)]);
        } else if w.starts_with(['$', '€', '£']) && w.chars().skip(1).all(|c| c.is_ascii_digit()) {
            f("p:price");
        } else if !ETIQUETTE.contains(&w) {
            f(w);
        }
    }
    word.clear();
}

fn flush_cjk(run: &mut Vec<char>, f: &mut impl FnMut(&str)) {
    let mut bigram = String::new();
    match run.len() {
        0 => {}
        1 => f(run[0].encode_utf8(&mut [0; 4])),
        _ => {
            for pair in run.windows(2) {
                bigram.clear();
                bigram.extend(pair);
                f(&bigram);
            }
        }
    }
    run.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(f: &Features, t: &str) -> bool {
        f.contains(t)
    }

    #[test]
    fn words_are_lowercased_and_subject_words_also_marked() {
        let f = features("Where is my ORDER?", "Hello, I'm waiting since Monday.");
        assert!(has(&f, "where") && has(&f, "order") && has(&f, "s:where") && has(&f, "s:order"));
        assert!(has(&f, "waiting") && has(&f, "i'm") && has(&f, "monday"));
    }

    #[test]
    fn cjk_text_becomes_bigrams_and_umlauts_stay_words() {
        let f = features("", "我的订单 Größe");
        assert!(has(&f, "我的") && has(&f, "的订") && has(&f, "订单"));
        assert!(has(&f, "größe"));
    }

    #[test]
    fn numbers_links_and_addresses_become_shapes() {
        let f = features("", "Order 48213 at http://192.168.1.1:8080/x or mail me@example.com, only $99!!");
        assert!(has(&f, "n:5"));
        assert!(has(&f, "u:link") && has(&f, "u:ip") && has(&f, "u:port"));
        assert!(has(&f, "e:addr") && has(&f, "p:money") && has(&f, "p:!!"));
        assert!(!f.iter().any(|t| t.contains("192") || t.contains("example")));
    }

    #[test]
    fn letter_etiquette_is_not_a_feature() {
        let f = features("", "Dear Sir or Madam, kindly advise. Yours faithfully, Margaret");
        assert!(!has(&f, "dear") && !has(&f, "kindly") && !has(&f, "faithfully"));
        assert!(has(&f, "advise") && has(&f, "margaret"));
    }

    #[test]
    fn languages_are_told_with_or_without_whatlang() {
        assert_eq!(language("Hello, where is my order? I have been waiting for two weeks and it has not arrived."), Some("eng"));
        assert_eq!(language("Hallo, wo ist meine Bestellung? Ich warte seit zwei Wochen und sie ist noch nicht da."), Some("deu"));
        // English words in a Chinese text do not make it English.
        assert_eq!(language("你好，我的订单还没有到，请帮我查一下物流信息，谢谢。我很着急，这是给我妈妈的生日礼物。it is for my mom"), Some("cmn"));
    }

    #[test]
    fn shouting_subjects_are_marked() {
        assert!(has(&features("FREE MONEY NOW", ""), "s:ALLCAPS"));
        assert!(!has(&features("Free money now", ""), "s:ALLCAPS"));
    }
}
