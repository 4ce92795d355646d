//! One JSONL line → record or a problem text: never panics; a record read is written back as
//! a line that reads the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom::jsonl::parse_line;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(record)) = parse_line(data) {
        let line = serde_json::to_string(&record).expect("a record serializes");
        assert!(!line.contains('\n'), "one record is one line");
        let again = parse_line(line.as_bytes()).expect("written records read back").expect("not blank");
        assert_eq!(serde_json::to_string(&again).unwrap(), line, "read and written back unchanged");
    }
});
