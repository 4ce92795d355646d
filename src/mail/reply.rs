//! Composing a reply: addresses, `Re:` subject, threading headers, body, HTML alternative and
//! attachments, rendered once into the exact RFC 822 bytes that are sent (lettre's
//! `Message::formatted`).
//!
//! Everything that comes from a received message (names, subject, Message-IDs) is untrusted:
//! lettre RFC 2047-encodes any header word holding CR, LF or non-ASCII, so a subject such as
//! `"hi\r\nBcc: x@evil"` stays inside the Subject header; Message-IDs that are not plain
//! `local@domain` tokens are dropped rather than copied into References.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::LazyLock;

use anyhow::{Context, Result, anyhow, bail};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use rand::RngCore;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::record::{Address, Record};

/// A file to attach, as named in a draft (`draft.attachments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentFile {
    pub path: PathBuf,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
}

/// What a reply is made of.
pub struct ReplyInput<'a> {
    /// The sending account's From, e.g. `Support <support@example.com>`.
    pub from: &'a str,
    /// The message being answered (its base record).
    pub original: &'a Record,
    /// The draft's subject; empty means the original's. `Re: ` is added when missing.
    pub subject: &'a str,
    pub body: &'a str,
    pub body_html: Option<&'a str>,
    pub attachments: &'a [AttachmentFile],
    /// `<id@domain>`, fixed before the first attempt.
    pub message_id: &'a str,
    /// Extra envelope recipients that do not appear in the headers (bcc_self).
    pub envelope_bcc: &'a [String],
}

/// SMTP envelope, stored next to the bytes so a retry uses exactly the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutEnvelope {
    pub from: String,
    pub to: Vec<String>,
}

/// The rendered reply.
pub struct BuiltReply {
    pub raw: Vec<u8>,
    pub envelope: OutEnvelope,
    pub to: Vec<String>,
    pub subject: String,
}

static REPLY_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(re|aw|antw|antwort|sv|vs|ref|rif|r|res|réf|odp|yn|atb|vá|wg|回复|回覆|答复)\s*(\[\d+\])?\s*[:：]",
    )
    .expect("valid regex")
});

/// `Re: ` + subject, unless it already starts with a reply prefix in some language.
pub fn reply_subject(subject: &str) -> String {
    let clean = single_line(subject);
    if REPLY_PREFIX.is_match(&clean) { clean } else { format!("Re: {clean}").trim_end().to_string() }
}

/// CRLF line ends throughout (a bare LF is not a line end in SMTP, and a "." after one would
/// escape dot-stuffing), without trailing blank lines: the transport adds the final CRLF.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n").trim_end().replace('\n', "\r\n")
}

/// Control characters (CR, LF, tabs...) become spaces: header text is one line.
fn single_line(s: &str) -> String {
    let replaced: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A Message-ID as `id-left@id-right` without brackets, or None when it is not a safe token.
pub fn clean_message_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let ok = !id.is_empty()
        && id.len() <= 250
        && id.contains('@')
        && id.bytes().all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>' && b != b'"' && b != b',');
    ok.then(|| id.to_string())
}

/// `(In-Reply-To, References)` for a reply to `original`: the original's Message-ID, and its
/// References followed by that Message-ID (long chains keep the first and the last 19).
pub fn threading(original: &Record) -> (Option<String>, Vec<String>) {
    let parent = original.message_id.as_deref().and_then(clean_message_id);
    let mut refs: Vec<String> = Vec::new();
    let earlier = original.references.iter().chain(original.in_reply_to.iter().filter(|_| original.references.is_empty()));
    for id in earlier.filter_map(|r| clean_message_id(r)).chain(parent.clone()) {
        if !refs.contains(&id) {
            refs.push(id);
        }
    }
    if refs.len() > 20 {
        let tail = refs.split_off(refs.len() - 19);
        refs.truncate(1);
        refs.extend(tail);
    }
    (parent, refs)
}

/// A fresh `<uuid@domain>` Message-ID (random version-4 UUID).
pub fn new_message_id(domain: &str) -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::hex::hex(&b);
    format!("<{}-{}-{}-{}-{}@{}>", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32], domain)
}

/// The domain of a From such as `Support <support@example.com>`.
pub fn from_domain(from: &str) -> Result<String> {
    let mbox = parse_mailbox(from).with_context(|| format!("smtp.from {from:?} is not a mail address"))?;
    Ok(mbox.email.domain().to_string())
}

/// The bare address of a From such as `Support <support@example.com>`.
pub fn parse_address(from: &str) -> Result<String> {
    Ok(parse_mailbox(from)?.email.to_string())
}

fn parse_mailbox(s: &str) -> Result<Mailbox> {
    Mailbox::from_str(s.trim()).map_err(|e| anyhow!("{e}"))
}

fn mailbox_of(a: &Address) -> Result<Mailbox> {
    let email = lettre::Address::from_str(a.address.trim())
        .map_err(|e| anyhow!("{:?} is not a usable address: {e}", a.address))?;
    let name = a.name.as_deref().map(single_line).filter(|n| !n.is_empty());
    Ok(Mailbox::new(name, email))
}

