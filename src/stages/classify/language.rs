//! Language of a message as an ISO 639-1 code.
//!
//! whatlang is good on sentences but unreliable on a few words, so: the script decides first
//! where it is unambiguous (Han → zh, kana → ja, Hangul → ko, …); Latin text goes to whatlang
//! and, when whatlang is not sure, to a vote of very common function words in the languages
//! support mail arrives in most. "en" is the last resort.

use std::collections::HashMap;
use std::sync::LazyLock;

use foldhash::fast::FixedState;

use whatlang::{Lang, Script};


/// Characters looked at: enough for a sure answer, bounded for speed.
const MAX_CHARS: usize = 600;

pub fn detect(subject: &str, body: &str) -> &'static str {
    let mut norm = String::new();
    super::text::normalized(subject, body, &mut norm);
    detect_normalized(subject, body, &norm)
}

/// `detect` for a message whose normalized text (`text::normalized`) is at hand.
pub fn detect_normalized(subject: &str, body: &str, norm: &str) -> &'static str {
    let head = super::text::head_chars(body, MAX_CHARS);
    if let Some(code) = by_script(subject.chars().chain(head.chars())) {
        return code;
    }
    // A clear vote of function words is as good as whatlang on mail, and much cheaper.
    let votes = function_word_votes(norm);
    if let Some(code) = clear_vote(&votes) {
        return code;
    }
    let mut sample = String::with_capacity(subject.len() + 1 + head.len());
    sample.push_str(subject);
    sample.push('\n');
    sample.push_str(head);
    if let Some(info) = whatlang::detect(&sample) {
        if info.is_reliable() || info.confidence() > 0.8 {
            if let Some(code) = iso639_1(info.lang()) {
                return code;
            }
        }
        if let Some(code) = decide(&votes, 2, 1) {
            return code;
        }
        if info.script() == Script::Latin {
            // Unsure and no function words: trust whatlang only for the big Latin languages,
            // and only half sure; a few bare words ("damaged item photo") stay English.
            let agrees = |c: &str| FUNCTION_WORDS.iter().position(|(l, _)| *l == c).is_some_and(|i| votes[i] > 0);
            if let Some(code) =
                iso639_1(info.lang()).filter(|c| COMMON_LATIN.contains(c) && (info.confidence() >= 0.5 || agrees(c)))
            {
                return code;
            }
        } else if let Some(code) = iso639_1(info.lang()) {
            return code;
        }
    } else if let Some(code) = decide(&votes, 2, 1) {
        return code;
    }
    "en"
}

const COMMON_LATIN: &[&str] = &["en", "de", "fr", "es", "it", "pt", "nl"];

/// Unambiguous scripts, judged by the share of their letters.
fn by_script(chars: impl Iterator<Item = char>) -> Option<&'static str> {
    let (mut han, mut kana, mut hangul, mut cyr, mut arabic, mut greek, mut hebrew, mut thai, mut letters) =
        (0u32, 0u32, 0u32, 0u32, 0u32, 0u32, 0u32, 0u32, 0u32);
    for c in chars {
        if c.is_ascii() {
            letters += c.is_ascii_alphabetic() as u32;
            continue;
        }
        if !c.is_alphabetic() {
            continue;
        }
        letters += 1;
        match c as u32 {
            0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF => han += 1,
            0x3040..=0x30FF => kana += 1,
            0xAC00..=0xD7AF | 0x1100..=0x11FF => hangul += 1,
            0x0400..=0x04FF => cyr += 1,
            0x0600..=0x06FF => arabic += 1,
            0x0370..=0x03FF => greek += 1,
            0x0590..=0x05FF => hebrew += 1,
            0x0E00..=0x0E7F => thai += 1,
            _ => {}
        }
    }
    if letters == 0 {
        return None;
    }
    let share = |n: u32| n * 5 >= letters; // 20 %: a Chinese mail with an English product name is still Chinese
    if kana > 0 && share(kana + han) {
        return Some("ja");
    }
    if share(han) {
        return Some("zh");
    }
    if share(hangul) {
        return Some("ko");
    }
    if share(greek) {
        return Some("el");
    }
    if share(hebrew) {
        return Some("he");
    }
    if share(thai) {
        return Some("th");
    }
    if share(arabic) {
        return None; // Arabic, Persian, Urdu: let whatlang tell them apart
    }
    if share(cyr) {
        return None; // Russian, Ukrainian, Bulgarian, …
    }
    None
}

