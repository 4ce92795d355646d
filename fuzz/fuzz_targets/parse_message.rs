//! Raw bytes → record: never panics, and what comes out is a record any stage can read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom::mail::parse::{Headers, message_key, parse_message};

fuzz_target!(|data: &[u8]| {
    // A small parse cap so the "huge" path (a message cut in the middle) is fuzzed too.
    let parsed = parse_message(data, "files", "fuzz", 4096);
    let record = &parsed.record;
    assert_eq!(record.id, message_key(data), "the id is the key of the bytes");
    let line = serde_json::to_string(record).expect("a record serializes");
    let back = mailroom::jsonl::parse_line(line.as_bytes()).expect("the JSONL reader reads it back");
    assert_eq!(back.map(|r| r.id), Some(record.id.clone()));
    let headers = Headers::parse(data);
    let _ = headers.get("subject");
    let _ = mailroom::mail::quote::new_part(&record.text);
});
