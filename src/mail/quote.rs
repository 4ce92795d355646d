//! `text_new`: the part of a message its sender just wrote.
//!
//! Cuts at the first reply header ("On … wrote:", "Am … schrieb …:", "Le … a écrit :",
//! "El … escribió:", "在 … 写道：", Outlook's "-----Original Message-----" and "From:/Sent:"
//! blocks), drops `>` quoted lines, and cuts signatures ("-- ", "Sent from my iPhone", …) and
//! legal disclaimers. Covers English, German, French, Spanish, Italian, Portuguese, Dutch and Chinese.

use std::sync::LazyLock;

use regex::Regex;

/// The forms of a line that starts the quoted history, on its own, each with a word it cannot
/// match without (lower case). A line is tried only against the forms whose word it has, and
/// each form is compiled the first time one is: all of them in one regex took some 13 ms to
/// compile (their bounded `.{1,250}` gaps), more than a command spends on a few hundred
/// messages.
static REPLY_HEADERS: [(&str, LazyLock<Regex>); 12] = [
    ("wrote", LazyLock::new(|| reply_form(r"on\s.{1,250}\swrote:?"))), // English
    ("schrieb", LazyLock::new(|| reply_form(r"am\s.{1,250}\sschrieb.{0,120}:"))), // German
    ("crit", LazyLock::new(|| reply_form(r"le\s.{1,250}\sa\s+[ée]crit\s*:"))), // French
    ("escribi", LazyLock::new(|| reply_form(r"el\s.{1,250}\sescribi[óo]\s*:"))), // Spanish
    ("scritto", LazyLock::new(|| reply_form(r"il\s.{1,250}\sha\s+scritto\s*:"))), // Italian
    ("escreveu", LazyLock::new(|| reply_form(r"em\s.{1,250}\sescreveu\s*:"))), // Portuguese
    ("schreef", LazyLock::new(|| reply_form(r"op\s.{1,250}\sschreef.{0,120}:"))), // Dutch
    ("写道", LazyLock::new(|| reply_form(r".{0,250}写道\s*[：:]?"))), // Chinese: 在 … 写道：
    ("寫道", LazyLock::new(|| reply_form(r".{0,250}寫道\s*[：:]?"))),
    (
        "--",
        LazyLock::new(|| {
            reply_form(
                r"-{2,}\s*(?:original\s+message|ursprüngliche\s+nachricht|message\s+d'origine|mensaje\s+original
                  |messaggio\s+originale|mensagem\s+original|oorspronkelijk\s+bericht)\s*-{2,}",
            )
        }),
    ),
    ("原始邮件", LazyLock::new(|| reply_form(r"-{3,}\s*原始邮件\s*-{3,}"))),
    ("---", LazyLock::new(|| reply_form(r"-{3,}\s*(?:forwarded\s+message|weitergeleitete\s+nachricht)\s*-{3,}"))),
];

/// One form of reply header as a regex for a whole line.
fn reply_form(form: &str) -> Regex {
    Regex::new(&format!(r"(?xi)^\s*(?:{form})\s*$")).expect("reply header regex")
}

/// `line` is a reply header in one of the `REPLY_HEADERS` forms.
fn matches_reply_form(line: &str) -> bool {
    // Folded as the regexes' case-insensitive matching folds: the long s is an s to them.
    let folded = line.to_lowercase().replace('ſ', "s");
    REPLY_HEADERS.iter().any(|(word, re)| folded.contains(word) && re.is_match(line))
}

/// The first line of an Outlook-style header block ("From: x" followed by "Sent:"/"Date:").
static OUTLOOK_FROM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*\*?(?:from|von|de|da|van|发件人|寄件者)\s*\*?\s*[:：]").expect("outlook from regex")
});
static OUTLOOK_NEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*\*?(?:sent|date|to|subject|gesendet|datum|an|betreff|envoy[ée]|[àa]|objet|enviado|fecha|para|asunto|inviato|data|oggetto|verzonden|aan|onderwerp|发送时间|时间|收件人|主题|日期)\s*\*?\s*[:：]",
    )
    .expect("outlook next regex")
});

/// A line that starts a signature or a mobile footer.
static SIGNATURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)^\s*(?:
            --\s*
          | _{10,}
          | sent\s+from\s+my\s.{0,40}
          | sent\s+from\s+(?:outlook|mail|yahoo\s+mail|gmail).{0,40}
          | get\s+outlook\s+for\s.{0,20}
          | von\s+meinem\s.{0,40}\s+gesendet
          | gesendet\s+von\s+meinem\s.{0,40}
          | envoy[ée]\s+de\s+mon\s.{0,40}
          | enviado\s+desde\s+mi\s.{0,40}
          | inviato\s+da(?:l\s+mio)?\s.{0,40}
          | enviado\s+do\s+meu\s.{0,40}
          | 发自我的.{0,20}
          | 从我的.{0,20}发送
        )\s*$",
    )
    .expect("signature regex")
});

