//! Mass mail recognised by its footer: the unsubscribe and "you receive this because" lines
//! that newsletters and spam carry. Only the sender's own new text is read, so a customer
//! who quotes or forwards one of our newsletters is not mistaken for it, and a customer who
//! asks to be unsubscribed writes a request, not a footer.

use std::sync::LazyLock;

use regex::Regex;

static FOOTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        to\s+(?:be\s+)?remove[d]?\s+(?:yourself\s+|your\s+(?:e-?mail\s+)?(?:address\s+)?)?from\s+(?:this|our|the|all|future)\s+(?:\w+\s+){0,2}(?:list|mailings?|e-?mails?|database)
      | (?:click|go|visit)(?-u:\b).{0,40}(?-u:\b)to\s+(?:be\s+)?(?:unsubscribe|removed|opt[-\s]?out)
      | to\s+be\s+removed(?-u:\b).{0,20}(?-u:\b)click(?-u:\b)
      | if\s+you\s+(?:would\s+(?:not\s+)?like|wish|want|prefer)\s+(?:not\s+)?to\s+(?:be\s+removed|unsubscribe|opt[-\s]?out|no\s+longer\s+receive|stop\s+receiving)
      | (?:you\s+)?(?:no\s+longer\s+wish|do\s+not\s+wish|don't\s+wish)\s+to\s+receive
      | you\s+(?:are\s+)?(?:receiving|received)\s+this\s+(?:e-?mail|message|newsletter|mailing)\s+because
      | this\s+(?:e-?mail|message)\s+(?:was|is\s+being)\s+sent\s+to\s+\S+\s+because
      | to\s+unsubscribe(?-u:\b).{0,20}(?-u:\b)(?:click|visit|send|reply|go|follow)
      | (?-u:\b)unsubscribe\s+(?:here|link|below|instantly|at\s+any\s+time)(?-u:\b) | (?-u:\b)opt[-\s]?out\s+(?:here|below|instructions|link)
      | abmelden\s+(?:können|hier)|vom\s+newsletter\s+abmelden|newsletter\s+abbestellen
      | se\s+d[ée]sinscrire|d[ée]sabonner|darse\s+de\s+baja|cancelar\s+(?:la\s+)?suscripci[óo]n|annulla\s+iscrizione
      | 退订 | 取消订阅",
    )
    .expect("footer regex")
});

/// A first-person word, where a question in the first person starts (`asks_in_first_person`).
static FIRST_PERSON_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:i|i'm|i've|my|me|mine|ich|mein\w*|mir|mich|je|j'ai|mon|ma|mes|yo|mi|mis|io|il\s+mio|la\s+mia|ik|mijn|eu|meu|minha)(?-u:\b)|我",
    )
    .expect("first-person word regex")
});

/// A question in the first person: "where is my parcel?", "can I return it?": a first-person
/// word, then a question mark within the same sentence, at most 200 characters on (80 after
/// 我). Scanned here rather than written `[^.!?\n]{0,200}[?？]` in the pattern, which made it
/// the costliest pattern of the filter to compile (~1.4 ms in every process).
fn asks_in_first_person(text: &str) -> bool {
    FIRST_PERSON_WORD.find_iter(text).any(|word| {
        let (limit, sentence_ends): (usize, &[char]) =
            if word.as_str() == "我" { (80, &['。', '！', '\n']) } else { (200, &['.', '!', '\n']) };
        // "I" matched first; the pattern also allowed "I'm" and "I've", counted from their end.
        let mut rest = &text[word.end()..];
        if word.as_str().eq_ignore_ascii_case("i") {
            for tail in ["'m", "'ve"] {
                if rest.get(..tail.len()).is_some_and(|t| t.eq_ignore_ascii_case(tail)) {
                    rest = &rest[tail.len()..];
                    break;
                }
            }
        }
        for (i, c) in rest.chars().enumerate() {
            if c == '?' || c == '？' {
                return true;
            }
            if i >= limit || sentence_ends.contains(&c) {
                return false;
            }
        }
        false
    })
}

/// The footer line that marks `text_new` as mass mail, if any. A sentence that asks
/// ("where do I click to unsubscribe?") is a person, not a footer; and so is a message with
/// a first-person question above its footer, as marketplaces and web forms relay customers'
/// messages with opt-out lines of their own.
pub fn footer(text_new: &str) -> Option<String> {
    let m = FOOTER.find_iter(text_new).find(|m| !ends_in_question(&text_new[m.end()..]))?;
    if asks_in_first_person(&text_new[..m.start()]) {
        return None;
    }
    Some(m).map(|m| {
        let s: String = m.as_str().split_whitespace().collect::<Vec<_>>().join(" ");
        format!("mass-mail footer (\"{}\")", s.chars().take(60).collect::<String>())
    })
}

fn ends_in_question(rest: &str) -> bool {
    rest.chars().find(|c| matches!(c, '.' | '!' | '?' | '\n' | '？' | '。')).is_some_and(|c| c == '?' || c == '？')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newsletter_footers_are_found() {
        for t in [
            "Big sale!\nTo be removed from this list, click here.",
            "Offer\nIf you no longer wish to receive these emails, unsubscribe here.",
            "News\nYou are receiving this email because you signed up at shop.example.",
            "Angebot\nHier können Sie sich vom Newsletter abmelden.",
            "Live now!\nTo be removed please click here or simply respond to this email.",
            "Tired of paying too much for cable?\nTo be removed from this list, click here.",
        ] {
            assert!(footer(t).is_some(), "{t}");
        }
    }

    #[test]
    fn a_first_person_question_ends_in_its_own_sentence_within_reach() {
        assert!(asks_in_first_person("Where is my parcel?"));
        assert!(asks_in_first_person("Can I return it？"));
        assert!(asks_in_first_person("我的包裹在哪里？"));
        assert!(!asks_in_first_person("My parcel came. Is it nice?"), "the question is another sentence");
        assert!(!asks_in_first_person("Is it nice?"), "no first-person word");
        assert!(!asks_in_first_person("mine is late"), "no question mark");
        let far = format!("my {}?", "x".repeat(197));
        assert!(asks_in_first_person(&far), "200 characters after the word are within reach");
        assert!(!asks_in_first_person(&format!("my {}?", "x".repeat(200))), "201 are not");
        assert!(!asks_in_first_person(&format!("我{}?", "好".repeat(81))));
        assert!(asks_in_first_person(&format!("我{}?", "好".repeat(80))));
        assert!(asks_in_first_person(&format!("I've {}?", "x".repeat(199))), "counted from the end of I've");
    }

    #[test]
    fn a_customer_asking_to_unsubscribe_is_not_a_footer() {
        for t in [
            "Please unsubscribe me from your newsletter, I get too many mails.",
            "Bitte melden Sie mich ab. Wo ist meine Bestellung?",
            "I was removed from the delivery list by mistake, my parcel never came.",
            "Where do I click to unsubscribe? I never signed up.",
            "Can you reply to confirm? I want to unsubscribe.",
            "Message from buyer: Where is my package? It is late.\n\nIf you would rather not receive these e-mails, opt-out here.",
        ] {
            assert!(footer(t).is_none(), "{t}");
        }
    }
}
