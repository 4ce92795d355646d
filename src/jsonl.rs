//! Reading and writing JSON Lines.
//!
//! The reader takes stdin or named files (`-` is stdin), reports a bad line as
//! `SOURCE:LINE: problem` and goes on; the caller decides about `--strict`. The writer keeps
//! stdout pure JSONL and turns a closed pipe into a clean stop.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;

use crate::record::Record;

/// The longest line we accept; longer lines are reported and skipped without being held in memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// Where a line came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePos {
    pub source: String,
    pub line: usize,
}

impl std::fmt::Display for LinePos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.source, self.line)
    }
}

/// A line that could not be used.
#[derive(Debug, Clone)]
pub struct BadLine {
    pub pos: LinePos,
    pub problem: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.pos, self.problem)
    }
}

/// One item read: a record, or a line that could not be used.
pub type Item = Result<(LinePos, Record), BadLine>;

/// Reads records from a list of inputs in order.
pub struct RecordReader {
    inputs: Vec<PathBuf>,
    next_input: usize,
    current: Option<(String, Box<dyn BufRead>)>,
    line_no: usize,
    buf: Vec<u8>,
}

impl RecordReader {
    /// `inputs` empty means stdin.
    pub fn new(inputs: &[PathBuf]) -> RecordReader {
        let inputs = if inputs.is_empty() { vec![PathBuf::from("-")] } else { inputs.to_vec() };
        RecordReader { inputs, next_input: 0, current: None, line_no: 0, buf: Vec::new() }
    }

    /// True when the only input is an interactive terminal (the user forgot a pipe).
    pub fn reads_from_terminal(&self) -> bool {
        self.inputs.len() == 1 && self.inputs[0].as_os_str() == "-" && io::stdin().is_terminal()
    }

    fn open_next(&mut self) -> Option<Result<(), BadLine>> {
        let path = self.inputs.get(self.next_input)?.clone();
        self.next_input += 1;
        self.line_no = 0;
        if path.as_os_str() == "-" {
            self.current = Some(("stdin".into(), Box::new(BufReader::new(io::stdin()))));
            return Some(Ok(()));
        }
        let name = path.display().to_string();
        match File::open(&path) {
            Ok(f) => {
                self.current = Some((name, Box::new(BufReader::with_capacity(256 * 1024, f))));
                Some(Ok(()))
            }
            Err(e) => Some(Err(BadLine {
                pos: LinePos { source: name, line: 0 },
                problem: format!("cannot open: {e}"),
            })),
        }
    }

    /// Reads one line into `self.buf`, at most MAX_LINE_BYTES; returns (bytes read, truncated).
    fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> io::Result<(usize, bool)> {
        buf.clear();
        let mut total = 0usize;
        let mut truncated = false;
        loop {
            let available = match reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok((total, truncated));
            }
            let (chunk, done) = match memchr_newline(available) {
                Some(i) => (&available[..=i], true),
                None => (available, false),
            };
            let n = chunk.len();
            if buf.len() + n <= MAX_LINE_BYTES {
                buf.extend_from_slice(chunk);
            } else {
                truncated = true;
            }
            reader.consume(n);
            total += n;
            if done {
                return Ok((total, truncated));
            }
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Parses one line of JSONL into a record, with a problem text fit for `SOURCE:LINE: problem`.
pub fn parse_line(bytes: &[u8]) -> Result<Option<Record>, String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return Err(format!("not valid UTF-8 (byte {})", e.valid_up_to())),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.contains('\0') {
        return Err("contains a NUL byte outside a JSON string".into());
    }
    // A good line goes straight into a record; any other is read again as a JSON value, to
    // say exactly what is wrong with it.
    if let Ok(record) = serde_json::from_str::<Record>(trimmed) {
        if record.v <= crate::record::RECORD_VERSION {
            return Ok(Some(record));
        }
    }
    let value: serde_json::Value =
        serde_json::from_str(trimmed).map_err(|e| format!("invalid JSON: {e}"))?;
    let obj = value.as_object().ok_or_else(|| "not a JSON object".to_string())?;
    match obj.get("id") {
        None => return Err("missing \"id\"".into()),
        Some(v) if !v.is_string() => return Err("\"id\" must be a string".into()),
        _ => {}
    }
    if let Some(v) = obj.get("v").and_then(|v| v.as_u64()) {
        if v > crate::record::RECORD_VERSION as u64 {
            return Err(format!(
                "record version {v} is newer than this mailroom understands ({})",
                crate::record::RECORD_VERSION
            ));
        }
    }
    serde_json::from_value::<Record>(value).map(Some).map_err(|e| format!("not a mailroom record: {e}"))
}

impl Iterator for RecordReader {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if self.current.is_none() {
                match self.open_next()? {
                    Ok(()) => {}
                    Err(bad) => return Some(Err(bad)),
                }
            }
            let (source, reader) = self.current.as_mut()?;
            let read = Self::read_line(reader.as_mut(), &mut self.buf);
            self.line_no += 1;
            let pos = LinePos { source: source.clone(), line: self.line_no };
            match read {
                Ok((0, _)) => {
                    self.current = None;
                    continue;
                }
                Ok((n, true)) => {
                    return Some(Err(BadLine {
                        pos,
                        problem: format!("line of {n} bytes is longer than the limit of {MAX_LINE_BYTES}"),
                    }));
                }
                Ok((_, false)) => match parse_line(&self.buf) {
                    Ok(Some(record)) => return Some(Ok((pos, record))),
                    Ok(None) => continue,
                    Err(problem) => return Some(Err(BadLine { pos, problem })),
                },
                Err(e) => {
                    self.current = None;
                    return Some(Err(BadLine { pos, problem: format!("read error: {e}") }));
                }
            }
        }
    }
}

