//! Sentiment, priority and escalation: explainable rules over the lexicon's concepts, the
//! category, the sender and the ledger's memory of earlier contacts.
//!
//! - P1: legal threat, chargeback, fraud, safety, or a VIP who is angry.
//! - P2: angry, a VIP, repeated contact, or a time-critical request (cancel, change address,
//!   anything marked urgent about an open problem).
//! - P3: a problem to act on (shipping, refund, return, complaint, payment, account) or a
//!   negative message.
//! - P4: a general question (product, other).
//!
//! Escalation: legal threat, chargeback, fraud, safety, "cancel", repeated contact, VIP.

use super::lexicon::{Hit, Tag};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sentiment {
    Angry,
    Negative,
    Neutral,
    Positive,
}

impl Sentiment {
    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Angry => "angry",
            Sentiment::Negative => "negative",
            Sentiment::Neutral => "neutral",
            Sentiment::Positive => "positive",
        }
    }

    pub fn parse(s: &str) -> Option<Sentiment> {
        Some(match s {
            "angry" => Sentiment::Angry,
            "negative" => Sentiment::Negative,
            "neutral" => Sentiment::Neutral,
            "positive" => Sentiment::Positive,
            _ => return None,
        })
    }
}

/// What the rules know about a message besides its words.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Earlier messages from the same sender within the repeat-contact window.
    pub prior_contacts: u32,
    pub repeat_days: u32,
    /// The sender matches `[team] vip`.
    pub vip: bool,
    /// For a reply in a known case: the case's category so far (see `cases::context`).
    pub case_category: Option<String>,
}

/// The rules' verdict.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub sentiment: Sentiment,
    pub priority: u8,
    pub escalate: bool,
    pub reasons: Vec<String>,
}

fn has(hits: &[Hit], tag: Tag) -> bool {
    hits.iter().any(|h| h.tag == tag)
}

fn word<'a>(hits: &[Hit], tag: Tag, norm: &'a str) -> &'a str {
    hits.iter().find(|h| h.tag == tag).map(|h| h.text(norm)).unwrap_or("")
}

/// Share of upper-case letters among letters, for shouting ("WHERE IS MY ORDER").
pub fn shouting(text: &str) -> bool {
    let (mut upper, mut letters) = (0u32, 0u32);
    for c in text.chars().take(600).filter(|c| c.is_alphabetic()) {
        letters += 1;
        if c.is_uppercase() {
            upper += 1;
        }
    }
    letters >= 12 && upper * 10 >= letters * 7
}

pub fn sentiment(hits: &[Hit], raw: &str, category: &str) -> Sentiment {
    let exclaims = raw.matches(['!', '！']).count();
    let threat = has(hits, Tag::Legal) || has(hits, Tag::Chargeback) || has(hits, Tag::Fraud);
    let negative = has(hits, Tag::Negative) || has(hits, Tag::Damaged) || has(hits, Tag::Complaint) || category == "complaint";
    if has(hits, Tag::Angry) || (threat && negative) || (negative && (exclaims >= 3 || shouting(raw))) {
        return Sentiment::Angry;
    }
    if negative || threat || (has(hits, Tag::Repeat) && exclaims >= 1) {
        return Sentiment::Negative;
    }
    if has(hits, Tag::Positive) {
        return Sentiment::Positive;
    }
    Sentiment::Neutral
}