const FUNCTION_WORDS: &[(&str, &[&str])] = &[
    ("en", &[
        "the", "is", "my", "i", "you", "and", "to", "have", "not", "where", "please", "order", "can", "it", "of", "a",
        "for", "this", "that", "with", "was", "are", "do", "does", "your", "we", "would", "when", "will", "thanks",
    ]),
    ("de", &[
        "ich", "ist", "und", "nicht", "mein", "meine", "die", "der", "das", "bitte", "wo", "sie", "habe", "noch", "mit",
        "ein", "eine", "zu", "auf", "fur", "den", "dem", "wie", "ihr", "ihre", "kann", "wird", "war", "hatte", "aus",
    ]),
    ("fr", &[
        "je", "est", "et", "le", "la", "les", "ma", "mon", "pas", "vous", "ou", "mes", "une", "un", "commande", "merci",
        "ce", "du", "des", "au", "avec", "pour", "sur", "elle", "il", "suis", "votre", "vos", "ai", "cette",
    ]),
    ("es", &[
        "el", "es", "y", "mi", "no", "por", "favor", "que", "la", "los", "pedido", "donde", "una", "un", "gracias", "tengo",
        "con", "para", "esta", "este", "mis", "su", "del", "al", "me", "las", "lo", "pero", "como", "cuando",
    ]),
    ("it", &["il", "non", "mio", "mia", "sono", "ho", "che", "per", "ordine", "grazie", "dove", "della", "di", "e", "un", "una"]),
    ("pt", &["o", "meu", "minha", "nao", "em", "do", "da", "com", "para", "pedido", "obrigado", "onde", "uma", "estou", "tenho", "ela", "voces"]),
    ("nl", &["ik", "het", "niet", "mijn", "een", "van", "op", "voor", "bestelling", "waar", "bedankt", "graag", "heb", "wil"]),
];

/// Each function word with a bit per language it belongs to.
/// foldhash, not SipHash: there is a lookup for every word, and a fixed table needs no
/// random seed.
static WORD_LANGS: LazyLock<HashMap<&'static str, u8, FixedState>> = LazyLock::new(|| {
    let mut m: HashMap<&'static str, u8, FixedState> = HashMap::default();
    for (i, (_, words)) in FUNCTION_WORDS.iter().enumerate() {
        for w in *words {
            *m.entry(*w).or_default() |= 1 << i;
        }
    }
    m
});

/// Counts of frequent short words per language in normalized text (its first 120 words).
fn function_word_votes(norm: &str) -> [u32; 7] {
    let mut scores = [0u32; 7];
    for w in norm.split(' ').filter(|w| !w.is_empty() && w.len() <= 10).take(120) {
        if let Some(&bits) = WORD_LANGS.get(w) {
            for (i, s) in scores.iter_mut().enumerate() {
                *s += ((bits >> i) & 1) as u32;
            }
        }
    }
    scores
}

/// The language that the function words of normalized text (`text::normalized`) plainly
/// point to, if any.
pub fn by_function_words(norm: &str) -> Option<&'static str> {
    clear_vote(&function_word_votes(norm))
}

/// A vote clear enough to be trusted without whatlang.
fn clear_vote(votes: &[u32; 7]) -> Option<&'static str> {
    decide(votes, 4, 3)
}

/// The winner of a vote with at least `min` hits and a lead of `lead` over the runner-up
/// (and twice its count when the lead is what decides alone).
fn decide(scores: &[u32; 7], min: u32, lead: u32) -> Option<&'static str> {
    let (best, &top) = scores.iter().enumerate().max_by_key(|(_, s)| **s)?;
    let second = scores.iter().enumerate().filter(|(i, _)| *i != best).map(|(_, s)| *s).max().unwrap_or(0);
    let clear = if lead > 1 { top >= 2 * second } else { true };
    (top >= min && top >= second + lead && clear).then_some(FUNCTION_WORDS[best].0)
}

/// whatlang's ISO 639-3 to ISO 639-1 (None for languages without a two-letter code).
fn iso639_1(lang: Lang) -> Option<&'static str> {
    Some(match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_in_the_main_languages() {
        for (text, want) in [
            ("Hello, my parcel has not arrived yet and I would like to know where it is.", "en"),
            ("Hallo, mein Paket ist noch nicht angekommen. Können Sie bitte nachsehen, wo es ist?", "de"),
            ("Bonjour, mon colis n'est toujours pas arrivé. Pouvez-vous vérifier où il se trouve ?", "fr"),
            ("Hola, mi paquete todavía no ha llegado. ¿Pueden decirme dónde está?", "es"),
            ("你好，我的包裹还没有到，请帮我查一下物流。", "zh"),
            ("こんにちは、注文した商品がまだ届いていません。", "ja"),
            ("Здравствуйте, моя посылка ещё не пришла.", "ru"),
        ] {
            assert_eq!(detect("", text), want, "{text}");
        }
    }

    #[test]
    fn short_texts_fall_back_sensibly() {
        assert_eq!(detect("", "退款"), "zh");
        assert_eq!(detect("", "Wo ist meine Bestellung?"), "de");
        assert_eq!(detect("", "où est ma commande"), "fr");
        assert_eq!(detect("", "¿dónde está mi pedido?"), "es");
        assert_eq!(detect("", "refund please"), "en");
        assert_eq!(detect("", ""), "en");
    }
}