/// Writes records as JSON Lines to stdout (or any writer).
pub struct RecordWriter {
    out: Box<dyn Write>,
    flush_each: bool,
    pub written: u64,
    /// The line being written: serialized here and handed over whole, not in the many small
    /// pieces the serializer writes (each a call through `out`).
    line: Vec<u8>,
}

impl RecordWriter {
    /// Stdout, line-flushed on a terminal or when `flush_each` (for `--idle`), block-buffered otherwise.
    pub fn stdout(flush_each: bool) -> RecordWriter {
        let flush_each = flush_each || io::stdout().is_terminal();
        RecordWriter {
            out: Box::new(BufWriter::with_capacity(128 * 1024, io::stdout())),
            flush_each,
            written: 0,
            line: Vec::new(),
        }
    }

    pub fn to_writer(out: Box<dyn Write>, flush_each: bool) -> RecordWriter {
        RecordWriter { out, flush_each, written: 0, line: Vec::new() }
    }

    /// Writes one record. A closed pipe comes back as `io::ErrorKind::BrokenPipe`.
    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        self.write_value(record)
    }

    /// Writes a record already serialized (by `serde_json`, so one line) as a line of its own.
    pub fn write_json(&mut self, json: &str) -> io::Result<()> {
        self.out.write_all(json.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.line_written()
    }

    /// Writes any JSON value as one line (decisions, send attempts, status objects).
    pub fn write_value<T: serde::Serialize>(&mut self, value: &T) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value).map_err(io::Error::from)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.line_written()
    }

    /// Counts a line just written, and flushes it when lines are flushed one by one.
    fn line_written(&mut self) -> io::Result<()> {
        self.written += 1;
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Reads everything from a reader, for small inputs such as a single .eml on stdin.
pub fn read_all(mut r: impl Read) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    r.read_to_end(&mut v)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader_over(text: &str) -> (tempfile::TempDir, RecordReader) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
        let r = RecordReader::new(&[path]);
        (dir, r)
    }

    #[test]
    fn bad_lines_are_reported_with_their_number_and_reading_goes_on() {
        let (_d, reader) = reader_over("{\"id\":\"a\"}\nnot json\n\n{\"subject\":\"x\"}\n{\"id\":\"b\"}\n");
        let items: Vec<Item> = reader.collect();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].as_ref().unwrap().1.id, "a");
        let bad = items[1].as_ref().unwrap_err();
        assert_eq!(bad.pos.line, 2);
        assert!(bad.problem.starts_with("invalid JSON"), "{}", bad.problem);
        let missing = items[2].as_ref().unwrap_err();
        assert_eq!(missing.pos.line, 4);
        assert_eq!(missing.problem, "missing \"id\"");
        assert_eq!(items[3].as_ref().unwrap().1.id, "b");
    }

    #[test]
    fn invalid_utf8_and_newer_versions_are_bad_lines() {
        assert!(parse_line(b"{\"id\":\"\xff\"}").unwrap_err().contains("UTF-8"));
        assert!(parse_line(b"{\"id\":\"a\",\"v\":99}").unwrap_err().contains("newer"));
        assert!(parse_line(b"[1,2]").unwrap_err().contains("not a JSON object"));
        assert!(parse_line(b"{\"id\":5}").unwrap_err().contains("must be a string"));
    }

    #[test]
    fn a_repeated_key_is_read_as_its_last_value() {
        let r = parse_line(b"{\"id\":\"a\",\"subject\":\"x\",\"subject\":\"y\",\"k\":1,\"k\":2}").unwrap().unwrap();
        assert_eq!(r.subject, "y");
        assert_eq!(r.extra["k"], 2);
    }

    #[test]
    fn numbers_in_unknown_keys_survive_any_number_of_stages() {
        // Found by fuzzing: without exact float parsing, a number drifted by one unit in the
        // last place at every stage it passed.
        let line = b"{\"id\":\"m1\",\"x\":[222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222,0.1,1e-7]}";
        let once = serde_json::to_string(&parse_line(line).unwrap().unwrap()).unwrap();
        let twice = serde_json::to_string(&parse_line(once.as_bytes()).unwrap().unwrap()).unwrap();
        assert_eq!(once, twice);
    }

    #[test]
    fn missing_file_is_a_bad_line_not_a_crash() {
        let mut r = RecordReader::new(&[PathBuf::from("/nonexistent/x.jsonl")]);
        let bad = r.next().unwrap().unwrap_err();
        assert!(bad.problem.contains("cannot open"));
        assert!(r.next().is_none());
    }

    #[test]
    fn writer_writes_one_line_per_record() {
        let buf: std::rc::Rc<std::cell::RefCell<Vec<u8>>> = Default::default();
        struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.borrow_mut().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut w = RecordWriter::to_writer(Box::new(Shared(buf.clone())), true);
        w.write(&Record::new("a")).unwrap();
        w.write(&Record::new("b")).unwrap();
        let text = String::from_utf8(buf.borrow().clone()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().all(|l| l.starts_with("{\"v\":1,\"id\":")));
    }
}
