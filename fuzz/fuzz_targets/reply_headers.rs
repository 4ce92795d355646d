//! A reply built from hostile parts (the customer's name and address, the original subject,
//! Message-ID and References, the draft's subject and body): never panics, and the header block
//! holds exactly the headers mailroom writes, once each, with no bare CR or LF.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom::mail::reply::{ReplyInput, build_reply};
use mailroom::record::{Address, Record};

const HEADERS: &[&str] = &[
    "from", "to", "subject", "message-id", "in-reply-to", "references", "mime-version", "date",
    "content-type", "content-transfer-encoding",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1}');
    let mut next = || parts.next().unwrap_or("").to_string();
    let mut original = Record::new("m1");
    original.from = Some(Address { name: Some(next()), address: next() });
    original.subject = next();
    original.message_id = Some(next());
    original.references = vec![next(), next()];
    let subject = next();
    let body = next();
    let Ok(built) = build_reply(&ReplyInput {
        from: "Support <support@example.test>",
        original: &original,
        subject: &subject,
        body: &body,
        body_html: None,
        attachments: &[],
        message_id: "<fixed@example.test>",
        envelope_bcc: &[],
    }) else {
        return;
    };
    let raw = &built.raw;
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = &raw[..end];
    for (i, &b) in head.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(head.get(i + 1), Some(&b'\n'), "a bare CR in the headers"),
            b'\n' => assert!(i > 0 && head[i - 1] == b'\r', "a bare LF in the headers"),
            _ => {}
        }
    }
    let head = String::from_utf8_lossy(head);
    let mut seen: Vec<String> = Vec::new();
    for line in head.split("\r\n").filter(|l| !l.starts_with([' ', '\t'])) {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        assert!(HEADERS.contains(&name.as_str()), "unexpected header {line:?} in\n{head}");
        assert!(!seen.contains(&name), "{name} twice in\n{head}");
        seen.push(name);
    }
    assert_eq!(built.envelope.to.len(), 1, "one recipient");
});
