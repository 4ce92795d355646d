//! Bounces: delivery status notifications (RFC 3464 `multipart/report`), the many
//! non-standard formats mail servers use, and abuse feedback reports (ARF).

use std::cell::LazyCell;
use std::sync::LazyLock;

use regex::Regex;

use super::headers::{self, content_type, null_return_path};
use super::testmail::bare_subject;
use crate::mail::parse::Headers;
use crate::record::Record;
use crate::stages::classify::text::head_chars;

/// Senders that are mail systems, not people.
static DAEMON_SENDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:mailer[-_]?daemon|mail[-_]?daemon|postmaster|post[-_]master|mdaemon|mail\.?delivery|bounces?)(?:[@+]|$)")
        .expect("daemon sender regex")
});
static DAEMON_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:mailer[-_ ]?daemon|mail\s+delivery\s+(?:system|subsystem|service)|postmaster|mail\s+administrator|.*ndr\s+administrator|microsoft\s+outlook)$")
        .expect("daemon name regex")
});
/// List managers and other robots that send error notices (`list-admin@`, `owner-list@`).
static LIST_ROBOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:[^@]+-(?:admin|owner|request|bounces?|errors?)|owner-[^@]+)@").expect("list robot regex")
});

static SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        undeliver(?:able|ed) | delivery\s+(?:status|failure|failed|has\s+failed|notification|problem|report)
      | mail\s+delivery\s+(?:failed|failure|error) | returned\s+mail | returned\s+to\s+sender | failure\s+notice
      | could\s+not\s+(?:be\s+)?(?:send|sent|deliver) | not\s+(?:be\s+)?delivered | non[-\s]?deliver | (?-u:\b)ndr(?-u:\b)
      | mail\s+system\s+error | delivery\s+error | message\s+(?:not\s+delivered|blocked|rejected|delayed)
      | rejected\s+(?:mail|message) | mail\s+(?:error|could\s+not) | (?-u:\b)bounced?(?-u:\b) | warning:\s+could\s+not
      | unzustellbar | nicht\s+zustellbar | non\s+remis | non\s+distribu | no\s+entregad | non\s+recapitabile
      | onbestelbaar | niedostarczalne | не\s+доставлен
      | 退信 | 投递失败 | 发送失败 | 無法傳遞 | メールエラー | 配信エラー | 配送エラー | 送信できません | 전송\s*실패
      | (?-u:\b)dsn(?-u:\b) | (?-u:\b)notification\s+of\s+delivery | undelivered\s+mail | delayed\s+mail | mail\s+returned",
    )
    .expect("bounce subject regex")
});

/// Lines that only delivery reports contain (also when quoted in a forward): technical
/// wording no customer writing about a parcel would use.
static DSN_BODY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?imx)
        ^[>\s]*(?:final-recipient|original-recipient|diagnostic-code|reporting-mta|remote-mta|x-postfix-queue-id)\s*:
      | ^[>\s]*action\s*:\s*(?:failed|delayed)
      | ^[>\s]*status\s*:\s*[45]\.[0-9]{1,3}\.[0-9]{1,3}
      | (?-u:\b)[45][0-9][0-9][\s-]+[45]\.[0-9]{1,3}\.[0-9]{1,3}(?-u:\b) | (?-u:\b)(?:550|551|552|553|554)\s.{0,40}(?:user|mailbox|recipient|address|rejected|denied)
      | permanent\s+fatal\s+errors | this\s+is\s+the\s+mail\s+system\s+at\s+host | mail\s+delivery\s+software
      | wasn't\s+able\s+to\s+deliver\s+your\s+message | your\s+message\s+(?:could\s+not|couldn't|cannot|can't)\s+be\s+delivered
      | delivery\s+to\s+the\s+following\s+recipients?\s+(?:failed|has\s+been\s+delayed)
      | the\s+following\s+(?:addresses|recipients?)\s+(?:had|failed)
      | (?:user|recipient|e-?mail\s+address)\s+(?:unknown|not\s+found|does\s+not\s+exist)
      | no\s+such\s+(?:user|mailbox|recipient) | recipient\s+address\s+rejected | (?:mailbox\s+)?quota\s+exceeded
      | over\s+quota | message\s+(?:size\s+)?exceeds | host\s+or\s+domain\s+name\s+not\s+found
      | "bouncetype"\s*: | "notificationtype"\s*:\s*"(?:bounce|complaint)"
      | 送信できませんでした | 无法投递 | 退信原因 | 系统退信
    "#,
    )
    .expect("dsn body regex")
});