/// A line that starts a legal footer.
static DISCLAIMER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:confidentiality\s+notice|disclaimer\s*:|this\s+e-?mail\s+(?:and\s+any\s+attachments|is\s+confidential|may\s+contain)|the\s+information\s+(?:contained\s+)?in\s+this\s+(?:e-?mail|message)|diese\s+e-?mail\s+(?:enthält|kann)|ce\s+message\s+(?:et\s+ses\s+pièces|est\s+confidentiel)|este\s+mensaje\s+(?:y\s+sus\s+anexos|es\s+confidencial))",
    )
    .expect("disclaimer regex")
});

/// The new part of `text`: no quoted history, no signature, no disclaimer.
pub fn new_part(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = String::with_capacity(text.len());
    for (i, &line) in lines.iter().enumerate() {
        if is_reply_header(&lines, i) || is_signature(line) || is_disclaimer(line) {
            break;
        }
        if !line.trim_start().starts_with('>') {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    let top = kept.trim();
    if top.is_empty() {
        // Bottom-posted or inline answers: the sender's words are below or between the quotes.
        return own_lines(text).join("\n").trim().to_string();
    }
    top.to_string()
}

/// True when `text` has words of the sender's own outside quoted lines, attribution lines,
/// signatures and disclaimers: also below or between quotes (bottom-posting, inline answers).
/// Unquoted history after an Outlook-style header block or an "Original Message" line is not
/// counted.
pub fn has_own_text(text: &str) -> bool {
    !own_lines(text).is_empty()
}

/// The sender's own lines anywhere in `text`: above, between and below quotes.
fn own_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let mut own = Vec::new();
    let mut in_footer = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        i += 1;
        if t.starts_with('>') {
            in_footer = false;
            continue;
        }
        if is_reply_header(&lines, i - 1) {
            if OUTLOOK_FROM.is_match(line) || t.contains("---") {
                // Unmarked history follows, unless the history below is `>`-quoted and
                // answered between the quotes: then skip only the header block.
                if !lines[i..].iter().any(|l| l.trim_start().starts_with('>')) {
                    return own;
                }
                while i < lines.len() && !lines[i].trim().is_empty() && !lines[i].trim_start().starts_with('>') {
                    i += 1;
                }
                continue;
            }
            if !(may_be_reply_header(line) && matches_reply_form(line)) {
                i += 1; // the attribution wrapped onto the next line
            }
            continue;
        }
        // A rule of underscores often only separates the reply from the quote: not a footer here.
        if (is_signature(line) && !t.starts_with('_')) || is_disclaimer(line) {
            in_footer = true;
            continue;
        }
        if !in_footer && (t.chars().any(char::is_alphanumeric) || (!own.is_empty() && t.is_empty())) {
            own.push(line);
        }
    }
    while own.last().is_some_and(|l| l.trim().is_empty()) {
        own.pop();
    }
    own
}

/// Words one of which every reply header contains: a cheap test before the regex.
const REPLY_MARKERS: &[&str] = &[
    "rote", "ROTE", "schrieb", "crit", "escribi", "scritto", "escreveu", "schreef", "写道", "寫道", "---", "原始邮件",
];

/// All markers in one pass over the line (a search per marker was 3 % of parsing a message).
static REPLY_MARKER: LazyLock<aho_corasick::AhoCorasick> =
    LazyLock::new(|| aho_corasick::AhoCorasick::new(REPLY_MARKERS).expect("reply markers"));

fn may_be_reply_header(line: &str) -> bool {
    line.len() < 600 && ends_like_reply_header(line) && REPLY_MARKER.is_match(line)
}

/// Every form in `REPLY_HEADERS` ends, before trailing white space, with one of these: "wrote",
/// a colon, "写道" or a rule of dashes. Most lines end otherwise and need no marker search.
fn ends_like_reply_header(line: &str) -> bool {
    matches!(line.trim_end().chars().next_back(), Some(':' | '：' | 'e' | 'E' | '道' | '-'))
}

/// The characters that may open, after white space, a signature line (`SIGNATURE`), a legal
/// footer (`DISCLAIMER`) and an Outlook "From:" line (`OUTLOOK_FROM`), as ASCII lower case:
/// a line that opens with another ASCII character is not asked. Non-ASCII is always asked
/// (the Chinese forms, and the few characters Unicode case folding maps to ASCII, ſ to s).
const SIGNATURE_OPENERS: &[u8] = b"-_sgvei";
const DISCLAIMER_OPENERS: &[u8] = b"cdte";
const OUTLOOK_FROM_OPENERS: &[u8] = b"*fvd";

