//! mbox bytes → messages: never panics, never invents bytes, and always ends.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use mailroom::mail::import::MboxReader;

fuzz_target!(|data: &[u8]| {
    let reader = MboxReader::from_reader("fuzz".into(), Box::new(Cursor::new(data.to_vec())));
    let mut total = 0usize;
    for (n, item) in reader.enumerate() {
        assert!(n <= data.len(), "more messages than bytes");
        if let Ok(m) = item {
            assert!(!m.bytes.is_empty());
            total += m.bytes.len();
        }
    }
    assert!(total <= data.len(), "messages hold only bytes of the input");
});
