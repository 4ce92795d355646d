//! The missing-information checklist: what a message lacks for its category.
//!
//! Each check is a `Need` with a stable key (the keys appear in `draft.missing_info` and in
//! the config). Some needs only apply when the message is of a certain kind: photos only when
//! damage is described, the charged amount and date only when a charge is disputed, the
//! account email only when the customer says the account is under another address.

use std::sync::LazyLock;

use regex::Regex;

use crate::record::{Attachment, Entities};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    OrderNumber,
    Photos,
    NewAddress,
    AmountAndDate,
    AccountEmail,
}

impl Need {
    pub const ALL: [Need; 5] = [Need::OrderNumber, Need::Photos, Need::NewAddress, Need::AmountAndDate, Need::AccountEmail];

    pub fn key(self) -> &'static str {
        match self {
            Need::OrderNumber => "order_number",
            Need::Photos => "photos",
            Need::NewAddress => "new_address",
            Need::AmountAndDate => "amount_and_date",
            Need::AccountEmail => "account_email",
        }
    }

    pub fn parse(key: &str) -> Option<Need> {
        Need::ALL.into_iter().find(|n| n.key() == key)
    }

    /// The request to the customer, as a list item after "could you please send us:".
    pub fn question(self) -> &'static str {
        match self {
            Need::OrderNumber => "your order number (you will find it in your order confirmation email)",
            Need::Photos => "a few photos of the damaged item and of the packaging it arrived in",
            Need::NewAddress => {
                "the complete new delivery address: street and house number, postcode, city and country"
            }
            Need::AmountAndDate => {
                "the amount that was charged and the date of the charge (a screenshot of your bank or card statement is fine)"
            }
            Need::AccountEmail => "the email address you used when you created your account",
        }
    }
}

/// The built-in needs of a default category; a team can override them per category in config.
pub fn default_needs(category: &str) -> &'static [Need] {
    match category {
        "shipping" | "refund" | "return" | "cancellation" => &[Need::OrderNumber],
        "complaint" => &[Need::OrderNumber, Need::Photos],
        "address_change" => &[Need::OrderNumber, Need::NewAddress],
        "payment" => &[Need::AmountAndDate],
        "account" => &[Need::AccountEmail],
        _ => &[],
    }
}

/// What earlier customer messages of the same case said (`stages::cases::context`). The
/// checklist is about the case, not one message: an order number given in an earlier answer
/// is no longer missing, and photos asked for earlier are still missing until they come.
#[derive(Debug, Clone, Default)]
pub struct CaseContext {
    pub case: Option<String>,
    /// Subject and new text of each earlier customer message, oldest first.
    pub texts: Vec<String>,
    pub attachments: Vec<Attachment>,
    pub entities: Entities,
    /// The case's category: that of our reply the message answers, else the latest one of
    /// its earlier messages other than `other`.
    pub category: Option<String>,
    /// The message answers a reply of ours that asked the customer for information: it is
    /// about what that reply was about, whatever its own few words look like.
    pub answers_request: bool,
}

/// What the checks look at.
pub struct Message<'a> {
    pub subject: &'a str,
    /// The new part of the body (or the whole body when there is no new part).
    pub body: &'a str,
    pub sender: &'a str,
    pub attachments: &'a [Attachment],
    pub entities: &'a Entities,
    /// The team's own mail domains: addresses there are ours, not the customer's.
    pub own_domains: &'a [String],
}

impl Message<'_> {
    fn all_text(&self) -> String {
        format!("{}\n{}", self.subject, self.body)
    }
}

/// The needs of `needs` that `msg` does not satisfy, in order.
pub fn missing(needs: &[Need], msg: &Message<'_>) -> Vec<Need> {
    needs.iter().copied().filter(|n| lacks(*n, msg)).collect()
}

fn lacks(need: Need, msg: &Message<'_>) -> bool {
    let text = msg.all_text();
    match need {
        Need::OrderNumber => msg.entities.order_ids.is_empty(),
        Need::Photos => describes_damage(&text) && !has_image(msg.attachments),
        Need::NewAddress => !has_complete_address(msg.body),
        Need::AmountAndDate => disputes_a_charge(&text) && !(has_amount(&text) && has_date(&text)),
        Need::AccountEmail => mentions_other_account_email(&text) && !gives_another_address(msg),
    }
}

/// An email address in the message that is neither the sender's nor ours.
fn gives_another_address(msg: &Message<'_>) -> bool {
    msg.entities.emails.iter().any(|e| {
        let domain = e.rsplit('@').next().unwrap_or("");
        !e.eq_ignore_ascii_case(msg.sender) && !msg.own_domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    })
}