/// Applies the rules. `norm` is the normalized text the hits point into.
pub fn judge(hits: &[Hit], norm: &str, raw: &str, category: &str, ctx: &Context) -> Verdict {
    let sentiment = sentiment(hits, raw, category);
    let mut reasons = Vec::new();
    let mut escalate = false;
    let mut priority = match category {
        "product" | "other" => 4,
        _ => 3,
    };
    if sentiment == Sentiment::Negative {
        priority = priority.min(3);
    }
    let p1 = |why: String, reasons: &mut Vec<String>| {
        reasons.push(why);
        1u8
    };
    for (tag, what) in [
        (Tag::Legal, "legal threat"),
        (Tag::Chargeback, "chargeback"),
        (Tag::Fraud, "fraud"),
        (Tag::Safety, "safety issue"),
    ] {
        if has(hits, tag) {
            escalate = true;
            priority = p1(format!("escalate: {what} (\"{}\")", word(hits, tag, norm)), &mut reasons);
        }
    }
    if ctx.vip {
        escalate = true;
        // A VIP chasing an unanswered problem is as urgent as an angry one: the relationship is
        // what is at risk.
        let chasing = (has(hits, Tag::Repeat) || ctx.prior_contacts > 0) && sentiment != Sentiment::Positive;
        if sentiment == Sentiment::Angry {
            priority = p1("escalate: VIP sender and angry".into(), &mut reasons);
        } else if chasing {
            priority = p1("escalate: VIP sender chasing an unanswered request".into(), &mut reasons);
        } else {
            priority = priority.min(2);
            reasons.push("escalate: VIP sender".into());
        }
    }
    if category == "cancellation" || cancels_an_order(hits, norm) {
        escalate = true;
        priority = priority.min(2);
        let w = word(hits, Tag::Cancel, norm);
        reasons.push(if w.is_empty() { "escalate: cancellation request".into() } else { format!("escalate: cancel (\"{w}\")") });
    }
    if has(hits, Tag::Damaged) && priority > 2 {
        priority = 2;
        reasons.push(format!("priority: damaged, defective or wrong goods (\"{}\")", word(hits, Tag::Damaged, norm)));
    }
    if has(hits, Tag::Lost) && priority > 2 {
        priority = 2;
        reasons.push(format!("priority: money or goods lost (\"{}\")", word(hits, Tag::Lost, norm)));
    }
    if ctx.prior_contacts > 0 {
        escalate = true;
        priority = priority.min(2);
        let cap = crate::ledger::messages::SENDER_COUNT_CAP;
        reasons.push(format!(
            "escalate: repeated contact ({}{} earlier message{} from this sender within {} days)",
            ctx.prior_contacts,
            if ctx.prior_contacts >= cap { " or more" } else { "" },
            if ctx.prior_contacts == 1 { "" } else { "s" },
            ctx.repeat_days
        ));
    } else if has(hits, Tag::Repeat) && sentiment != Sentiment::Positive && category != "product" && category != "other" {
        priority = priority.min(2);
        reasons.push(format!("priority: says this is a repeated request (\"{}\")", word(hits, Tag::Repeat, norm)));
    }
    if sentiment == Sentiment::Angry && priority > 2 {
        priority = 2;
        reasons.push("priority: angry customer".into());
    }
    if category == "address_change" && priority > 2 {
        priority = 2;
        reasons.push("priority: address change is time-critical (before dispatch)".into());
    }
    if has(hits, Tag::Urgent) && priority > 2 && category != "product" && category != "other" {
        priority = 2;
        reasons.push(format!("priority: marked urgent (\"{}\")", word(hits, Tag::Urgent, norm)));
    }
    Verdict { sentiment, priority, escalate, reasons }
}

