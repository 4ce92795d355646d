//! Test mail: "test", "testing 123", "please ignore" — someone checking that mail arrives.
//!
//! A message is test mail when its subject and new text say nothing but that. A customer
//! who writes "Test" as the subject and then asks a real question is not test mail. From the
//! team's own domains the rule is looser: a short note that mentions testing is enough.

/// Words that mark a test.
const TEST_WORDS: &[&str] = &[
    "test", "tests", "testing", "tested", "testmail", "testmessage", "test123", "prueba", "probando", "teste",
    "testando", "essai", "prova", "testbericht", "testnachricht", "测试", "測試", "测试邮件", "測試郵件", "テスト", "ping",
];

/// Words that may surround a test word without making it a message.
const FILLER: &[&str] = &[
    "a", "an", "the", "this", "is", "just", "only", "please", "pls", "plz", "ignore", "disregard", "it", "me",
    "mail", "email", "e-mail", "message", "msg", "hi", "hello", "hey", "again", "sorry", "new", "one", "two",
    "three", "1", "2", "3", "12", "123", "1234", "12345", "abc", "from", "for", "of", "to", "alias", "address",
    "inbox", "mailbox", "forwarding", "forward", "setup", "set", "up", "check", "checking", "if", "works",
    "working", "does", "do", "you", "get", "receive", "received", "and", "nur", "ein", "eine", "bitte",
    "ignorieren", "un", "une", "de", "merci", "ignorer", "por", "favor", "ignorar", "correo", "mensaje",
    "ok", "thanks", "thx", "esto", "es", "una", "ist", "das", "est", "ceci", "c'est", "1-2-3", "asdf", "qwerty", "邮件", "请忽略", "忽略", "send", "sent", "sending",
];

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| c.is_whitespace() || ",.;:!?()[]\"'-_/…。，！？".contains(c))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Longest test phrase, in words.
const MAX_PHRASE_WORDS: usize = 16;

/// The text says nothing but "test" (and filler); empty text is not a test phrase.
pub fn is_test_phrase(text: &str) -> bool {
    // One word past the longest phrase says enough: a long text is never read to its end.
    let w: Vec<String> = words(text).take(MAX_PHRASE_WORDS + 1).collect();
    !w.is_empty()
        && w.len() <= MAX_PHRASE_WORDS
        && w.iter().any(|w| TEST_WORDS.contains(&w.as_str()))
        && w.iter().all(|w| TEST_WORDS.contains(&w.as_str()) || FILLER.contains(&w.as_str()))
}

fn mentions_test(text: &str) -> bool {
    words(text).any(|w| TEST_WORDS.contains(&w.as_str()))
}

/// Strips reply and forward prefixes ("Re:", "Fwd:", "AW:", …).
pub fn bare_subject(subject: &str) -> &str {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let cut = ["re:", "fw:", "fwd:", "aw:", "wg:", "tr:", "rv:", "sv:", "vs:", "antw:", "r:", "回复:", "回复：", "转发:", "转发："]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => s = s[n..].trim_start(),
            None => return s,
        }
    }
}

/// Why this is test mail, or None. `own_domain` is true when the sender is on the team's
/// own domains.
pub fn test_reason(subject: &str, text_new: &str, own_domain: bool, has_attachments: bool) -> Option<String> {
    let subject = bare_subject(subject);
    let body = text_new.trim();
    if has_attachments {
        return None;
    }
    // "Testing – is this address working?" may be someone about to write for real.
    if body.contains('?') && !own_domain {
        return None;
    }
    let subject_ok = subject.is_empty() || is_test_phrase(subject);
    let body_ok = body.is_empty() || is_test_phrase(body);
    if subject_ok && body_ok && (is_test_phrase(subject) || is_test_phrase(body)) {
        return Some(format!("test mail: says only \"{}\"", short(if body.is_empty() { subject } else { body })));
    }
    if own_domain && (mentions_test(subject) || mentions_test(body)) && body.chars().count() <= 300 && !body.contains('?') {
        return Some("test mail from the team's own domain".into());
    }
    None
}

fn short(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 60 { format!("{}…", one_line.chars().take(60).collect::<String>()) } else { one_line }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tests_are_test_mail() {
        assert!(test_reason("test", "test", false, false).is_some());
        assert!(test_reason("Testing 123", "", false, false).is_some());
        assert!(test_reason("", "Test - please ignore", false, false).is_some());
        assert!(test_reason("Prueba", "esto es una prueba", false, false).is_some());
        assert!(test_reason("Prueba", "esto es una prueba de mi pedido roto", false, false).is_none());
        assert!(test_reason("测试", "测试邮件", false, false).is_some());
        // Sixteen words at most.
        assert!(is_test_phrase(&"test ".repeat(16)));
        assert!(!is_test_phrase(&"test ".repeat(17)));
    }

    #[test]
    fn a_customer_who_writes_test_with_a_question_passes() {
        assert!(test_reason("Test", "Is this address working? My order 4411 has not arrived.", false, false).is_none());
        assert!(test_reason("test results of your kettle", "The kettle failed my test, it leaks.", false, false).is_none());
        assert!(test_reason("Re: test", "", false, true).is_none(), "attachment");
        assert!(test_reason("test", "Testing, is this address working?", false, false).is_none());
        assert!(test_reason("", "", false, false).is_none(), "blank is not test");
    }

    #[test]
    fn the_own_domain_rule_is_looser_but_not_for_questions() {
        let body = "Testing the new alias after the DNS change, nothing to do here.";
        assert!(test_reason("alias check", body, true, false).is_some());
        assert!(test_reason("alias check", body, false, false).is_none());
        assert!(test_reason("test", "Can you check the refund for order 55?", true, false).is_none());
    }

    #[test]
    fn prefixes_are_stripped() {
        assert_eq!(bare_subject("Re: AW: Fwd: hello"), "hello");
        assert_eq!(bare_subject("Reply needed"), "Reply needed");
    }
}
