//! Order ids, tracking numbers, e-mail addresses and phone numbers found in a message.
//!
//! Order ids and tracking numbers are taken after a word that names them (in five languages)
//! or in a shape that is unambiguous (UPS `1Z…`, UPU `LX123456789CN`, Amazon `123-1234567-1234567`,
//! `#12345`). Phone numbers need a `+` or a word like "phone"/"Tel."/"电话" before them, so dates
//! and order numbers are not mistaken for phones.

use std::sync::LazyLock;

use regex::Regex;

use crate::record::Entities;

/// Characters searched: entities sit near the top of a message.
const MAX_CHARS: usize = 6000;

static ORDER_AFTER_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:order|bestell|auftrag|commande|pedido|ordine|订单|單號|订单号|订单编号)[\w.°º]*(?:\s*(?:no\.?|nr\.?|n[°º]|number|id|nummer|num[eé]ro|n[uú]mero|#|:|：|号|編號|编号|is|ist|was|est|de|del|es))*[\s:#：]*([A-Z]{0,6}-?[0-9][A-Z0-9-]{2,24}[A-Z0-9])",
    )
    .expect("order regex")
});
static HASH_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[\s(])#\s?([A-Z0-9-]*[0-9]{4,}[A-Z0-9-]*)").expect("hash regex"));
static AMAZON_ORDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{3}-\d{7}-\d{7})\b").expect("amazon regex"));
static TRACKING_AFTER_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:tracking|track|sendungs|paket|suivi|seguimiento|rastreo|运单|快递单|物流单|追踪)[\w]*(?:\s*(?:no\.?|nr\.?|n[°º]|number|id|nummer|num[eé]ro|n[uú]mero|code|#|:|：|号|is|ist|est|de|es))*[\s:#：]*([A-Z]{0,4}[0-9][A-Z0-9]{7,33})",
    )
    .expect("tracking regex")
});
static TRACKING_SHAPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(1Z[0-9A-Z]{16}|[A-Z]{2}\d{9}[A-Z]{2}|9[2345]\d{18,20}|JJD\d{15,20})\b").expect("tracking shape regex")
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[A-Z0-9._%+-]{1,64}@[A-Z0-9.-]{1,253}\.[A-Z]{2,24}\b").expect("email regex")
});
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:(?:phone|tel|telephone|mobile|cell|call me|whatsapp|telefon|handy|t[eé]l[eé]phone|portable|tel[eé]fono|m[oó]vil|celular|电话|手机|联系方式)[.:：]?\s*(?:number|nummer|num[eé]ro|n[uú]mero|号码)?[\s:：]*(\+?\(?\d[\d ()./-]{5,20}\d)|(\+\d{1,3}[ ()./-]{0,2}\d[\d ()./-]{5,18}\d))",
    )
    .expect("phone regex")
});

/// Extracts entities from subject and body.
pub fn extract(subject: &str, body: &str) -> Entities {
    let mut text = String::with_capacity(subject.len() + 1 + body.len().min(MAX_CHARS));
    text.push_str(subject);
    text.push('\n');
    let cut = body.char_indices().nth(MAX_CHARS).map(|(i, _)| i).unwrap_or(body.len());
    text.push_str(&body[..cut]);

    let mut e = Entities::default();
    let has_digit = text.bytes().any(|b| b.is_ascii_digit());
    if has_digit {
        for c in TRACKING_SHAPE.captures_iter(&text) {
            push(&mut e.tracking_numbers, &c[1]);
        }
        for c in TRACKING_AFTER_WORD.captures_iter(&text) {
            let v = &c[1];
            if v.bytes().filter(u8::is_ascii_digit).count() >= 6 {
                push(&mut e.tracking_numbers, v);
            }
        }
        for c in AMAZON_ORDER.captures_iter(&text) {
            push(&mut e.order_ids, &c[1]);
        }
        for c in ORDER_AFTER_WORD.captures_iter(&text) {
            let v = c[1].trim_matches('-');
            if v.bytes().filter(u8::is_ascii_digit).count() >= 3 && !e.tracking_numbers.iter().any(|t| t == v) {
                push(&mut e.order_ids, v);
            }
        }
        for c in HASH_NUMBER.captures_iter(&text) {
            let v = c[1].trim_matches('-');
            if !e.tracking_numbers.iter().any(|t| t == v) {
                push(&mut e.order_ids, v);
            }
        }
        for c in PHONE.captures_iter(&text) {
            let Some(m) = c.get(1).or_else(|| c.get(2)) else { continue };
            let v = m.as_str().trim();
            let digits = v.bytes().filter(u8::is_ascii_digit).count();
            let is_other = e.order_ids.iter().chain(&e.tracking_numbers).any(|o| o == v);
            if (7..=15).contains(&digits) && !is_other {
                push(&mut e.phones, v);
            }
        }
    }
    if text.contains('@') {
        for m in EMAIL.find_iter(&text) {
            push(&mut e.emails, &m.as_str().to_lowercase());
        }
    }
    e
}

fn push(list: &mut Vec<String>, v: &str) {
    if !list.iter().any(|x| x == v) {
        list.push(v.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_in_several_languages() {
        for (text, want) in [
            ("Hi, my order #10482 has not arrived", "10482"),
            ("Order number: A-55821 please check", "A-55821"),
            ("Meine Bestellnummer ist 4471123", "4471123"),
            ("commande n° 778812", "778812"),
            ("Mi pedido 99123 no llegó", "99123"),
            ("订单号：20261103001", "20261103001"),
            ("Amazon 113-1234567-7654321", "113-1234567-7654321"),
        ] {
            let e = extract("", text);
            assert_eq!(e.order_ids, vec![want.to_string()], "{text}");
        }
    }

    #[test]
    fn tracking_numbers_are_not_order_ids() {
        let e = extract("Where is it?", "Tracking number: 1Z999AA10123456784, order #5521");
        assert_eq!(e.tracking_numbers, vec!["1Z999AA10123456784"]);
        assert_eq!(e.order_ids, vec!["5521"]);
        let e = extract("", "Sendungsnummer LX123456789CN");
        assert_eq!(e.tracking_numbers, vec!["LX123456789CN"]);
        assert!(e.order_ids.is_empty());
    }

    #[test]
    fn emails_and_phones() {
        let e = extract("", "Please write to Jane.Doe@Example.com or call me at +49 170 1234567. Tel: (555) 123-4567");
        assert_eq!(e.emails, vec!["jane.doe@example.com"]);
        assert_eq!(e.phones, vec!["+49 170 1234567", "(555) 123-4567"]);
    }

    #[test]
    fn dates_and_prices_are_not_phones_or_orders() {
        let e = extract("", "I paid 129.99 on 2026-11-03 and waited 14 days.");
        assert!(e.phones.is_empty() && e.order_ids.is_empty() && e.tracking_numbers.is_empty(), "{e:?}");
    }
}
