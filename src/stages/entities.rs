//! Entities in a customer's message: order ids, tracking numbers, email addresses, phones.
//!
//! One place for the patterns, shared by the stages that need them (classify fills
//! `triage.entities`; draft falls back to this when a record has none). The patterns are
//! deliberately conservative: a number is an order id only after an order word ("order",
//! "Bestellung", "commande", "pedido", "订单", …) or a `#`, or when it has a shop-style prefix
//! (`NW-48213`). Tracking numbers follow common carrier formats or a tracking word.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use crate::record::Entities;

// The patterns take ASCII digits, `[0-9]`, not `\d`: Unicode's `\d` is some 70 ranges, and
// `\d{18,22}` alone took ~1 ms to compile in every process that classifies. Full-width digits,
// as CJK input methods type them, are made ASCII first (`ascii_digits`).

/// An order word (many languages), optional "number"/"no."/"#", then the id.
static ORDER_AFTER_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?:\border|\bbestell(?:ung|nummer|nr\.?)?|\bauftrag|\bcommande|\bpedido|\bordine|\bencomenda|\bbestelling
          |\bzam[óo]wienie|订单号?|訂單號?|注文番号?)
        (?:\s*(?:no\.?|nr\.?|num(?:ber|mer)?\.?|n[°º]|num[ée]ro|n[uú]mero|id|ref\.?|是|为|:|：|\#))*
        \s*\#?\s*
        ([A-Z]{1,4}-?[0-9]{4,12}|[0-9]{5,12})",
    )
    .expect("order word regex")
});

/// `#NW-48213`, `#123456`.
static ORDER_HASH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)#\s?([A-Z]{1,4}-?[0-9]{4,12}|[0-9]{4,12})").expect("order hash regex"));

/// A shop-style id standing alone: two to four capitals, a dash, digits (`NW-48290`).
static ORDER_PREFIXED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([A-Z]{2,4}-[0-9]{4,10})\b").expect("order prefixed regex"));

/// Prefixes that look like order ids but name something else.
const NOT_ORDER_PREFIXES: &[&str] = &[
    "INV", "PO", "REF", "SKU", "ISO", "RMA", "TKT", "BTC", "EAN", "ISBN", "IBAN", "VAT", "UST", "CVE", "RFC", "UTC",
    "GMT", "CET", "COVID",
];

/// Carrier formats, as whole ASCII words: ASCII word boundaries let a number written right
/// after a Chinese word ("运单号JJD…") count, and keep the search on the fast engine (a
/// Unicode `\b` sends every non-ASCII text to the slow one).
static TRACKING_FORMATS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)(?-u:\b)(
            1Z[0-9A-Z]{16}            # UPS
          | [A-Z]{2}[0-9]{9}[A-Z]{2}  # UPU S10 (Royal Mail, La Poste, China Post, …)
          | [0-9][A-Z][0-9]{11}       # Colissimo
          | JJD[0-9]{10,20}           # DHL
          | [0-9]{18,22}              # DHL / USPS numeric
        )(?-u:\b)",
    )
    .expect("tracking format regex")
});

static TRACKING_AFTER_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?:tracking|sendungsnummer|sendungsverfolgung|trackingnummer|suivi|seguimiento|tracciamento|rastreamento
          |运单号|快递单号|物流单号)
        (?:\s*(?:number|no\.?|nr\.?|code|id|num[ée]ro|n[uú]mero|numero|de|di|do|\#|:|：|\())*
        \s*([A-Z0-9]{8,34})\b",
    )
    .expect("tracking word regex")
});

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b").expect("email regex")
});

static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?[0-9][0-9 \-().]{6,18}[0-9]").expect("phone regex"));

/// Extracts the entities of `text` (pass subject and body together).
pub fn extract(text: &str) -> Entities {
    let text = &*ascii_digits(text);
    let orders = order_ids_in_ascii(text);
    let tracking = tracking_numbers_besides(text, &orders);
    let mut e = Entities { order_ids: orders, tracking_numbers: tracking, ..Default::default() };
    for m in EMAIL.find_iter(text) {
        push_unique(&mut e.emails, m.as_str().to_ascii_lowercase());
    }
    for m in PHONE.find_iter(text) {
        let digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
        let taken = e.order_ids.iter().chain(&e.tracking_numbers).any(|x| x.contains(&digits) || digits.contains(x.as_str()));
        if (8..=15).contains(&digits.len()) && !taken && !looks_like_date(m.as_str()) {
            push_unique(&mut e.phones, m.as_str().trim().to_string());
        }
    }
    e
}

/// Order ids in `text`, normalised to upper case without `#`, in order of appearance.
pub fn order_ids(text: &str) -> Vec<String> {
    order_ids_in_ascii(&ascii_digits(text))
}

