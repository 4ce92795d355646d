//! Rule-by-rule tests of `verdict` with real-looking messages.

use std::cell::RefCell;

use super::*;
use crate::mail::parse::{DEFAULT_MAX_PARSE_BYTES, parse_message};

/// A ledger stand-in: what the rules ask about, with fixed answers.
#[derive(Default)]
struct FakeHistory {
    decision: Option<HumanDecision>,
    earlier: Option<EarlierCopy>,
    sent: Vec<String>,
    known: Vec<String>,
    asked: RefCell<Vec<String>>,
}

impl History for FakeHistory {
    fn human_decision(&self, _id: &str) -> Result<Option<HumanDecision>> {
        Ok(self.decision.clone())
    }
    fn earlier_copy(&self, message_id: &str, _id: &str) -> Result<Option<EarlierCopy>> {
        self.asked.borrow_mut().push(message_id.to_string());
        Ok(self.earlier.clone())
    }
    fn our_sent_message(&self, ids: &[&str]) -> Result<Option<String>> {
        Ok(ids.iter().find(|i| self.sent.iter().any(|s| s == *i)).map(|s| s.to_string()))
    }
    fn known_correspondent(&self, address: &str) -> Result<bool> {
        Ok(self.known.iter().any(|k| k == address))
    }
}

fn config(extra: &str) -> Config {
    Config::parse(&format!("[team]\ndomains = [\"shop.example\"]\n{extra}"), std::path::Path::new("test.toml")).unwrap()
}

fn judge_with(raw: &str, config: &Config, history: Option<&dyn History>) -> FilterResult {
    let raw = raw.replace('\n', "\r\n");
    let record = parse_message(raw.as_bytes(), "t", "INBOX", DEFAULT_MAX_PARSE_BYTES).record;
    let model = embedded_model().unwrap();
    let ctx = FilterContext::new(config, &model);
    verdict(&record, Some(&Headers::parse(raw.as_bytes())), &ctx, history).unwrap()
}

fn judge(raw: &str) -> FilterResult {
    judge_with(raw, &config(""), None)
}

const CUSTOMER: &str = "From: Maria Rossi <maria.rossi@gmail.com>
To: support@shop.example
Subject: Where is my order #NW-48213?
Message-ID: <cust-1@mail.gmail.com>
Date: Mon, 3 Nov 2026 10:00:00 +0100

Hello,

