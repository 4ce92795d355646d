//! Raw RFC 822 bytes → `Record`.
//!
//! Never fails: broken MIME, unknown charsets and missing headers give a record with what
//! could be read plus a flag; the exact bytes stay in the ledger. Huge messages are parsed
//! from their first `max_bytes` only and flagged `huge`.

use mail_parser::{Address as MpAddress, HeaderName, HeaderValue, Message, MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

use crate::hex::hex;
use crate::record::{Address, Attachment, Record};

/// Default size above which only the head of a message is parsed.
pub const DEFAULT_MAX_PARSE_BYTES: usize = 25 * 1024 * 1024;

/// The exact-bytes hash, the key of the raw store.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The record id: a hash of the message with line endings and trailing blank space normalized,
/// so the same message has the same id whether it came over IMAP (CRLF) or from an mbox (LF).
pub fn message_key(raw: &[u8]) -> String {
    let trimmed = without_trailing_blank(raw);
    let mut hasher = Sha256::new();
    let mut start = 0;
    for i in memchr::memchr_iter(b'\r', trimmed) {
        if trimmed.get(i + 1) == Some(&b'\n') {
            hasher.update(&trimmed[start..i]);
            start = i + 1;
        }
    }
    hasher.update(&trimmed[start..]);
    key_hex(hasher)
}

/// The record id and the exact-bytes hash. Without a CR in the message (an mbox, a Maildir
/// file) the id hashes a prefix of the exact bytes, so one pass gives both: hashing was a
/// twentieth of an import.
fn message_hashes(raw: &[u8]) -> (String, String) {
    if memchr::memchr(b'\r', raw).is_some() {
        return (message_key(raw), sha256_hex(raw));
    }
    let trimmed = without_trailing_blank(raw);
    let mut exact = Sha256::new();
    exact.update(trimmed);
    let key = key_hex(exact.clone());
    exact.update(&raw[trimmed.len()..]);
    (key, hex(&exact.finalize()))
}

fn without_trailing_blank(raw: &[u8]) -> &[u8] {
    let end = raw.iter().rposition(|b| !matches!(b, b'\r' | b'\n' | b' ' | b'\t')).map_or(0, |i| i + 1);
    &raw[..end]
}

fn key_hex(hasher: Sha256) -> String {
    format!("m{}", hex(&hasher.finalize()[..12]))
}

/// A parsed message: the record and the hash of its exact bytes.
pub struct Parsed {
    pub record: Record,
    pub raw_sha256: String,
    /// The record as one JSON line, once `seal` made it (after the last change to the record).
    pub json: Option<String>,
}

impl Parsed {
    /// Serializes the finished record; a parsing thread calls this so the ledger writer need not.
    pub fn seal(mut self) -> Parsed {
        // A Record always serializes (string keys, no non-finite floats); None leaves it to the writer.
        self.json = serde_json::to_string(&self.record).ok();
        self
    }
}

/// Parses `raw` into a record for `account`/`mailbox`.
pub fn parse_message(raw: &[u8], account: &str, mailbox: &str, max_bytes: usize) -> Parsed {
    let (key, raw_sha256) = message_hashes(raw);
    let mut record = Record::new(key);
    record.account = account.to_string();
    record.mailbox = mailbox.to_string();
    let head = if raw.len() > max_bytes {
        record.flags.push("huge".into());
        &raw[..max_bytes]
    } else {
        raw
    };
    match record_parser().parse(head) {
        Some(msg) => fill_from_message(&mut record, &msg),
        None => {
            record.flags.push("unparseable".into());
            record.text = String::from_utf8_lossy(head).into_owned();
            record.text_new = record.text.clone();
        }
    }
    if record.text.contains('\u{FFFD}') || record.subject.contains('\u{FFFD}') {
        record.flags.push("charset_lossy".into());
    }
    Parsed { record, raw_sha256, json: None }
}

fn fill_from_message(record: &mut Record, msg: &Message<'_>) {
    record.message_id = msg.message_id().map(|m| m.to_string());
    record.in_reply_to = header_ids(msg.in_reply_to()).into_iter().next();
    record.references = header_ids(msg.references());
    record.thread = record
        .references
        .first()
        .cloned()
        .or_else(|| record.in_reply_to.clone())
        .or_else(|| record.message_id.clone());
    record.date = msg.date().and_then(|d| {
        chrono::DateTime::from_timestamp(d.to_timestamp(), 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    });
    record.from = msg.from().and_then(first_address);
    record.to = msg.to().map(all_addresses).unwrap_or_default();
    record.cc = msg.cc().map(all_addresses).unwrap_or_default();
    record.reply_to = msg.reply_to().map(all_addresses).unwrap_or_default();
    record.subject = msg.subject().unwrap_or("").trim().to_string();
    record.text = body_text(msg);
    record.text_new = super::quote::new_part(&record.text);
    record.attachments = msg
        .attachments()
        .map(|part| Attachment {
            filename: part.attachment_name().map(str::to_string),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                    None => ct.ctype().to_ascii_lowercase(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: part.len() as u64,
        })
        .collect();
}

/// Parses only the headers a record needs and skips the rest (Received chains above all):
/// kept raw, they still cost a lossy UTF-8 copy each, a tenth of parsing a message.
fn record_parser() -> MessageParser {
    MessageParser::new()
        .with_mime_headers()
        .with_date_headers()
        .with_address_headers()
        .with_message_ids()
        .header_text(HeaderName::Subject)
        .default_header_ignore()
}

/// All text bodies joined; HTML-only mail is converted to text by mail-parser.
fn body_text(msg: &Message<'_>) -> String {
    let count = msg.text_body_count().max(if msg.html_body_count() > 0 { 1 } else { 0 });
    let mut text = String::new();
    for i in 0..count {
        if let Some(t) = msg.body_text(i) {
            let t = t.trim();
            if !t.is_empty() {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                push_normalized(&mut text, t);
            }
        }
    }
    text
}

/// Appends `text` with runs of blank lines collapsed, trailing spaces stripped (HTML
/// conversion leaves many) and no-break spaces made plain, line by line into `out` without a
/// copy of each line.
fn push_normalized(out: &mut String, text: &str) {
    out.reserve(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        // A no-break space is white space: trim_end takes trailing ones too.
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        let mut pieces = line.split('\u{a0}');
        out.push_str(pieces.next().unwrap_or(""));
        for piece in pieces {
            out.push(' ');
            out.push_str(piece);
        }
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
}

fn header_ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn convert(addr: &mail_parser::Addr<'_>) -> Option<Address> {
    let address = addr.address.as_deref().unwrap_or("").trim().to_string();
    let name = addr.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
    if address.is_empty() && name.is_none() {
        return None;
    }
    Some(Address { name, address })
}

fn first_address(a: &MpAddress<'_>) -> Option<Address> {
    a.iter().find_map(convert)
}

fn all_addresses(a: &MpAddress<'_>) -> Vec<Address> {
    a.iter().filter_map(convert).collect()
}

/// Headers of a raw message by (lower-case) name, for stages that look at them.
pub struct Headers {
    pairs: Vec<(String, String)>,
}

impl Headers {
    /// Every field of the header block in order: lower-case name, unfolded value.
    /// A small splitter rather than mail-parser, which walked every byte through an iterator and
    /// decoded the subject (12 % of a filter run); the pairs are the same, odd lines included.
    pub fn parse(raw: &[u8]) -> Headers {
        let end = find_header_end(raw).min(1024 * 1024);
        // Room for a typical relayed message's fields, so the list is not grown four times.
        let mut pairs = Vec::with_capacity(32);
        pairs.extend(
            Fields { block: &raw[..end.min(raw.len())], pos: 0 }
                // mail-parser's headers_raw() left out values that are not UTF-8; so do we.
                .filter_map(|(name, value)| Some((field_name(name), unfold(std::str::from_utf8(value).ok()?)))),
        );
        Headers { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        // The names are stored in lower case: a comparison blind to ASCII case needs no copy.
        self.pairs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = name.to_ascii_lowercase();
        self.pairs.iter().filter(move |(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

fn find_header_end(raw: &[u8]) -> usize {
    // memmem: a mail with bare-LF lines is searched to its end for CRLF CRLF first.
    memchr::memmem::find(raw, b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| memchr::memmem::find(raw, b"\n\n").map(|p| p + 2))
        .unwrap_or(raw.len())
}

/// The fields of a header block as (name, raw value), split the way mail-parser 0.11 does so
/// that filters see what they saw before, odd lines included:
/// - blank bytes before a field are skipped, and an LF met there (an empty line) ends the block;
/// - a name runs from the first non-blank byte to the last one before the next colon (colons
///   before any name byte are ignored); a line without such a colon is dropped, and the line
///   after it is read as a new field even when it starts with a blank;
/// - a value runs from after the colon through the first LF not followed by space or tab;
/// - a name cut off by the end of the block gets an empty value.
struct Fields<'a> {
    block: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.block;
        loop {
            while let Some(&c) = b.get(self.pos) {
                if c == b'\n' || !c.is_ascii_whitespace() {
                    break;
                }
                self.pos += 1;
            }
            if matches!(b.get(self.pos), None | Some(b'\n')) {
                self.pos = b.len();
                return None;
            }
            // The name: (first, last + 1) of its non-blank bytes, up to a colon, an LF or the end.
            let mut name: Option<(usize, usize)> = None;
            let mut i = self.pos;
            let stop = loop {
                let Some(&c) = b.get(i) else { break None };
                i += 1;
                match c {
                    b':' if name.is_some() => break Some(b':'),
                    b'\n' => break Some(b'\n'),
                    b':' => {}
                    c if !c.is_ascii_whitespace() => name = Some((name.map_or(i - 1, |n| n.0), i)),
                    _ => {}
                }
            };
            self.pos = i;
            let (first, last, start) = match (stop, name) {
                // At the end (stop None) the value starts and ends there: empty.
                (Some(b':') | None, Some((first, last))) => (first, last, i),
                _ => continue, // a line without a colon (or only blanks and colons)
            };
            let mut end = b.len();
            let mut from = start;
            while let Some(lf) = memchr::memchr(b'\n', &b[from..]).map(|o| from + o) {
                if matches!(b.get(lf + 1), Some(b' ' | b'\t')) {
                    from = lf + 2; // a continuation line
                } else {
                    end = lf + 1;
                    break;
                }
            }
            self.pos = end;
            return Some((&b[first..last], &b[start..end]));
        }
    }
}

/// The lower-case name of a field. Blanks inside a name stay, except that mail-parser dropped
/// them when what was left is a name it knows ("Sub ject:" reads as Subject).
fn field_name(raw: &[u8]) -> String {
    if raw.iter().any(u8::is_ascii_whitespace) {
        let squeezed: Vec<u8> = raw.iter().copied().filter(|c| !c.is_ascii_whitespace()).collect();
        if let Ok(s) = std::str::from_utf8(&squeezed)
            && matches!(HeaderName::parse(s), Some(n) if !matches!(n, HeaderName::Other(_)))
        {
            return s.to_ascii_lowercase();
        }
    }
    match std::str::from_utf8(raw) {
        Ok(name) => name.to_ascii_lowercase(), // the usual case, without from_utf8_lossy's walk
        Err(_) => String::from_utf8_lossy(raw).to_ascii_lowercase(),
    }
}

/// A value on one line: the unfolded lines, trimmed, joined by single spaces.
fn unfold(v: &str) -> String {
    let t = v.trim();
    if memchr::memchr2(b'\r', b'\n', t.as_bytes()).is_none() {
        return t.to_string(); // most headers: one line
    }
    // Folded fields (Received chains) are long: memchr finds the line breaks where a split on
    // chars would decode every one, and the pieces go into one String with no Vec and join.
    let mut out = String::with_capacity(t.len());
    let mut start = 0;
    for cut in memchr::memchr2_iter(b'\r', b'\n', t.as_bytes()).chain([t.len()]) {
        let piece = t[start..cut].trim();
        if !piece.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(piece);
        }
        start = cut + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIMPLE: &[u8] = b"From: Jane Doe <jane@example.com>\r\nTo: support@shop.example\r\n\
Subject: Where is my order?\r\nDate: Mon, 3 Nov 2026 10:00:00 +0100\r\nMessage-ID: <a1@example.com>\r\n\
In-Reply-To: <q0@shop.example>\r\nReferences: <r0@shop.example> <q0@shop.example>\r\n\r\n\
Hi, my order #NW-1234 has not arrived.\r\n\r\nOn Sun, 2 Nov 2026 Support wrote:\r\n> Thanks for your order\r\n";

    #[test]
    fn fixed_keys_are_filled() {
        let p = parse_message(SIMPLE, "files", "sample", DEFAULT_MAX_PARSE_BYTES);
        let r = p.record;
        assert!(r.id.starts_with('m') && r.id.len() == 25);
        assert_eq!(r.message_id.as_deref(), Some("a1@example.com"));
        assert_eq!(r.in_reply_to.as_deref(), Some("q0@shop.example"));
        assert_eq!(r.references, ["r0@shop.example", "q0@shop.example"]);
        assert_eq!(r.thread.as_deref(), Some("r0@shop.example"));
        assert_eq!(r.date.as_deref(), Some("2026-11-03T09:00:00Z"));
        assert_eq!(r.from.as_ref().unwrap().address, "jane@example.com");
        assert_eq!(r.from.as_ref().unwrap().name.as_deref(), Some("Jane Doe"));
        assert_eq!(r.subject, "Where is my order?");
        assert!(r.text.contains("> Thanks"));
        assert_eq!(r.text_new, "Hi, my order #NW-1234 has not arrived.");
    }

    #[test]
    fn same_message_with_lf_or_crlf_has_the_same_id() {
        let lf: Vec<u8> = String::from_utf8_lossy(SIMPLE).replace("\r\n", "\n").into_bytes();
        assert_eq!(message_key(SIMPLE), message_key(&lf));
        assert_ne!(sha256_hex(SIMPLE), sha256_hex(&lf));
    }

    #[test]
    fn one_pass_hashes_equal_the_two_separate_ones() {
        let lf = String::from_utf8_lossy(SIMPLE).replace("\r\n", "\n");
        for raw in [
            SIMPLE.to_vec(),
            lf.clone().into_bytes(),
            format!("{lf}\n \t\n\n").into_bytes(),
            format!("{lf}\r").into_bytes(),
            b"".to_vec(),
            b"\n\n".to_vec(),
            b"no newline at all".to_vec(),
        ] {
            let (key, exact) = message_hashes(&raw);
            assert_eq!(key, message_key(&raw), "{raw:?}");
            assert_eq!(exact, sha256_hex(&raw), "{raw:?}");
        }
        // Every string of up to 5 bytes over text, blanks and both line ends.
        let alphabet = *b"a \t\n\r";
        let mut strings: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..5 {
            let longer: Vec<Vec<u8>> = strings
                .iter()
                .filter(|s| s.len() == strings.last().map_or(0, Vec::len))
                .flat_map(|s| alphabet.iter().map(move |&c| [s.as_slice(), &[c]].concat()))
                .collect();
            strings.extend(longer);
        }
        assert_eq!(strings.len(), 1 + 5 + 25 + 125 + 625 + 3125);
        for raw in &strings {
            assert_eq!(message_hashes(raw), (message_key(raw), sha256_hex(raw)), "{raw:?}");
        }
    }

    #[test]
    fn garbage_still_gives_a_record() {
        let p = parse_message(b"\xff\xfe\x00 not mail at all", "files", "x", DEFAULT_MAX_PARSE_BYTES);
        assert!(!p.record.id.is_empty());
    }

    #[test]
    fn huge_messages_are_flagged_and_parsed_from_the_head() {
        let mut raw = b"From: a@b.c\r\nSubject: big\r\n\r\n".to_vec();
        raw.extend(std::iter::repeat_n(b'x', 5000));
        let p = parse_message(&raw, "files", "x", 1000);
        assert!(p.record.has_flag("huge"));
        assert_eq!(p.record.subject, "big");
    }

    #[test]
    fn html_only_mail_becomes_text() {
        let raw = b"From: a@b.c\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello <b>there</b></p><script>x()</script></body></html>";
        let r = parse_message(raw, "files", "x", DEFAULT_MAX_PARSE_BYTES).record;
        assert!(r.text.contains("Hello"), "{}", r.text);
        assert!(!r.text.contains("<b>"), "{}", r.text);
    }

    /// The former `normalize_whitespace`, a copy per line: the reference for `push_normalized`.
    fn normalized_by_lines(text: &str) -> String {
        let mut out = String::new();
        let mut blank_run = 0;
        for line in text.lines() {
            let line = line.trim_end().replace('\u{a0}', " ");
            if line.trim().is_empty() {
                blank_run += 1;
                if blank_run > 1 {
                    continue;
                }
            } else {
                blank_run = 0;
            }
            out.push_str(&line);
            out.push('\n');
        }
        out.trim_end().to_string()
    }

    #[test]
    fn whitespace_is_normalized_as_line_by_line_copies_did() {
        // Every trimmed string of up to 6 characters over these, joined after earlier text.
        let alphabet = ['a', ' ', '\u{a0}', '\n', '\r', '\t'];
        let mut texts = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> =
                texts.iter().flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}"))).collect();
            texts.extend(longer);
            texts.sort();
            texts.dedup();
        }
        for text in texts.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            let mut out = String::new();
            push_normalized(&mut out, text);
            assert_eq!(out, normalized_by_lines(text), "{text:?}");
            let mut joined = "before".to_string();
            push_normalized(&mut joined, text);
            assert_eq!(joined, format!("before{}", normalized_by_lines(text)), "{text:?}");
        }
    }

    /// The former `Headers::parse`, through mail-parser: the reference the splitter must match.
    fn pairs_by_mail_parser(raw: &[u8]) -> Vec<(String, String)> {
        let end = find_header_end(raw).min(1024 * 1024);
        let mut pairs = Vec::new();
        let parser = MessageParser::new().header_text(HeaderName::Subject);
        if let Some(msg) = parser.parse_headers(&raw[..end.min(raw.len())]) {
            for (name, value) in msg.headers_raw() {
                pairs.push((name.to_ascii_lowercase(), unfold_by_join(value)));
            }
        }
        pairs
    }

    /// The former `unfold`, the reference for the one that avoids decoding chars.
    fn unfold_by_join(v: &str) -> String {
        let t = v.trim();
        if !t.contains(['\r', '\n']) {
            return t.to_string();
        }
        v.split(['\r', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
    }

    fn assert_same_pairs(raw: &[u8], what: &str) {
        assert_eq!(Headers::parse(raw).pairs, pairs_by_mail_parser(raw), "{what}");
    }

    #[test]
    fn odd_header_blocks_split_as_mail_parser_did() {
        let mut huge = b"X-Big: ".to_vec();
        huge.extend("é".repeat(600 * 1024).bytes()); // the 1 MiB cap cuts a character in two
        huge.extend(b"\nSubject: after\n\nbody");
        let cases: &[&[u8]] = &[
            b"",
            b"\n",
            b"\r\n\r\n",
            b"A: 1\nno colon on this line\nB: 2\n\nbody",
            b" X: 1\nA: 2\n\n",
            b" only a continuation\nA: 2\n\n",
            b"A: 1\nno colon\n continued: here\nB: 2\n\n",
            b"From jane@example.com Mon Nov  3 10:00:00 2026\nFrom: Jane <jane@example.com>\n\nhi",
            b"From MAILER-DAEMON\r\nSubject: x\r\n\r\n",
            b"Subject : spaced\nSub ject: split known\nX Custom : split unknown\nReply To: z\n\n",
            b"\tTo: tabbed\n\x0cCc: form feed\nA\rB: carriage\n\n",
            b"Subject: caf\xe9 latin-1\nX-Ok: \xc3\xa9t\xc3\xa9\nX-\xe9: name in latin-1\n\n",
            b"A: crlf\r\nB: lf\nC: folded\r\n  twice\r\n\tthrice\r\nD: cr\ronly\r\n\r\n",
            b"A: 1\rB: 2\r\rbody with no LF",
            b"A: no body\r\nB: 2",
            b"A: no body\r\nCut-Name",
            b"A: no body\r\nCut-Name:",
            b"A: 1\r\n",
            b": leading colon: value\n:: \n::\nB: 2\n\n",
            b"X:\nY: \r\n continued\r\nZ:: double\n\n",
            b"X: a\n \nY: b\n\t\r\nZ: c\n\n",
            b"Subject: =?utf-8?q?caf=C3=A9_with?=\n =?utf-8?b?Zm9sZGVk?= tail\nX: d\n\n",
            b"Subject: =?utf-8?q?broken\nX: after broken word\n\n",
            b"Subject: =?iso-8859-1?q?open=20\n ended\nX: e\n\n",
            b"An Exceedingly Long Header Name That Goes On And On: v\nmmhs other recipients indicator to: w\n\n",
            b"X-Nbsp: \xc2\xa0value with nbsp\xc2\xa0\n\xc2\xa0\n\n",
            b"X-Unicode-Blank: a\r\n \xe3\x80\x80\xe2\x80\xa8\r\n\t\xc3\xa9 b \r\r\n c\r\n\r\n",
            &huge,
        ];
        for raw in cases {
            assert_same_pairs(raw, &String::from_utf8_lossy(raw).chars().take(200).collect::<String>());
        }
    }

    /// `MAILROOM_SHARED_DATA`, or `shared/data` beside the project or a parent, or the workplace's.
    fn shared_data() -> Option<std::path::PathBuf> {
        if let Some(p) = std::env::var_os("MAILROOM_SHARED_DATA") {
            return Some(p.into());
        }
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|d| d.join("shared").join("data"))
            .chain([std::path::PathBuf::from("/work/shared/data")])
            .find(|d| d.is_dir())
    }

    fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_shared_message_splits_as_mail_parser_did() {
        let Some(data) = shared_data() else {
            eprintln!("note: shared/data not found; header splitting not compared on real mail");
            return;
        };
        let mut files = Vec::new();
        files_under(&data, &mut files);
        let mut compared = 0;
        for path in &files {
            // Every file, mail or not: anything that reaches the filter must split the same.
            let raw = std::fs::read(path).unwrap();
            assert_same_pairs(&raw, &path.display().to_string());
            // The same header block with no body and its last line cut short.
            let head = &raw[..find_header_end(&raw).saturating_sub(3)];
            assert_same_pairs(head, &format!("{} (head only)", path.display()));
            compared += 1;
        }
        eprintln!("header splitting compared with mail-parser on {compared} files under {}", data.display());
        assert!(compared > 4000, "only {compared} files under {}", data.display());
    }

    #[test]
    fn headers_are_readable_by_name() {
        let raw = b"Auto-Submitted: auto-replied\r\nX-Thing: a\r\n b\r\n\r\nbody";
        let h = Headers::parse(raw);
        assert_eq!(h.get("auto-submitted"), Some("auto-replied"));
        assert_eq!(h.get("X-THING"), Some("a b"));
        assert!(!h.has("list-id"));
    }
}