fn has_image(attachments: &[Attachment]) -> bool {
    attachments.iter().any(|a| {
        a.content_type.to_ascii_lowercase().starts_with("image/")
            || a.filename.as_deref().is_some_and(|f| {
                let f = f.to_ascii_lowercase();
                [".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".gif"].iter().any(|x| f.ends_with(x))
            })
    })
}

static DAMAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        \b(?:damaged?|broken|broke|smashed|shattered|cracked|cracks?|chipped|dented|dents?|scratche[ds]|scratch
          |torn|ripped|leak(?:ing|ed|s)?|stain(?:ed|s)?|water\s*marks?|soaked|crushed|bent|in\s+pieces|melted|scorch(?:ed)?
          |kaputt|zerbrochen|besch[äa]digt|gebrochen|zerkratzt|eingedr[üu]ckt|delle|gesprungen|risse?
          |cass[ée]e?s?|ab[îi]m[ée]e?s?|endommag[ée]e?s?|f[êe]l[ée]e?s?|[ée]br[ée]ch[ée]e?s?|ray[ée]e?s?|bris[ée]e?s?
          |rot[oa]s?|da[ñn]ad[oa]s?|rayad[oa]s?|abollad[oa]s?|quebrad[oa]s?
          |rott[oa]|danneggiat[oa]|ammaccat[oa]|graffiat[oa]|scheggiat[oa]
          |danificad[oa]|amassad[oa]|riscad[oa]|partid[oa])\b
        | 损坏|破损|碎了|摔碎|裂开|裂了|裂纹|凹痕|凹陷|划痕|压坏|坏了|破了",
    )
    .expect("damage regex")
});

pub fn describes_damage(text: &str) -> bool {
    DAMAGE.is_match(text)
}

static DISPUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        charged\s+(?:me\s+)?(?:twice|two\s+times|double|again|anyway|for\s+(?:a|an|the)\s+cancel)
        | double[-\s]?charged | duplicate\s+(?:charge|payment|transaction) | two\s+payments | charged\s+but
        | (?:was|been|were|got|still|i\s+was|i've\s+been)\s+charged
        | (?:money|payment|amount)\s+(?:has\s+|was\s+|have\s+)?(?:gone\s+out|taken|deducted|debited|withdrawn)
        | overcharged | unauthori[sz]ed | fraud(?:ulent)? | charge\s*back | dispute | did\s*n[o']?t\s+(?:place|make|authori[sz]e)
        | doppelt\s+(?:abgebucht|belastet|berechnet|bezahlt) | abgebucht | zweimal\s+(?:abgebucht|belastet) | r[üu]ckbuchung
        | d[ée]bit[ée]e?\s+deux\s+fois | pr[ée]lev[ée] | double\s+pr[ée]l[èe]vement | factur[ée]e?\s+deux\s+fois
        | cobrad[oa]\s+dos\s+veces | cobro\s+(?:doble|duplicado|no\s+autorizado|indebido) | cargo\s+duplicado
        | me\s+(?:han|ha)\s+cobrado\s+(?:dos|doble|de\s+m[áa]s)
        | addebitat[oa]\s+due\s+volte | addebito\s+(?:doppio|non\s+autorizzato)
        | cobrad[oa]\s+duas\s+vezes | cobran[çc]a\s+(?:duplicada|indevida)
        | 重复扣款 | 扣了两次 | 扣款两次 | 多扣 | 盗刷 | 扣了钱 | 被扣款",
    )
    .expect("dispute regex")
});

/// The customer says money was taken that should not have been (not: an invoice request,
/// a declined card with nothing charged).
pub fn disputes_a_charge(text: &str) -> bool {
    DISPUTE.is_match(text)
}

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        [$€£¥￥]\s?\d
        | \d(?:[\d.,\s]*\d)?\s?(?:€|\$|£|¥|元|块)
        | \b\d(?:[\d.,]*\d)?\s?(?:eur|euros?|usd|gbp|chf|cny|rmb|dollars?|pounds?|kr|sek|nok|dkk|pln|zł)\b
        | \b(?:eur|usd|gbp|chf|cny|rmb|us\$|a\$|c\$)\s?\d",
    )
    .expect("amount regex")
});

pub fn has_amount(text: &str) -> bool {
    AMOUNT.is_match(text)
}