/// Wording that only a mail system writes, enough on its own when nobody added words of their own.
static MACHINE_ONLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?im)^(?:final-recipient|diagnostic-code|reporting-mta|remote-mta)\s*:|\\?"bouncetype\\?"\s*:|\\?"notificationtype\\?"\s*:\s*\\?"(?:bounce|complaint|delivery)\\?""#)
        .expect("machine-only regex")
});

/// Hotmail's junk-mail reports (JMRP): the reported message comes attached.
static COMPLAINT_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*complaint\s+about\s+message\s+from\s+[0-9]{1,3}(?:\.[0-9]{1,3}){3}\s*$").expect("complaint regex")
});

/// Weaker wording of a failed delivery; it counts only from a null sender.
static FAILURE_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)could\s+not\s+be\s+delivered|undeliverable|undelivered|returned\s+to\s+sender|unable\s+to\s+deliver|delivery\s+(?:has\s+)?failed|mailbox\s+(?:is\s+)?(?:full|unavailable)")
        .expect("failure words regex")
});

/// What the machine-sent message is.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Bounce(String),
    /// A read receipt or an abuse report: machine mail that is not a bounce.
    Autoreply(String),
}

/// Attachments that carry a report or a returned message.
fn report_part(record: &Record) -> Option<&str> {
    record.attachments.iter().map(|a| a.content_type.as_str()).find(|ct| {
        matches!(*ct, "message/delivery-status" | "message/global-delivery-status" | "message/feedback-report"
            | "message/disposition-notification" | "text/rfc822-headers" | "message/rfc822-headers")
    })
}

fn returns_original(record: &Record) -> bool {
    record.attachments.iter().any(|a| a.content_type == "message/rfc822" || a.content_type == "message/global")
}

pub fn daemon_sender(record: &Record) -> Option<String> {
    let from = record.from.as_ref();
    let address = from.map(|a| a.address.trim()).unwrap_or("");
    let name = from.and_then(|a| a.name.as_deref()).unwrap_or("").trim();
    if DAEMON_SENDER.is_match(address) || DAEMON_NAME.is_match(name) || address == "<>" {
        return Some(format!("sent by the mail system ({})", if address.is_empty() { name } else { address }));
    }
    None
}

/// `list-admin@…`-style senders; a person can have such an address too, so this only counts
/// together with list software headers or delivery-failure wording.
fn list_robot(record: &Record) -> Option<&str> {
    let address = record.sender_address().trim();
    LIST_ROBOT.is_match(address).then_some(address)
}