/// Who a reply goes to: Reply-To when the original has one, else From.
pub fn recipients(original: &Record) -> Result<Vec<Mailbox>> {
    let list: Vec<&Address> =
        if original.reply_to.is_empty() { original.from.iter().collect() } else { original.reply_to.iter().collect() };
    if list.is_empty() {
        bail!("the original message has neither Reply-To nor From: nobody to reply to");
    }
    list.into_iter().map(mailbox_of).collect()
}

/// Renders the reply into its final bytes and envelope.
pub fn build_reply(input: &ReplyInput<'_>) -> Result<BuiltReply> {
    let from = parse_mailbox(input.from).with_context(|| format!("smtp.from {:?} is not a mail address", input.from))?;
    let to = recipients(input.original)?;
    let base = if input.subject.trim().is_empty() { input.original.subject.as_str() } else { input.subject };
    let subject = reply_subject(base);
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(subject.clone())
        .message_id(Some(input.message_id.to_string()));
    for m in &to {
        builder = builder.to(m.clone());
    }
    let (in_reply_to, references) = threading(input.original);
    if let Some(parent) = in_reply_to {
        builder = builder.in_reply_to(format!("<{parent}>"));
    }
    if !references.is_empty() {
        let joined: Vec<String> = references.iter().map(|r| format!("<{r}>")).collect();
        builder = builder.references(joined.join(" "));
    }
    let body = crlf(input.body);
    let html = input.body_html.map(crlf);
    let message = match (html, input.attachments.is_empty()) {
        (None, true) => builder.singlepart(SinglePart::plain(body)),
        (Some(html), true) => builder.multipart(MultiPart::alternative_plain_html(body, html)),
        (html, false) => {
            let mut mixed = match html {
                Some(h) => MultiPart::mixed().multipart(MultiPart::alternative_plain_html(body, h)),
                None => MultiPart::mixed().singlepart(SinglePart::plain(body)),
            };
            for a in input.attachments {
                mixed = mixed.singlepart(attachment_part(a)?);
            }
            builder.multipart(mixed)
        }
    }
    .context("building the reply")?;

    let mut rcpt: Vec<String> = to.iter().map(|m| m.email.to_string()).collect();
    for extra in input.envelope_bcc {
        if !rcpt.iter().any(|r| r.eq_ignore_ascii_case(extra)) {
            rcpt.push(extra.clone());
        }
    }
    Ok(BuiltReply {
        raw: message.formatted(),
        envelope: OutEnvelope { from: from.email.to_string(), to: rcpt },
        to: to.iter().map(|m| m.email.to_string()).collect(),
        subject,
    })
}