const MONTHS: &str = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?\
    |januar|februar|m[äa]rz|mai|juni|juli|oktober|dezember\
    |janvier|f[ée]vrier|mars|avril|juin|juillet|ao[ûu]t|septembre|octobre|novembre|d[ée]cembre\
    |enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre\
    |gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre\
    |janeiro|fevereiro|mar[çc]o|maio|junho|julho|setembro|outubro|novembro|dezembro";

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?ix)
        \b\d{{1,2}}(?:st|nd|rd|th|er|\.|º)?\s+(?:of\s+|de\s+)?(?:{MONTHS})\b
        | \b(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b
        | \b\d{{1,2}}[./-]\d{{1,2}}(?:[./-]\d{{2,4}})?\b
        | \b\d{{4}}-\d{{2}}-\d{{2}}\b
        | \b(?:yesterday|today|this\s+morning|last\s+night|on\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b
        | \b(?:gestern|heute|vorgestern|hier|aujourd'hui|avant-hier|ayer|hoy|anteayer|ieri|oggi|ontem|hoje)\b
        | \d{{1,2}}\s*月\s*\d{{1,2}}\s*[日号] | 昨天|今天|前天"
    ))
    .expect("date regex")
});

pub fn has_date(text: &str) -> bool {
    DATE.is_match(text)
}

static OTHER_ACCOUNT_EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        \b(?:different|another|other|old|older|previous|former|second)\s+(?:e-?mail|email\s+address|address|account)\b
        | \bnot\s+(?:this|my\s+current)\s+(?:e-?mail|address)\b
        | \bcan'?t\s+remember\s+(?:which|the)\s+(?:e-?mail|address)
        | \b(?:andere[nrm]?|alte[nrm]?|fr[üu]here[nrm]?)\s+(?:e-?mail|adresse|mailadresse)
        | \b(?:autre|ancienne)\s+(?:adresse|e-?mail|bo[îi]te)
        | \b(?:otro|otra|antiguo|antigua)\s+(?:correo|e-?mail|direcci[óo]n)
        | \b(?:altro|altra|vecchio|vecchia)\s+(?:indirizzo|e-?mail|casella)
        | \b(?:outro|outra|antigo|antiga)\s+(?:e-?mail|endere[çc]o)
        | 另一个邮箱|其他邮箱|别的邮箱|以前的邮箱|旧邮箱|不是现在这个邮箱|不是这个邮箱",
    )
    .expect("other account email regex")
});

pub fn mentions_other_account_email(text: &str) -> bool {
    OTHER_ACCOUNT_EMAIL.is_match(text)
}

static POSTCODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b          # UK
        | \b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b                 # Canada
        | \b\d{4}\s?[A-Z]{2}\s+\p{Lu}\p{L}+            # Netherlands, with the city
        | \b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b              # US state + ZIP
        | \b\d{4,6}\s+\p{Lu}[\p{L}'-]+                 # DE/FR/ES/IT/AT/CH…, with the city
        | \b\d{2,4}-\d{3,4}\s+\p{Lu}\p{L}+             # PT/PL/JP, with the city
        | \b\p{Lu}\p{L}+,?\s+\d{4,6}\b                 # city before the code
        ",
    )
    .expect("postcode regex")
});

static STREET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\p{L}{3,}\.?\s+\d{1,5}[a-zA-Z]?\b|\b\d{1,5}[a-zA-Z]?,?\s+\p{L}{3,}").expect("street regex")
});

static CN_ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:省|市).{0,30}(?:区|县|镇).{0,40}(?:路|街|道|巷|村).{0,20}号").expect("cn address regex"));