I ordered a cast iron skillet on 20 October (order #NW-48213) and the tracking has not
moved for a week. Could you please check with the carrier? I need it before Friday.

Thanks,
Maria
";

#[test]
fn a_customer_question_passes_with_a_reason() {
    let r = judge(CUSTOMER);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert!(r.reasons.iter().any(|x| x.contains("spam model")), "{r:?}");
}

#[test]
fn a_customer_in_another_language_passes() {
    for (subject, body) in [
        ("Wo bleibt meine Bestellung?", "Guten Tag, meine Bestellung 100482731 ist seit zwei Wochen unterwegs. Wann kommt sie an?"),
        ("我的订单还没发货", "你好，我的订单NW-48590已经付款一周了，还没有发货，请帮我查一下。谢谢！"),
        ("Colis perdu", "Bonjour, le suivi indique livré mais je n'ai rien reçu. Pouvez-vous m'aider ?"),
    ] {
        let raw = format!("From: c@web.de\nTo: support@shop.example\nSubject: {subject}\nContent-Type: text/plain; charset=utf-8\n\n{body}\n");
        assert_eq!(judge(&raw).verdict, Verdict::Pass, "{subject}");
    }
}

#[test]
fn advance_fee_spam_is_spam() {
    let r = judge(
        "From: \"Barrister James Cole\" <jcole.chambers@mail-inbox.example>
Reply-To: jamescole.esq@freemail.example
To: support@shop.example
Subject: URGENT BUSINESS PROPOSAL - CONFIDENTIAL

Dear Friend,

I am Barrister James Cole, personal attorney to the late Mr. Robert Smith, who died with his
entire family in a plane crash. He left the sum of US$18.5 million (eighteen million five hundred
thousand United States dollars) in a bank account with no next of kin. I seek your consent to
present you as the beneficiary so that the funds can be released to you. This transaction is
100% risk free and legal. You will receive 40% of the total sum for your assistance.

Please reply urgently with your full name, address, telephone number and bank details so that
we can proceed. Treat this as strictly confidential.

Best regards,
Barrister James Cole
",
    );
    assert_eq!(r.verdict, Verdict::Spam, "{r:?}");
    assert!(r.reasons[0].starts_with("spam model:"), "{r:?}");
}

#[test]
fn spam_from_a_known_correspondent_or_in_our_thread_is_kept() {
    let scam = "From: maria.rossi@gmail.com\nTo: support@shop.example\nSubject: URGENT BUSINESS PROPOSAL\nIn-Reply-To: <r1@shop.example>\n\n\
Dear Friend, I seek your consent to transfer the sum of US$18.5 million (eighteen million dollars) to your bank account. \
This transaction is 100% risk free. Reply urgently with your bank details, full name and telephone number. \
You will receive 40% of the total sum for your assistance. Treat this as strictly confidential.\n";
    let r = judge(scam);
    assert_eq!(r.verdict, Verdict::Pass, "a reply to our own message <r1@shop.example> is never spam: {r:?}");
    assert!(r.reasons.iter().any(|x| x.contains("replies to our message")), "{r:?}");
    let no_thread = scam.replace("In-Reply-To: <r1@shop.example>\n", "");
    assert_eq!(judge(&no_thread).verdict, Verdict::Spam);
    let history = FakeHistory { known: vec!["maria.rossi@gmail.com".into()], ..Default::default() };
    let r = judge_with(&no_thread, &config(""), Some(&history));
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    let vip = config("vip = [\"@gmail.com\"]");
    assert_eq!(judge_with(&no_thread, &vip, None).verdict, Verdict::Pass);
}

#[test]
fn customers_using_spammy_words_in_the_first_person_are_kept() {
    let r = judge(
        "From: jo@gmail.com\nTo: support@shop.example\nSubject: Charged for a FREE gift?!\n\n\
I clicked the link in the email to claim the free gift but I got charged $49.99 on my credit card. \
I never agreed to a subscription. I want my money back immediately!!!\n",
    );
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
}

#[test]
fn polite_letters_and_wholesale_leads_are_kept() {
    let warranty = "From: m.thompson@btinternet.example\nSubject: Warranty claim\n\nDear Sir or Madam,\n\n\
I purchased a Dutch oven from your online store on 5 September 2026. The enamel has cracked after two weeks \
of normal use. I would like to make a warranty claim. Please advise on the next steps.\n\nYours faithfully,\nMargaret Thompson\n";
    assert_eq!(judge(warranty).verdict, Verdict::Pass);
    let lead = "From: ahmed@distribution.example\nSubject: Business opportunity - distribution\n\nHello, we are a distributor \
in Dubai and would like to become your exclusive partner for the Middle East. We offer great margins and fast growth. \
Please send us your catalogue and wholesale prices. Regards, Ahmed\n";
    assert_eq!(judge(lead).verdict, Verdict::Pass);
    // Even where the model is sure, a customer's own order keeps the message.
    let eager = config("[filter]\nspam_threshold = 0.5");
    let urgent = "From: r.hale@bigretail.example\nSubject: URGENT: wholesale order still not delivered\n\n\
Our wholesale order #NW-47990 was promised for 30 October. It has not arrived and every day of delay is costing \
us money. I expect a call from someone senior by end of day tomorrow.\n";
    let r = judge_with(urgent, &eager, None);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert!(r.reasons[0].contains("Our wholesale order") && r.reasons[0].contains("kept for a human"), "{r:?}");
}

#[test]
fn allow_and_block_lists_come_first() {
    let cfg = config("[filter]\nallow = [\"@gmail.com\"]\nblock = [\"maria.rossi@gmail.com\"]");
    let r = judge_with(CUSTOMER, &cfg, None);
    assert_eq!(r.verdict, Verdict::Pass);
    assert!(r.reasons[0].contains("allow list"), "{r:?}");
    let cfg = config("[filter]\nblock = [\"@gmail.com\"]");
    let r = judge_with(CUSTOMER, &cfg, None);
    assert_eq!(r.verdict, Verdict::Spam);
    assert!(r.reasons[0].contains("block list"), "{r:?}");
}

#[test]
fn upstream_spam_headers_count_only_when_trusted() {
    let raw = CUSTOMER.replace("Date:", "X-Spam-Flag: YES\nX-Spam-Status: Yes, score=7.1\nDate:");
    assert_eq!(judge(&raw).verdict, Verdict::Pass);
    let trusted = config("[filter]\ntrust_upstream_spam_headers = true");
    assert_eq!(judge_with(&raw, &trusted, None).verdict, Verdict::Spam);
}

#[test]
fn rfc3834_and_vendor_auto_replies() {
    let base = "From: Tom <tom@customer.example>\nTo: support@shop.example\nSubject: Re: Your order has shipped\n";
    for header in ["Auto-Submitted: auto-replied", "X-Autoreply: yes", "X-Autorespond: yes", "Precedence: auto_reply"] {
        let r = judge(&format!("{base}{header}\n\nThanks for your mail. I will answer when I am back.\n"));
        assert_eq!(r.verdict, Verdict::Autoreply, "{header}: {r:?}");
    }
    let r = judge(&format!("{base}X-Auto-Response-Suppress: All\n\nI am out of the office until 10 November with limited access to email.\n"));
    assert_eq!(r.verdict, Verdict::Autoreply, "{r:?}");
    let r = judge("From: a@b.example\nSubject: Abwesenheitsnotiz: Ihre Bestellung\n\nIch bin bis 12.11. nicht im Büro.\n");
    assert_eq!(r.verdict, Verdict::Autoreply, "{r:?}");
}

#[test]
fn a_customer_who_mentions_being_away_is_not_an_auto_reply() {
    let r = judge("From: a@b.example\nSubject: Delivery date\n\nI will be on vacation until 20 May, please deliver my order after that.\n");
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
}

#[test]
fn auto_generated_relays_of_a_person_pass() {
    let raw = "From: Shop Forms <forms@webshop-platform.example>\nReply-To: Jane Buyer <jane.buyer@gmail.com>\n\
Auto-Submitted: auto-generated\nSubject: New contact form message\n\nName: Jane Buyer\nMessage: My order 4411 arrived broken, what now?\n";
    let r = judge(raw);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    let notice = "From: alerts@monitoring.example\nAuto-Submitted: auto-generated\nSubject: Disk usage report\n\nDisk usage is at 71%.\n";
    assert_eq!(judge(notice).verdict, Verdict::Autoreply);
}

#[test]
fn bounces_and_their_forwarding_customers() {
    let dsn = "From: Mail Delivery System <MAILER-DAEMON@mx.shop.example>\nTo: support@shop.example\n\
Subject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n\
--b\nContent-Type: text/plain\n\nThis is the mail system at host mx.shop.example.\n\n--b\n\
Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; jane@gmial.com\nAction: failed\nStatus: 5.1.1\n--b--\n";
    assert_eq!(judge(dsn).verdict, Verdict::Bounce);
    let text_bounce = "From: postmaster@mail.example\nSubject: failure notice\n\n552 5.2.2 mailbox full\n";
    assert_eq!(judge(text_bounce).verdict, Verdict::Bounce);
    let complaint = "From: Jane <jane@example.com>\nSubject: Delivery failed again\n\n\
The courier said the parcel could not be delivered and was returned to sender. Please help.\n";
    assert_eq!(judge(complaint).verdict, Verdict::Pass);
}

#[test]
fn loops_from_our_own_sent_mail() {
    let cfg = config(
        "[accounts.support]\nimap = { host = \"imap.shop.example\", user = \"support@shop.example\" }",
    );
    let echo = "From: Support <support@shop.example>\nTo: jane@example.com\nSubject: Re: Where is my order?\n\
Message-ID: <sent-1@shop.example>\n\nYour parcel left our warehouse today.\n";
    let history = FakeHistory { sent: vec!["sent-1@shop.example".into()], ..Default::default() };
    let r = judge_with(echo, &cfg, Some(&history));
    assert_eq!(r.verdict, Verdict::Autoreply, "{r:?}");
    assert!(r.reasons[0].contains("loop"), "{r:?}");
    let xloop = "From: x@list.example\nX-Loop: support@shop.example\nSubject: hi\n\nhello\n";
    assert_eq!(judge_with(xloop, &cfg, None).verdict, Verdict::Autoreply);
}

#[test]
fn test_mail_from_anyone_and_from_the_team() {
    assert_eq!(judge("From: dev@agency.example\nSubject: test\n\ntest\n").verdict, Verdict::Test);
    let colleague = "From: Lena <lena@shop.example>\nSubject: testing 123\n\nTesting the new alias, nothing to do.\n";
    assert_eq!(judge(colleague).verdict, Verdict::Test);
    let customer = "From: a@gmail.com\nSubject: Test\n\nIs this address working? My order 4411 never came.\n";
    assert_eq!(judge(customer).verdict, Verdict::Pass);
}

#[test]
fn blank_mail_but_not_a_photo_or_a_subject() {
    assert_eq!(judge("From: a@gmail.com\nSubject: \n\n\n").verdict, Verdict::Blank);
    let sig_only = "From: a@gmail.com\nSubject: Re: Your order has shipped\n\n-- \nJane Doe\n+49 30 1234567\n";
    assert_eq!(judge(sig_only).verdict, Verdict::Blank);
    let quote_only = "From: a@gmail.com\nSubject: Re: Your return label\n\nOn Mon, 3 Nov 2026, Support <support@shop.example> wrote:\n> Please find the label attached.\n";
    assert_eq!(judge(quote_only).verdict, Verdict::Blank);
    let photo = "From: a@gmail.com\nSubject: \nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n\
Content-Type: text/plain\n\n\n--b\nContent-Type: image/jpeg; name=\"broken.jpg\"\nContent-Disposition: attachment; filename=\"broken.jpg\"\n\
Content-Transfer-Encoding: base64\n\n/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////\n--b--\n";
    assert_eq!(judge(photo).verdict, Verdict::Pass, "an attachment-only mail with a photo is not blank");
    assert_eq!(judge("From: a@gmail.com\nSubject: Where is my order 4411?\n\n").verdict, Verdict::Pass);
}

#[test]
fn bulk_mail_but_not_a_customer_writing_through_a_list() {
    let news = "From: KitchenPro <news@kitchenpro.example>\nList-Id: <news.kitchenpro.example>\n\
List-Unsubscribe: <mailto:unsub@kitchenpro.example>\nPrecedence: bulk\nSubject: Flash sale: 40% off\n\nAll pans 40% off this weekend only.\n";
    let r = judge(news);
    assert_eq!(r.verdict, Verdict::Bulk);
    assert_eq!(r.reasons.len(), 3, "{r:?}");
    let via_list = news.replace("All pans 40% off this weekend only.", "Hi, my order NW-4411 from your shop arrived broken. What can I do?");
    let r = judge(&via_list);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    let footer = "From: deals@promo.example\nSubject: This week's deals\n\nGreat prices on cookware.\n\nTo unsubscribe, click here.\n";
    assert_eq!(judge(footer).verdict, Verdict::Bulk);
}

#[test]
fn duplicates_and_human_decisions_need_the_ledger() {
    let first = |from: &str| EarlierCopy {
        id: "m000first".into(),
        from: from.into(),
        subject: "Where is my order #NW-48213?".into(),
    };
    let history = FakeHistory { earlier: Some(first("Maria.Rossi@gmail.com")), ..Default::default() };
    let r = judge_with(CUSTOMER, &config(""), Some(&history));
    assert_eq!(r.verdict, Verdict::Duplicate);
    assert!(r.reasons[0].contains("m000first"), "{r:?}");
    assert_eq!(history.asked.borrow().as_slice(), ["cust-1@mail.gmail.com"]);
    // A mailer that reuses Message-IDs does not make another customer's mail a duplicate.
    let reused = FakeHistory { earlier: Some(first("someone.else@gmail.com")), ..Default::default() };
    let r = judge_with(CUSTOMER, &config(""), Some(&reused));
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert!(r.reasons.iter().any(|x| x.contains("not a duplicate")), "{r:?}");
    let rescued = FakeHistory {
        decision: Some(HumanDecision { verdict: Verdict::Pass, actor: "ana".into(), source: "rescue".into(), at: "t".into() }),
        earlier: Some(first("maria.rossi@gmail.com")),
        ..Default::default()
    };
    let r = judge_with(CUSTOMER, &config("[filter]\nblock = [\"@gmail.com\"]"), Some(&rescued));
    assert_eq!(r.verdict, Verdict::Pass, "a rescue beats every rule: {r:?}");
    assert!(r.reasons[0].contains("ana"), "{r:?}");
}

#[test]
fn a_record_without_headers_says_so() {
    let record = parse_message(CUSTOMER.as_bytes(), "t", "INBOX", DEFAULT_MAX_PARSE_BYTES).record;
    let model = embedded_model().unwrap();
    let cfg = config("");
    let r = verdict(&record, None, &FilterContext::new(&cfg, &model), None).unwrap();
    assert_eq!(r.verdict, Verdict::Pass);
    assert!(r.reasons.iter().any(|x| x.contains("without headers")), "{r:?}");
}

#[test]
fn a_spam_threshold_that_would_drop_ham_is_a_config_error() {
    let err = Config::parse("[filter]\nspam_threshold = 0.2", std::path::Path::new("c.toml")).unwrap_err();
    assert!(err.to_string().contains("spam_threshold"), "{err}");
}

#[test]
fn the_embedded_model_loads_and_is_small() {
    let model = embedded_model().unwrap();
    assert!(EMBEDDED_MODEL.len() < 2 * 1024 * 1024);
    assert!(model.tokens.len() > 1000 && model.docs.iter().all(|d| *d > 100), "{:?}", model.docs);
    assert_eq!(model.meta["name"], "mailroom-spam-base-1");
}