/// Is this a bounce or another delivery report? Anything a person wrote to us about a
/// parcel that "could not be delivered" must not look like one: the body rules use only the
/// technical wording of mail servers unless the sender is a mail system itself.
pub fn report(record: &Record, headers: Option<&Headers>) -> Option<Report> {
    if let Some(ct) = headers.and_then(content_type) {
        if ct.starts_with("multipart/report") {
            return Some(if ct.contains("feedback-report") {
                Report::Autoreply("abuse feedback report (multipart/report; report-type=feedback-report)".into())
            } else if ct.contains("disposition-notification") {
                Report::Autoreply("read receipt (multipart/report; report-type=disposition-notification)".into())
            } else {
                Report::Bounce("delivery status notification (multipart/report)".into())
            });
        }
    }
    if let Some(part) = report_part(record) {
        return Some(match part {
            "message/feedback-report" => Report::Autoreply(format!("abuse feedback report ({part} part)")),
            "message/disposition-notification" => Report::Autoreply(format!("read receipt ({part} part)")),
            _ => Report::Bounce(format!("delivery report ({part} part)")),
        });
    }
    let subject = record.subject.trim();
    let forwarded = bare_subject(subject).len() < subject.len() && !subject.to_ascii_lowercase().starts_with("re");
    let bounce_subject = SUBJECT.is_match(subject);
    // The failure wording is looked for only when a rule below asks: most mail never does.
    let dsn_in_new = LazyCell::new(|| DSN_BODY.is_match(head(&record.text_new)));
    let dsn_body = LazyCell::new(|| *dsn_in_new || has_more_text(record) && DSN_BODY.is_match(head(&record.text)));
    // Someone forwarding a bounce with words of their own is asking us something.
    let person_wrote = || {
        record.text_new.contains('?') || forwarded && !*dsn_in_new && record.text_new.split_whitespace().count() > 12
    };

    if let Some(who) = daemon_sender(record) {
        return Some(Report::Bounce(format!("bounce {who}")));
    }
    if let Some(address) = list_robot(record) {
        if headers.is_some_and(headers::list_software) || bounce_subject || *dsn_body {
            return Some(Report::Autoreply(format!("notice from a mailing-list robot ({address})")));
        }
    }
    if headers.is_some_and(null_return_path)
        && (bounce_subject || subject.is_empty() || *dsn_body || FAILURE_WORDS.is_match(head(&record.text)) || returns_original(record))
    {
        return Some(Report::Bounce("bounce: null sender (Return-Path: <>) with a delivery failure".into()));
    }
    if COMPLAINT_SUBJECT.is_match(subject) && returns_original(record) {
        return Some(Report::Autoreply("junk-mail complaint report with the reported message attached".into()));
    }
    if MACHINE_ONLY.is_match(head(&record.text_new)) {
        return Some(Report::Bounce("bounce: delivery-status fields in the text".into()));
    }
    if person_wrote() {
        return None;
    }
    if has_more_text(record) && MACHINE_ONLY.is_match(head(&record.text)) {
        return Some(Report::Bounce("bounce: delivery-status fields in the forwarded text".into()));
    }
    if bounce_subject && *dsn_body {
        return Some(Report::Bounce(format!("bounce: subject \"{}\" and a delivery failure in the text", clip(subject))));
    }
    if bounce_subject && returns_original(record) && !forwarded {
        return Some(Report::Bounce("bounce: failure subject with the original message attached".into()));
    }
    None
}

/// The whole text says more than its new part (a quote, a forward): the rules that read
/// `text` after `text_new` would otherwise read the same words twice.
fn has_more_text(record: &Record) -> bool {
    record.text != record.text_new
}

fn clip(s: &str) -> String {
    super::headers::clip(s)
}

fn head(text: &str) -> &str {
    head_chars(text, 8000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parse::{DEFAULT_MAX_PARSE_BYTES, parse_message};

    fn judge(raw: &str) -> Option<Report> {
        let raw = raw.replace('\n', "\r\n");
        let record = parse_message(raw.as_bytes(), "t", "t", DEFAULT_MAX_PARSE_BYTES).record;
        report(&record, Some(&Headers::parse(raw.as_bytes())))
    }

    #[test]
    fn a_standard_dsn_is_a_bounce() {
        let r = judge(
            "From: Mail Delivery System <MAILER-DAEMON@mx.shop.example>\nSubject: Undelivered Mail Returned to Sender\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n\
I'm sorry to have to inform you that your message could not be delivered.\n--b\n\
Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; jane@gmial.com\nAction: failed\nStatus: 5.1.1\n--b--\n",
        );
        assert!(matches!(r, Some(Report::Bounce(_))), "{r:?}");
    }

    #[test]
    fn a_plain_text_bounce_from_the_daemon_is_a_bounce() {
        let r = judge("From: MAILER-DAEMON@mx.example\nSubject: failure notice\n\nSorry, 552 mailbox full.\n");
        assert!(matches!(r, Some(Report::Bounce(_))), "{r:?}");
    }

    #[test]
    fn a_customer_forwarding_a_bounce_with_a_question_is_not() {
        let r = judge(
            "From: Jane <jane@example.com>\nSubject: Fwd: Undeliverable: order 4411\n\n\
I tried to write to your sales address and got this back. Can you tell me where my order 4411 is? \
It has been three weeks now.\n\n---------- Forwarded message ---------\n\
From: postmaster@shop.example\nSubject: Undeliverable: order 4411\n\n550 5.1.1 User unknown\n",
        );
        assert_eq!(r, None);
    }

    #[test]
    fn a_customer_complaining_about_delivery_is_not_a_bounce() {
        let r = judge("From: Jane <jane@example.com>\nSubject: Delivery failed again\n\nThe courier said the parcel could not be delivered. Please help.\n");
        assert_eq!(r, None);
    }
}