/// Signature markers are short lines.
fn is_signature(line: &str) -> bool {
    line.len() < 120 && may_open_with(line, SIGNATURE_OPENERS) && SIGNATURE.is_match(line)
}

fn is_disclaimer(line: &str) -> bool {
    may_open_with(line, DISCLAIMER_OPENERS) && DISCLAIMER.is_match(line)
}

/// Whether the first character after leading white space (`\s` as the regexes see it) may be
/// one of `openers`, case-insensitively.
fn may_open_with(line: &str, openers: &[u8]) -> bool {
    match line.bytes().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) {
        None => false,
        Some(b) => !b.is_ascii() || openers.contains(&b.to_ascii_lowercase()),
    }
}

fn is_reply_header(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    if may_be_reply_header(line) && matches_reply_form(line) {
        return true;
    }
    // "On Mon, 3 Nov 2026 at 10:00, Jane Doe <\njane@example.com> wrote:" wraps over two lines.
    if let Some(next) = lines.get(i + 1) {
        let opens = line.trim_start().as_bytes().get(..3).is_some_and(|p| {
            [b"on ", b"am ", b"le ", b"el "].iter().any(|w| p.eq_ignore_ascii_case(*w))
        });
        if opens
            && line.len() < 200
            && may_be_reply_header(next)
            && matches_reply_form(&format!("{} {}", line.trim_end(), next.trim()))
        {
            return true;
        }
    }
    // Most lines have no colon: no need to ask the regex.
    if may_open_with(line, OUTLOOK_FROM_OPENERS)
        && (line.contains(':') || line.contains('：'))
        && OUTLOOK_FROM.is_match(line)
    {
        let following = lines[i + 1..].iter().take(4).filter(|l| OUTLOOK_NEXT.is_match(l)).count();
        return following >= 2;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_reply_and_quotes_are_removed() {
        let t = "Yes, it is #1234.\n\nOn Mon, 3 Nov 2026 at 10:00, Support <support@shop.example> wrote:\n> What is your order number?\n> Thanks";
        assert_eq!(new_part(t), "Yes, it is #1234.");
    }

    #[test]
    fn wrapped_english_header_is_found() {
        let t = "Thanks!\nOn Mon, 3 Nov 2026 at 10:00, Support Team <\nsupport@shop.example> wrote:\n> old";
        assert_eq!(new_part(t), "Thanks!");
    }

    #[test]
    fn other_languages() {
        for (t, want) in [
            ("Danke.\nAm 03.11.2026 um 10:00 schrieb Support <s@x.de>:\n> alt", "Danke."),
            ("Merci.\nLe lun. 3 nov. 2026 à 10:00, Support <s@x.fr> a écrit :\n> ancien", "Merci."),
            ("Gracias.\nEl lun, 3 nov 2026 a las 10:00, Support (<s@x.es>) escribió:\n> viejo", "Gracias."),
            ("谢谢。\n在 2026年11月3日 10:00，Support <s@x.cn> 写道：\n> 旧", "谢谢。"),
            ("Grazie.\nIl giorno lun 3 nov 2026 Support ha scritto:\n> vecchio", "Grazie."),
            ("Obrigado.\nEm seg., 3 de nov. de 2026 às 10:00, Support <s@x.pt> escreveu:\n> antigo", "Obrigado."),
            ("Bedankt.\nOp ma 3 nov. 2026 om 10:00 schreef Support <s@x.nl>:\n> oud", "Bedankt."),
            ("Danke.\n---------- Weitergeleitete Nachricht ----------\nVon: x", "Danke."),
        ] {
            assert_eq!(new_part(t), want, "{t}");
        }
    }

    #[test]
    fn outlook_blocks_are_cut() {
        let t = "Please see below.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: x\n\nold text";
        assert_eq!(new_part(t), "Please see below.");
        let t2 = "New text\n\nFrom: Support <s@shop.example>\nSent: Monday, November 3, 2026 10:00 AM\nTo: Jane\nSubject: Re: order\n\nold";
        assert_eq!(new_part(t2), "New text");
        let t3 = "Neu\n\nVon: Support <s@shop.example>\nGesendet: Montag\nAn: Jane\nBetreff: x\n\nalt";
        assert_eq!(new_part(t3), "Neu");
    }

    #[test]
    fn a_line_starting_with_from_in_prose_is_kept() {
        let t = "From: my point of view the box was fine.\nBut the cup was broken.";
        assert_eq!(new_part(t), t);
    }

    #[test]
    fn signatures_and_disclaimers_are_cut() {
        assert_eq!(new_part("Hello\n-- \nJane Doe\nCEO"), "Hello");
        assert_eq!(new_part("Where is it?\n\nSent from my iPhone"), "Where is it?");
        assert_eq!(new_part("Wo ist es?\nVon meinem iPhone gesendet"), "Wo ist es?");
        assert_eq!(new_part("在哪里？\n发自我的iPhone"), "在哪里？");
        assert_eq!(
            new_part("Refund please.\n\nCONFIDENTIALITY NOTICE: This e-mail is for the addressee only."),
            "Refund please."
        );
    }

    #[test]
    fn own_text_is_found_below_and_between_quotes() {
        assert!(has_own_text("On Mon, Support wrote:\n> Where to?\n\nMain St 1, please."));
        assert!(has_own_text("> q1\nanswer one\n> q2"));
        assert!(!has_own_text("On Mon, 3 Nov 2026 at 10:00, Support Team <\nsupport@shop.example> wrote:\n> old"));
        assert!(!has_own_text("On Mon, Support wrote:\n> old\n-- \nJane Doe\nACME Ltd"));
        assert!(!has_own_text("-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: x\n\nold text"));
        assert!(has_own_text("----- Original Message -----\nFrom: Support\nSent: Monday\n\n> old question?\nmy answer"));
        assert!(!has_own_text(""));
    }

    #[test]
    fn bottom_posted_answers_are_the_new_part() {
        assert_eq!(new_part("On Mon, Support wrote:\n> Where to?\n\nMain St 1, please.\n-- \nJane"), "Main St 1, please.");
        assert_eq!(new_part("> q1\nanswer one\n> q2\nanswer two"), "answer one\nanswer two");
        assert_eq!(new_part("-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: x\n\nold text"), "");
    }

    #[test]
    fn the_cheap_tests_never_hide_a_line_the_regexes_match() {
        // Lines each regex matches, with the case, white space and folding a plain ASCII test
        // would miss, and lines that merely look alike.
        let lines = [
            "-- ", "  --", "__________", "Sent from my iPhone", "SENT FROM MY PHONE", "\u{a0}sent from Outlook",
            "\u{2003}Sent from my iPhone", "ſent from my iPad", "Get Outlook for Android", "gEt outlook for iOS",
            "Von meinem iPhone gesendet", "Gesendet von meinem Handy", "Envoyé de mon iPhone", "Enviado desde mi móvil",
            "Inviato dal mio iPhone", "Enviado do meu celular", "发自我的iPhone", "从我的手机发送",
            "CONFIDENTIALITY NOTICE: private", "Disclaimer: none", "This e-mail and any attachments are private",
            "\x0bthis email is confidential", "The information contained in this message", "Diese E-Mail enthält",
            "Ce message et ses pièces jointes", "Este mensaje es confidencial", "From: Support", "*From:* Support",
            "  von: x", "De : x", "Da: x", "Van: x", "发件人: x", "寄件者：x", "\u{3000}发件人：x",
            "The box was broken.", "Sentence one.", "get it?", "- item", "_x", "", "   ", "Ce", "ſ", "from here",
            "On Mon, Jane <j@x.example> wrote:", "on monday jane WROTE", "Am 3.11. schrieb Jane:\u{a0}",
            "Le lun. 3 nov., Jane a écrit :", "在 2026年11月3日 Jane 写道", "在 2026年11月3日 Jane 寫道：",
            "-----Original Message-----", "----- 原始邮件 -----", "---------- Forwarded message ----------  ",
            "I wrote this myself.", "we wrote", "notes:", "-----",
        ];
        for line in lines {
            assert_eq!(is_signature(line), line.len() < 120 && SIGNATURE.is_match(line), "{line:?}");
            assert_eq!(is_disclaimer(line), DISCLAIMER.is_match(line), "{line:?}");
            let outlook = may_open_with(line, OUTLOOK_FROM_OPENERS) && (line.contains(':') || line.contains('：'));
            assert_eq!(outlook && OUTLOOK_FROM.is_match(line), OUTLOOK_FROM.is_match(line), "{line:?}");
            let by_marker = line.len() < 600 && REPLY_MARKER.is_match(line) && matches_reply_form(line);
            assert_eq!(may_be_reply_header(line) && matches_reply_form(line), by_marker, "{line:?}");
        }
        assert!(is_signature("ſent from my iPad") && is_signature("\u{2003}Sent from my iPhone"));
        assert!(matches_reply_form("on monday jane WROTE") && matches_reply_form("在 2026年11月3日 Jane 写道"));
    }

    #[test]
    fn only_quotes_gives_empty() {
        assert_eq!(new_part("> old\n> older"), "");
        assert_eq!(new_part(""), "");
    }
}