/// `order_ids` of a text whose digits are already ASCII.
fn order_ids_in_ascii(text: &str) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for re in [&*ORDER_AFTER_WORD, &*ORDER_HASH, &*ORDER_PREFIXED] {
        for c in re.captures_iter(text) {
            if let Some(m) = c.get(1) {
                let id = m.as_str().to_ascii_uppercase();
                let prefix = id.split('-').next().unwrap_or("");
                if id.contains('-') && NOT_ORDER_PREFIXES.contains(&prefix) {
                    continue;
                }
                if !found.iter().any(|(_, f)| *f == id) {
                    found.push((m.start(), id));
                }
            }
        }
    }
    found.sort_by_key(|(pos, _)| *pos);
    found.into_iter().map(|(_, id)| id).collect()
}

/// Tracking numbers in `text` (carrier formats, or a code after a tracking word).
pub fn tracking_numbers(text: &str) -> Vec<String> {
    let text = &*ascii_digits(text);
    tracking_numbers_besides(text, &order_ids_in_ascii(text))
}

/// Tracking numbers in `text` that are not among its order ids `orders`.
fn tracking_numbers_besides(text: &str, orders: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for m in TRACKING_FORMATS.find_iter(text) {
        push_unique(&mut out, m.as_str().to_string());
    }
    for c in TRACKING_AFTER_WORD.captures_iter(text) {
        if let Some(m) = c.get(1) {
            let code = m.as_str().to_ascii_uppercase();
            if code.chars().any(|ch| ch.is_ascii_digit()) && !orders.contains(&code) {
                push_unique(&mut out, code);
            }
        }
    }
    out
}

/// `text` with its full-width digits (`１２３`, U+FF10..U+FF19) as ASCII digits.
pub fn ascii_digits(text: &str) -> Cow<'_, str> {
    const FULL_ZERO: u32 = '０' as u32;
    // In UTF-8 they are EF BC 90..99: a byte search skips the usual text without decoding it.
    let bytes = text.as_bytes();
    let has_any = memchr::memmem::find_iter(bytes, &[0xEF, 0xBC]).any(|i| matches!(bytes.get(i + 2), Some(0x90..=0x99)));
    if !has_any {
        return Cow::Borrowed(text);
    }
    let ascii = |c: char| match c as u32 {
        n @ FULL_ZERO..=0xFF19 => char::from(b'0' + (n - FULL_ZERO) as u8),
        _ => c,
    };
    Cow::Owned(text.chars().map(ascii).collect())
}

fn looks_like_date(s: &str) -> bool {
    static DATE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*[0-9]{1,4}[./-][0-9]{1,2}[./-][0-9]{1,4}\s*$").expect("date regex"));
    DATE.is_match(s)
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_are_read_as_the_number_they_are() {
        assert_eq!(order_ids("注文番号１２３４５６の件です"), ["123456"]);
        assert_eq!(extract("お問い合わせ番号 JJD００１２３４５６７８９").tracking_numbers, ["JJD00123456789"]);
        assert_eq!(extract("電話 ０３-１２３４-５６７８ まで").phones, ["03-1234-5678"]);
    }

    #[test]
    fn order_ids_in_many_languages() {
        assert_eq!(order_ids("Where is my order #NW-48213?"), ["NW-48213"]);
        assert_eq!(order_ids("Wo bleibt meine Bestellung 100482731?"), ["100482731"]);
        assert_eq!(order_ids("(Bestellnummer 100482731)"), ["100482731"]);
        assert_eq!(order_ids("Reembolso del pedido 100482790"), ["100482790"]);
        assert_eq!(order_ids("订单号是 #NW-48377，买的是"), ["NW-48377"]);
        assert_eq!(order_ids("收到的炒锅有凹痕，订单NW-48498"), ["NW-48498"]);
        assert_eq!(order_ids("Umtausch (NW-48666)"), ["NW-48666"]);
        assert_eq!(order_ids("order no. 55512 and order number: 66613"), ["55512", "66613"]);
    }

    #[test]
    fn things_that_are_not_order_ids() {
        assert!(order_ids("our PO-7781 and invoice INV-20931").is_empty());
        assert!(order_ids("I ordered 12 items in 2026").is_empty());
        assert!(order_ids("call me on 07700 900652").is_empty());
        assert!(order_ids("Je n'ai plus le numéro de commande car j'ai supprimé").is_empty());
    }

    #[test]
    fn tracking_numbers_by_format_and_word() {
        assert_eq!(tracking_numbers("Le suivi Colissimo (numéro 6A23145678901)"), ["6A23145678901"]);
        assert_eq!(tracking_numbers("我的包裹JJD0012345678901还没到"), ["JJD0012345678901"]);
        assert_eq!(tracking_numbers("UPS 1Z999AA10123456784 stuck"), ["1Z999AA10123456784"]);
        assert_eq!(tracking_numbers("tracking number: ABC12345678"), ["ABC12345678"]);
        assert!(tracking_numbers("order #NW-48213").is_empty());
    }

    #[test]
    fn emails_and_phones() {
        let e = extract("Write to Jane.Doe@Example.com or call +44 7700 900652. Order #NW-48213 on 29.10.2026");
        assert_eq!(e.emails, ["jane.doe@example.com"]);
        assert_eq!(e.phones, ["+44 7700 900652"]);
        assert_eq!(e.order_ids, ["NW-48213"]);
    }
}
