//! Text normalization and hashed features, shared by training and prediction.
//!
//! The text is lowercased and accent-folded ("Rückerstattung" and "ruckerstattung" are the
//! same word), punctuation becomes a space, and it is cut to a bounded length so a huge
//! message costs no more than a long one. Features are hashed into a fixed number of buckets:
//! words, word pairs, character 3- and 4-grams of words (typos, inflections), Chinese/Japanese
//! character uni- and bigrams (no spaces there), and the lexicon's concepts, which are the
//! same feature in every language and so carry what the model learned in English to German,
//! French, Spanish and Chinese.

use super::lexicon::{self, Hit};

/// Body characters looked at; the start of a message says what it is about.
pub const MAX_BODY_CHARS: usize = 1500;

/// Number of hash buckets (a power of two); fixed per model file.
pub const BUCKET_BITS: u32 = 18;

/// The first `n` characters of `s` (all of it when shorter). A text of at most `n` bytes has
/// at most `n` characters, so most texts need no counting.
pub fn head_chars(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Han, kana and Hangul: written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF | 0x20000..=0x2FFFF)
}

/// Lowercase ASCII form of common accented Latin letters.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' => "i",
        'ł' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ř' => "r",
        'ś' | 'š' | 'ş' => "s",
        'ß' => "ss",
        'ť' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

/// Appends the normalized form of `text` to `out`: lowercase, folded, letters, digits and
/// CJK kept, everything else a single space. At most `max_chars` input characters are read.
pub fn normalize_into(text: &str, max_chars: usize, out: &mut String) {
    let mut last_space = out.is_empty() || out.ends_with(' ');
    for c in text.chars().take(max_chars) {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
                last_space = false;
            } else if !last_space {
                out.push(' ');
                last_space = true;
            }
            continue;
        }
        if c.is_alphanumeric() {
            for lc in c.to_lowercase() {
                match fold(lc) {
                    Some(f) => out.push_str(f),
                    None => out.push(lc),
                }
            }
            last_space = false;
        } else if !last_space {
            out.push(' ');
            last_space = true;
        }
    }
    if !last_space {
        out.push(' ');
    }
}

/// The normalized subject + body, as the model and the lexicon see them.
pub fn normalized(subject: &str, body: &str, out: &mut String) {
    out.clear();
    out.push(' ');
    normalize_into(strip_reply_prefix(subject), 300, out);
    normalize_into(body, MAX_BODY_CHARS, out);
}

/// "Re: Fwd: AW: where is my order" -> "where is my order".
pub fn strip_reply_prefix(subject: &str) -> &str {
    let mut s = subject.trim_start();
    loop {
        let lower: String = s.chars().take(5).flat_map(char::to_lowercase).collect();
        let cut = [
            "re:", "fw:", "aw:", "wg:", "tr:", "sv:", "fwd:", "rv:", "antw:", "res:", "r:", "enc:", "odp:", "vs:", "回复:",
            "回复：", "回覆:", "回覆：", "答复:", "答复：", "转发:", "转发：",
        ]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(_) => {
                let idx = s.find([':', '：']).map(|i| i + s[i..].chars().next().map_or(1, char::len_utf8)).unwrap_or(s.len());
                s = s[idx..].trim_start();
            }
            None => return s,
        }
    }
}