/// A street with a house number and a postcode (with its city, where the format needs it).
pub fn has_complete_address(text: &str) -> bool {
    if CN_ADDRESS.is_match(text) {
        return true;
    }
    // Order ids, emails and phone numbers carry digits that look like postcodes. Entities come
    // back with full-width digits made ASCII: they are cut from the same text.
    let mut cleaned = crate::stages::entities::ascii_digits(text).into_owned();
    let found = crate::stages::entities::extract(&cleaned);
    for token in found.order_ids.iter().chain(&found.emails).chain(&found.phones).chain(&found.tracking_numbers) {
        cleaned = cleaned.replace(token.as_str(), " ");
    }
    let Some(code) = POSTCODE.find(&cleaned) else { return false };
    // The street must be somewhere else than the postcode itself.
    let without_code = format!("{}\n{}", &cleaned[..code.start()], &cleaned[code.end()..]);
    STREET.is_match(&without_code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::entities;

    fn check(category: &str, subject: &str, body: &str, attachments: &[Attachment]) -> Vec<&'static str> {
        let ents = entities::extract(&format!("{subject}\n{body}"));
        let msg = Message { subject, body, sender: "c@example.com", attachments, entities: &ents, own_domains: &[] };
        missing(default_needs(category), &msg).into_iter().map(Need::key).collect()
    }

    fn jpeg() -> Attachment {
        Attachment { filename: Some("photo.jpg".into()), content_type: "image/jpeg".into(), size: 1000 }
    }

    #[test]
    fn order_number_for_order_categories() {
        assert_eq!(check("shipping", "where is my package??", "hi, still nothing", &[]), ["order_number"]);
        assert!(check("shipping", "Where is my order #NW-48213?", "Hello", &[]).is_empty());
        assert_eq!(check("cancellation", "Please cancel my order", "the order under this email", &[]), ["order_number"]);
        assert!(check("product", "Induction?", "Does the pan work on induction?", &[]).is_empty());
        // A tracking number is not an order number.
        assert_eq!(check("shipping", "Colis perdu", "Le suivi Colissimo (numéro 6A23145678901)", &[]), ["order_number"]);
    }

    #[test]
    fn photos_only_for_described_damage_without_an_image() {
        let smashed = "My order #NW-48472 arrived and 4 of the 6 plates were broken.";
        assert_eq!(check("complaint", "Plates", smashed, &[]), ["photos"]);
        assert!(check("complaint", "Plates", smashed, &[jpeg()]).is_empty());
        let wrong = "I ordered the 12-piece set (order #NW-48455) and you sent me a 6-piece set.";
        assert!(check("complaint", "Wrong item", wrong, &[]).is_empty());
        assert_eq!(check("complaint", "Wok", "订单 NW-48498 的炒锅有一个很明显的凹痕", &[]), ["photos"]);
        assert_eq!(check("complaint", "damaged item photo", "", &[jpeg()]), ["order_number"]);
        let pdf = Attachment { filename: Some("a.pdf".into()), content_type: "application/pdf".into(), size: 1 };
        assert_eq!(check("complaint", "x", "order #NW-1234 arrived cracked", &[pdf]), ["photos"]);
    }

    #[test]
    fn complete_and_incomplete_addresses() {
        let uk = "Please change the address for order #NW-48560 to:\n\nLaura Mitchell\nFlat 4B, 27 Harbour Street\nLeith, Edinburgh\nEH6 6QN\nUnited Kingdom";
        assert!(check("address_change", "Change address", uk, &[]).is_empty());
        let nl = "order #NW-48602 to my office:\nVan den Berg Architecten\nKeizersgracht 221\n1016 DV Amsterdam\nNetherlands";
        assert!(check("address_change", "x", nl, &[]).is_empty());
        let de = "bei der Bestellung NW-48580 ... an meine neue Adresse schicken: Lindenstraße 12, 2. OG.";
        assert_eq!(check("address_change", "Adressänderung", de, &[]), ["new_address"]);
        let fr = "commande NW-1234 : 14 rue de la Fonderie, 69007 Lyon, France";
        assert!(check("address_change", "x", fr, &[]).is_empty());
        // A phone number or an order number is not a postcode.
        assert_eq!(check("address_change", "x", "order 100482845, new street: Rosewood Avenue 14. Call 07700 900652", &[]), ["new_address"]);
    }

    #[test]
    fn amount_and_date_only_for_disputed_charges() {
        let full = "my bank statement shows two payments of £89.90 on 1 November for order #NW-48520";
        assert!(check("payment", "Charged twice", full, &[]).is_empty());
        let vague = "it said Payment failed, but my banking app now shows money has gone out to you. I tried the other day.";
        assert_eq!(check("payment", "Payment failed but I think I was charged anyway", vague, &[]), ["amount_and_date"]);
        assert_eq!(check("payment", "被重复扣款了", "我用支付宝付款，结果发现被扣了两次款，订单 NW-48527", &[]), ["amount_and_date"]);
        let declined = "mi tarjeta es rechazada una y otra vez. No me han cobrado nada. ¿Aceptan PayPal?";
        assert!(check("payment", "Tarjeta rechazada", declined, &[]).is_empty());
        let invoice = "Pour notre commande NW-48345 du 21 octobre, une facture au nom de la société";
        assert!(check("payment", "Facture TVA", invoice, &[]).is_empty());
        let amount_only = "I was charged $149.00 for a cancelled order";
        assert_eq!(check("payment", "x", amount_only, &[]), ["amount_and_date"]);
    }

    #[test]
    fn account_email_when_the_account_is_under_another_address() {
        let zh = "我注册账户的时候用的不是现在这个邮箱，是以前的另一个邮箱，但我记不清是哪个了";
        assert_eq!(check("account", "回复：无法登录账户", zh, &[]), ["account_email"]);
        let given = "change the email on my account from h.tanaka@oldisp.example to this address; no access to the old email";
        assert!(check("account", "x", given, &[]).is_empty());
        assert!(check("account", "x", "The account is under this email address. Reset mail never arrives.", &[]).is_empty());
    }

    #[test]
    fn keys_round_trip() {
        for n in Need::ALL {
            assert_eq!(Need::parse(n.key()), Some(n));
        }
        assert_eq!(Need::parse("nope"), None);
    }
}
