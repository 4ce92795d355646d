//! Blank mail: nothing new to act on.
//!
//! The new text (`text_new`: quotes, signature and disclaimer already cut) has no letter or
//! digit, no attachment came with it, and the subject is empty or only inherited from an
//! earlier message ("Re: …"). A subject written fresh is a message of its own ("Where is
//! my order?" with an empty body passes), and so is a photo sent without a word. Answers
//! written below or between quoted lines are not blank either, though `text_new` stops at
//! the first quote.

use super::testmail::bare_subject;
use crate::mail::quote::has_own_text;

pub fn blank_reason(subject: &str, text: &str, text_new: &str, attachments: usize) -> Option<String> {
    if attachments > 0 || has_content(text_new) || has_own_text(text) {
        return None;
    }
    let subject = subject.trim();
    let inherited = bare_subject(subject).len() < subject.len();
    if subject.is_empty() || !has_content(subject) {
        Some(if text.trim().is_empty() {
            "blank: no subject and no text".into()
        } else {
            "blank: no subject and nothing new in the text (only quotes or a signature)".into()
        })
    } else if inherited {
        Some(format!("blank: a reply (\"{}\") with nothing new in it", subject.chars().take(60).collect::<String>()))
    } else {
        None
    }
}

fn has_content(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_mail_and_empty_replies_are_blank() {
        assert!(blank_reason("", "", "", 0).is_some());
        assert!(blank_reason("Re: Your order has shipped", "-- \nJane", "", 0).is_some());
        assert!(blank_reason("AW: Bestellung", "Am Montag schrieb Support:\n> Danke", "", 0).is_some());
    }

    #[test]
    fn a_photo_or_a_fresh_subject_is_not_blank() {
        assert!(blank_reason("", "", "", 1).is_none(), "attachment-only mail with a photo");
        assert!(blank_reason("Where is my order 4411?", "", "", 0).is_none());
        assert!(blank_reason("Re: order", "", "yes please", 0).is_none());
    }

    #[test]
    fn answers_below_or_between_quotes_are_not_blank() {
        let text = "On Mon, Support wrote:\n> What is your order number?\n4411\n> And your address?\nMain St 1";
        assert!(blank_reason("Re: your order", text, "", 0).is_none());
        let bottom = "On Mon, Support wrote:\n> What is your address?\n\nMain St 1, Springfield";
        assert!(blank_reason("Re: your order", bottom, "", 0).is_none());
    }
}
