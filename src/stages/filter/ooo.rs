//! Out-of-office and other automatic replies recognised by their words, in several languages.

use std::sync::LazyLock;

use regex::Regex;

use crate::stages::classify::text::head_chars;

/// Subjects that only automatic replies use. Words a customer might use in a subject of
/// their own ("delivery during my absence") count only at the start, where auto-replies put
/// them ("Out of Office: Re: …").
static SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?-u:\b)automatic\s+reply(?-u:\b) | (?-u:\b)auto[-\s]?reply(?-u:\b) | (?-u:\b)autoreply(?-u:\b) | (?-u:\b)auto[-\s]?respon(?:se|der)(?-u:\b)
      | (?-u:\b)automated\s+(?:reply|response)(?-u:\b) | (?-u:\b)vacation\s+(?:reply|notice|response|message)(?-u:\b) | (?-u:\b)absence\s+notice(?-u:\b)
      | abwesenheitsnotiz | automatische\s+antwort | r[ée]ponse\s+automatique | message\s+d'absence
      | respuesta\s+autom[áa]tica | risposta\s+automatica | resposta\s+autom[áa]tica | automatisch\s+antwoord
      | (?-u:\b)autosvar(?-u:\b) | automatyczna\s+odpowied[źz] | автоответ | автоматический\s+ответ
      | 自动回复 | 自動回覆 | 自動回复 | 自动答复 | 自動応答 | 不在通知 | 자동\s*응답 | otomatik\s+yan[ıi]t
      | ^\s*(?:out\s+of\s+(?:the\s+)?office | away\s+from\s+(?:the\s+)?office | nicht\s+im\s+b(?:ü|ue)ro
            | au(?:ß|ss)er\s+haus | abwesend | absence\s+du\s+bureau | absent\s+du\s+bureau | fuera\s+de\s+(?:la\s+)?oficina
            | fuori\s+(?:dall')?ufficio | fora\s+do\s+escrit[óo]rio | afwezig | poza\s+biurem | нет\s+на\s+месте | 不在办公室)(?-u:\b)
    ",
    )
    .expect("ooo subject regex")
});

/// Body phrases of an automatic reply that a person writing to a shop would not use.
static MACHINE_BODY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        this\s+is\s+an\s+(?:automatic|automated|auto-generated)\s+(?:reply|response|message|e-?mail)
      | (?:automatic|automated)\s+(?:reply|response)\s*[:\-]
      | dies\s+ist\s+eine\s+automatische\s+(?:antwort|nachricht|e-?mail)
      | ceci\s+est\s+une\s+r[ée]ponse\s+automatique | ceci\s+est\s+un\s+message\s+automatique
      | esta\s+es\s+una\s+respuesta\s+autom[áa]tica | questa\s+[èe]\s+una\s+risposta\s+automatica
      | esta\s+[ée]\s+uma\s+resposta\s+autom[áa]tica | dit\s+is\s+een\s+automatisch\s+(?:antwoord|bericht)
      | 这是一封自动回复 | 此邮件为自动回复 | 这是自动回复 | 本邮件为系统自动发送
    ",
    )
    .expect("ooo body regex")
});

/// Body phrases of an out-of-office note; a customer could write these too, so they only
/// count together with a header that says the message was sent automatically.
static AWAY_BODY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?-u:\b)(?:i\s+am|i'm|i\s+will\s+be)\s+(?:currently\s+)?(?:out\s+of\s+(?:the\s+)?office|away|on\s+(?:vacation|holiday|leave|annual\s+leave))
      | (?-u:\b)out\s+of\s+(?:the\s+)?office(?-u:\b) | limited\s+access\s+to\s+(?:my\s+)?e-?mail
      | ich\s+bin\s+.{0,60}(?:nicht\s+im\s+b(?:ü|ue)ro|abwesend|im\s+urlaub) | je\s+suis\s+(?:actuellement\s+)?absent
      | estoy\s+(?:fuera\s+de\s+la\s+oficina|de\s+vacaciones) | sono\s+(?:fuori\s+ufficio|in\s+ferie|assente)
      | estou\s+(?:fora\s+do\s+escrit[óo]rio|de\s+f[ée]rias) | ik\s+ben\s+.{0,40}(?:afwezig|met\s+vakantie)
      | 我目前不在办公室 | 我正在休假 | 休假中
    ",
    )
    .expect("away body regex")
});

pub fn subject_is_autoreply(subject: &str) -> bool {
    SUBJECT.is_match(subject)
}

pub fn body_says_automatic(text: &str) -> bool {
    MACHINE_BODY.is_match(head(text))
}

pub fn body_says_away(text: &str) -> bool {
    AWAY_BODY.is_match(head(text))
}

fn head(text: &str) -> &str {
    head_chars(text, 1500)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_office_subjects_in_several_languages() {
        for s in [
            "Out of Office: Your order has shipped",
            "Automatic reply: Re: order 1234",
            "Abwesenheitsnotiz: Ihre Bestellung",
            "Absence du bureau",
            "Réponse automatique : commande",
            "Respuesta automática: pedido",
            "Risposta automatica",
            "自动回复：您的订单",
            "Autosvar: order",
        ] {
            assert!(subject_is_autoreply(s), "{s}");
        }
        for s in [
            "Where is my order?",
            "Office chair arrived broken",
            "Reply to my refund request",
            "Lieferung während meiner Abwesenheit",
            "Order while I am on vacation",
            "Re: parcel left because I was out of the office",
        ] {
            assert!(!subject_is_autoreply(s), "{s}");
        }
    }

    #[test]
    fn machine_phrases_and_away_phrases() {
        assert!(body_says_automatic("Hello,\nThis is an automatic reply. I will answer soon."));
        assert!(body_says_automatic("Dies ist eine automatische Antwort."));
        assert!(!body_says_automatic("I ordered a kettle and it arrived broken."));
        assert!(body_says_away("I am out of the office until 5 May with limited access to email."));
        assert!(body_says_away("Ich bin bis zum 12. nicht im Büro."));
        assert!(!body_says_away("The parcel was left outside the office door."));
    }
}