fn attachment_part(a: &AttachmentFile) -> Result<SinglePart> {
    let bytes = std::fs::read(&a.path).with_context(|| format!("attachment {}", a.path.display()))?;
    let filename = a
        .filename
        .clone()
        .or_else(|| a.path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|n| single_line(&n))
        .unwrap_or_else(|| "attachment".into());
    let ct = a.content_type.as_deref().unwrap_or("application/octet-stream");
    let content_type =
        ContentType::parse(ct).map_err(|e| anyhow!("attachment {}: content type {ct:?}: {e}", a.path.display()))?;
    Ok(Attachment::new(filename).body(bytes, content_type))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parse::Headers;
    use mail_parser::MimeHeaders;

    fn original() -> Record {
        let mut r = Record::new("m1");
        r.message_id = Some("orig-2@shop.example".into());
        r.references = vec!["root-1@shop.example".into()];
        r.in_reply_to = Some("root-1@shop.example".into());
        r.from = Some(Address { name: Some("Ann Customer".into()), address: "ann@shop.example".into() });
        r.subject = "Where is my order?".into();
        r
    }

    fn build(original: &Record, subject: &str) -> BuiltReply {
        build_reply(&ReplyInput {
            from: "Support <support@example.test>",
            original,
            subject,
            body: "Hello Ann,\n\nyour parcel is on its way.\n",
            body_html: None,
            attachments: &[],
            message_id: "<abc@example.test>",
            envelope_bcc: &[],
        })
        .unwrap()
    }

    #[test]
    fn reply_prefix_is_added_once_in_any_language() {
        assert_eq!(reply_subject("Where is my order?"), "Re: Where is my order?");
        for s in ["Re: x", "RE: x", "AW: x", "Antw: x", "SV: x", "Re[2]: x", "回复：x", "re : x"] {
            assert_eq!(reply_subject(s), s, "{s}");
        }
        assert_eq!(reply_subject("Refund please"), "Re: Refund please");
        assert_eq!(reply_subject(""), "Re:");
    }

    #[test]
    fn threading_headers_follow_the_original() {
        let b = build(&original(), "");
        let h = Headers::parse(&b.raw);
        assert_eq!(h.get("in-reply-to"), Some("<orig-2@shop.example>"));
        assert_eq!(h.get("references"), Some("<root-1@shop.example> <orig-2@shop.example>"));
        assert_eq!(h.get("subject"), Some("Re: Where is my order?"));
        assert_eq!(h.get("message-id"), Some("<abc@example.test>"));
        assert_eq!(b.to, ["ann@shop.example"]);
        assert_eq!(b.envelope.from, "support@example.test");
    }

    #[test]
    fn reply_to_wins_over_from_and_bcc_stays_out_of_the_headers() {
        let mut o = original();
        o.reply_to = vec![Address { name: None, address: "orders@shop.example".into() }];
        let b = build_reply(&ReplyInput {
            from: "support@example.test",
            original: &o,
            subject: "Re: custom",
            body: "x",
            body_html: None,
            attachments: &[],
            message_id: "<id@example.test>",
            envelope_bcc: &["support@example.test".into()],
        })
        .unwrap();
        assert_eq!(b.envelope.to, ["orders@shop.example", "support@example.test"]);
        let text = String::from_utf8_lossy(&b.raw);
        assert!(!text.to_ascii_lowercase().contains("bcc"), "{text}");
        assert!(text.contains("To: orders@shop.example"), "{text}");
    }

    #[test]
    fn crlf_in_subject_or_name_never_makes_a_header() {
        let mut o = original();
        o.subject = "Hi\r\nBcc: evil@attacker.example\r\nX-Injected: 1".into();
        o.from = Some(Address { name: Some("Eve\r\nBcc: evil2@attacker.example".into()), address: "eve@shop.example".into() });
        o.message_id = Some("ok@x\r\nBcc: evil3@attacker.example".into());
        let b = build(&o, "");
        let h = Headers::parse(&b.raw);
        assert!(!h.has("bcc") && !h.has("x-injected"), "{}", String::from_utf8_lossy(&b.raw));
        let text = String::from_utf8_lossy(&b.raw);
        for line in text.lines() {
            assert!(!line.to_ascii_lowercase().starts_with("bcc:"), "{line}");
        }
        assert!(!h.has("in-reply-to"), "an unsafe Message-ID is not copied");
        assert_eq!(b.envelope.to, ["eve@shop.example"]);
        // The subject survives as one header (decoded by the parser).
        let parsed = mail_parser::MessageParser::default().parse(&b.raw[..]).unwrap();
        assert_eq!(parsed.subject(), Some("Re: Hi Bcc: evil@attacker.example X-Injected: 1"));
    }

    #[test]
    fn bodies_have_crlf_line_ends_only() {
        let o = original();
        let b = build_reply(&ReplyInput {
            from: "support@example.test",
            original: &o,
            subject: "",
            body: "line one\n.\nline three\r\nlast\n\n",
            body_html: None,
            attachments: &[],
            message_id: "<id@example.test>",
            envelope_bcc: &[],
        })
        .unwrap();
        let text = String::from_utf8(b.raw).unwrap();
        assert!(!text.replace("\r\n", "").contains('\n'), "bare LF in {text:?}");
        assert!(text.ends_with("\r\n\r\nline one\r\n.\r\nline three\r\nlast\r\n"), "{text:?}");
    }

    #[test]
    fn html_alternative_and_attachments() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("label.pdf");
        std::fs::write(&file, b"%PDF-1.4 fake").unwrap();
        let atts = [AttachmentFile { path: file, filename: None, content_type: Some("application/pdf".into()) }];
        let o = original();
        let b = build_reply(&ReplyInput {
            from: "support@example.test",
            original: &o,
            subject: "",
            body: "plain text",
            body_html: Some("<p>html text</p>"),
            attachments: &atts,
            message_id: "<id@example.test>",
            envelope_bcc: &[],
        })
        .unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&b.raw[..]).unwrap();
        assert_eq!(parsed.body_text(0).as_deref().map(str::trim), Some("plain text"));
        assert!(parsed.body_html(0).unwrap().contains("html text"));
        let att = parsed.attachments().next().unwrap();
        assert_eq!(att.attachment_name(), Some("label.pdf"));
        assert_eq!(att.contents(), b"%PDF-1.4 fake");
    }

    #[test]
    fn message_ids_are_unique_and_well_formed() {
        let a = new_message_id("example.test");
        let b = new_message_id("example.test");
        assert_ne!(a, b);
        assert!(a.starts_with('<') && a.ends_with("@example.test>"), "{a}");
        assert_eq!(clean_message_id(&a).unwrap().len(), a.len() - 2);
        assert_eq!(from_domain("Support <help@shop.example>").unwrap(), "shop.example");
    }

    #[test]
    fn no_sender_is_an_error() {
        let mut o = original();
        o.from = None;
        let err = build_reply(&ReplyInput {
            from: "support@example.test",
            original: &o,
            subject: "",
            body: "x",
            body_html: None,
            attachments: &[],
            message_id: "<id@example.test>",
            envelope_bcc: &[],
        })
        .err()
        .unwrap();
        assert!(err.to_string().contains("nobody to reply to"), "{err}");
    }
}