/// "cancel" about an order (not "my card was cancelled"): an order word within a few words.
fn cancels_an_order(hits: &[Hit], norm: &str) -> bool {
    const ORDER_WORDS: &[&str] = &["order", "bestell", "auftrag", "commande", "pedido", "compra", "订单", "subscription", "abo"];
    let Some(h) = hits.iter().find(|h| h.tag == Tag::Cancel) else { return false };
    let before = floor_char(norm, h.start.saturating_sub(30));
    let after = ceil_char(norm, (h.end + 30).min(norm.len()));
    let window = &norm[before..after];
    ORDER_WORDS.iter().any(|w| window.contains(w))
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// True when `sender` matches a `[team] vip` entry (an address, or `@domain` / `domain`).
pub fn is_vip(sender: &str, vip: &[String]) -> bool {
    let sender = sender.trim().to_ascii_lowercase();
    if sender.is_empty() {
        return false;
    }
    let domain = sender.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    vip.iter().any(|v| {
        let v = v.trim().to_ascii_lowercase();
        if let Some(d) = v.strip_prefix('@') {
            domain == d || domain.ends_with(&format!(".{d}"))
        } else if v.contains('@') {
            v == sender
        } else {
            !v.is_empty() && (domain == v || domain.ends_with(&format!(".{v}")))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::classify::text::FeatureBuf;

    fn run(text: &str, category: &str, ctx: &Context) -> Verdict {
        let mut f = FeatureBuf::default();
        f.extract("", text);
        judge(&f.tags, &f.norm, text, category, ctx)
    }

    #[test]
    fn legal_threats_chargebacks_fraud_are_p1_and_escalated() {
        for t in [
            "If I don't get my money I will contact my lawyer.",
            "Ich werde meinen Anwalt einschalten.",
            "I have opened a PayPal dispute.",
            "This shop is a scam",
            "The charger caught fire!",
            "我要去法院起诉你们",
        ] {
            let v = run(t, "refund", &Context::default());
            assert_eq!(v.priority, 1, "{t}: {v:?}");
            assert!(v.escalate, "{t}");
            assert!(v.reasons.iter().any(|r| r.starts_with("escalate:")), "{t}: {:?}", v.reasons);
        }
    }

    #[test]
    fn general_questions_are_p4_and_problems_p3() {
        let v = run("Is this jacket available in size M?", "product", &Context::default());
        assert_eq!((v.priority, v.escalate, v.sentiment), (4, false, Sentiment::Neutral));
        let v = run("Where is my parcel? Order 1234", "shipping", &Context::default());
        assert_eq!((v.priority, v.escalate), (3, false));
    }

    #[test]
    fn anger_vip_repeat_and_cancel() {
        let v = run("This is unacceptable, the worst shop ever!!!", "complaint", &Context::default());
        assert_eq!((v.sentiment, v.priority), (Sentiment::Angry, 2));
        let vip = Context { vip: true, ..Default::default() };
        let v = run("This is unacceptable!", "complaint", &vip);
        assert_eq!((v.priority, v.escalate), (1, true));
        let v = run("Our shipment is late and we had no reply to two emails.", "shipping", &vip);
        assert_eq!((v.priority, v.escalate), (1, true), "{v:?}");
        let v = run("Could you send me your spring catalogue?", "product", &vip);
        assert_eq!((v.priority, v.escalate), (2, true), "{v:?}");
        let repeat = Context { prior_contacts: 2, repeat_days: 7, ..Default::default() };
        let v = run("Any news about my parcel?", "shipping", &repeat);
        assert_eq!((v.priority, v.escalate), (2, true));
        assert!(v.reasons.iter().any(|r| r.contains("2 earlier messages")));
        let v = run("Please cancel my order", "cancellation", &Context::default());
        assert!(v.escalate && v.priority == 2);
        let v = run("Please refund to my other card, the old one was cancelled", "refund", &Context::default());
        assert!(!v.escalate, "{v:?}");
        let v = run("Where is it? If it is not here by Friday I will cancel the order", "shipping", &Context::default());
        assert!(v.escalate, "{v:?}");
    }

    #[test]
    fn damage_and_lost_money_are_p2() {
        assert_eq!(run("The vase arrived broken", "complaint", &Context::default()).priority, 2);
        assert_eq!(run("You charged me twice for one order", "payment", &Context::default()).priority, 2);
        assert_eq!(run("Can I pay by invoice?", "payment", &Context::default()).priority, 3);
    }

    #[test]
    fn sentiment_of_thanks_and_shouting() {
        assert_eq!(sentiment(&[], "Thanks, Jane", "shipping"), Sentiment::Neutral);
        let mut f = FeatureBuf::default();
        f.extract("", "Thank you so much, the shoes are perfect");
        assert_eq!(sentiment(&f.tags, "", "other"), Sentiment::Positive);
        f.extract("", "THE BOX WAS DAMAGED AND NOBODY ANSWERS");
        assert_eq!(sentiment(&f.tags, "THE BOX WAS DAMAGED AND NOBODY ANSWERS", "complaint"), Sentiment::Angry);
    }

    #[test]
    fn vip_matching() {
        let vip = vec!["boss@big.example".to_string(), "@vip.example".to_string(), "key.example".to_string()];
        assert!(is_vip("Boss@Big.example", &vip));
        assert!(is_vip("a@vip.example", &vip));
        assert!(is_vip("a@mail.key.example", &vip));
        assert!(!is_vip("a@notvip.example", &vip));
        assert!(!is_vip("", &vip));
    }
}