/// FNV-1a over bytes, started from a per-kind seed.
#[inline]
fn fnv(seed: u32, bytes: &[u8]) -> u32 {
    let mut h = 0x811c_9dc5u32 ^ seed.wrapping_mul(0x0100_0193);
    for &b in bytes {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

#[inline]
fn bucket(h: u32) -> u32 {
    // Fibonacci hashing spreads FNV's low-bit bias before taking the top bits.
    h.wrapping_mul(0x9E37_79B9) >> (32 - BUCKET_BITS)
}

const K_WORD: u32 = 1;
const K_PAIR: u32 = 2;
const K_GRAM: u32 = 3;
const K_CJK1: u32 = 4;
const K_CJK2: u32 = 5;
const K_CONCEPT: u32 = 6;
const K_NUM: u32 = 7;

/// Reusable buffers for feature extraction (no allocation per message once warm).
#[derive(Default)]
pub struct FeatureBuf {
    pub norm: String,
    pub buckets: Vec<u32>,
    pub tags: Vec<Hit>,
    gram: Vec<u8>,
    starts: Vec<usize>,
}

impl FeatureBuf {
    /// Fills `buckets` (and `tags`, the lexicon concepts found) for a message.
    pub fn extract(&mut self, subject: &str, body: &str) {
        normalized(subject, body, &mut self.norm);
        self.buckets.clear();
        self.tags.clear();
        lexicon::scan(&self.norm, &mut self.tags);
        for t in &self.tags {
            self.buckets.push(bucket(fnv(K_CONCEPT, t.tag.name().as_bytes())));
        }
        let norm = std::mem::take(&mut self.norm);
        self.words(&norm);
        self.norm = norm;
    }

    fn words(&mut self, norm: &str) {
        let mut prev: Option<u32> = None;
        for raw in norm.split(' ') {
            if raw.is_empty() {
                continue;
            }
            if raw.is_ascii() {
                prev = Some(self.word(raw, prev)); // most words: no script to split
                continue;
            }
            // A token may mix scripts ("订单123"): split CJK runs from the rest.
            let mut rest = raw;
            while !rest.is_empty() {
                let first = rest.chars().next().unwrap_or(' ');
                let cjk = is_cjk(first);
                let end = rest.char_indices().find(|(_, c)| is_cjk(*c) != cjk).map(|(i, _)| i).unwrap_or(rest.len());
                let (part, tail) = rest.split_at(end);
                rest = tail;
                if cjk {
                    self.cjk_run(part);
                    prev = None;
                } else {
                    prev = Some(self.word(part, prev));
                }
            }
        }
    }

    fn word(&mut self, w: &str, prev: Option<u32>) -> u32 {
        if w.bytes().any(|b| b.is_ascii_digit()) {
            let h = fnv(K_NUM, b"#");
            self.buckets.push(bucket(h));
            return h;
        }
        let h = fnv(K_WORD, w.as_bytes());
        self.buckets.push(bucket(h));
        if let Some(p) = prev {
            self.buckets.push(bucket((p.rotate_left(13) ^ h ^ K_PAIR).wrapping_mul(0x85EB_CA6B)));
        }
        // Character 3- and 4-grams of "<word>" (typos, inflections); short words are covered by the word itself.
        if w.len() >= 4 && w.len() <= 40 {
            self.gram.clear();
            self.gram.push(b'<');
            self.gram.extend_from_slice(w.as_bytes());
            self.gram.push(b'>');
            self.starts.clear();
            self.starts.extend((0..self.gram.len()).filter(|&i| !is_continuation(self.gram[i])));
            self.starts.push(self.gram.len());
            let chars = self.starts.len() - 1;
            for n in [3usize, 4] {
                for k in 0..chars.saturating_sub(n - 1) {
                    let (s, e) = (self.starts[k], self.starts[k + n]);
                    self.buckets.push(bucket(fnv(K_GRAM + n as u32 * 16, &self.gram[s..e])));
                }
            }
        }
        h
    }

    fn cjk_run(&mut self, run: &str) {
        let mut prev: Option<&str> = None;
        for (i, c) in run.char_indices() {
            let ch = &run[i..i + c.len_utf8()];
            self.buckets.push(bucket(fnv(K_CJK1, ch.as_bytes())));
            if let Some(p) = prev {
                let start = i - p.len();
                self.buckets.push(bucket(fnv(K_CJK2, run[start..i + c.len_utf8()].as_bytes())));
            }
            prev = Some(ch);
        }
    }
}

#[inline]
fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut out = String::new();
        normalized("", s, &mut out);
        out
    }

    #[test]
    fn normalization_lowercases_folds_and_splits() {
        assert_eq!(norm("Rückerstattung, BITTE!! Où est-il?"), " ruckerstattung bitte ou est il ");
        assert_eq!(norm("I don't know l'adresse"), " i don t know l adresse ");
        assert_eq!(norm("我的订单在哪里？"), " 我的订单在哪里 ");
    }

    #[test]
    fn heads_are_cut_at_characters() {
        assert_eq!(head_chars("Größe", 3), "Grö");
        assert_eq!(head_chars("订单号", 2), "订单");
        assert_eq!(head_chars("abc", 5), "abc");
    }

    #[test]
    fn reply_prefixes_are_stripped() {
        assert_eq!(strip_reply_prefix("Re: AW: Fwd: where is my order"), "where is my order");
        assert_eq!(strip_reply_prefix("回复：退款"), "退款");
        assert_eq!(strip_reply_prefix("Return label"), "Return label");
        // Dutch, Portuguese, Italian and traditional-Chinese clients' prefixes too.
        assert_eq!(strip_reply_prefix("Antw: RES: R: 回覆：Lieferung"), "Lieferung");
        assert_eq!(strip_reply_prefix("Rückgabe"), "Rückgabe");
    }

    #[test]
    fn typos_share_most_features() {
        let mut a = FeatureBuf::default();
        let mut b = FeatureBuf::default();
        a.extract("", "refund");
        b.extract("", "refnud");
        let shared = a.buckets.iter().filter(|x| b.buckets.contains(x)).count();
        assert!(shared >= 2, "{:?} {:?}", a.buckets, b.buckets);
        assert!(a.buckets.iter().all(|&x| x < 1 << BUCKET_BITS));
    }

    #[test]
    fn chinese_gets_character_features_and_concepts() {
        let mut f = FeatureBuf::default();
        f.extract("", "我要退款");
        assert!(f.tags.iter().any(|t| t.tag.name() == "refund"), "{:?}", f.tags);
        assert!(f.buckets.len() >= 4 + 3);
    }

    #[test]
    fn long_text_is_bounded() {
        let mut f = FeatureBuf::default();
        let long = "word ".repeat(100_000);
        f.extract("", &long);
        assert!(f.buckets.len() < 2 * MAX_BODY_CHARS);
    }
}
