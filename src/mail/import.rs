//! Reading historical mail from files: mbox (mboxo / mboxrd), Maildir and single .eml files.
//!
//! Every reader is an iterator yielding one message at a time, so memory stays flat however
//! large the mailbox is.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Messages larger than this are skipped with an error rather than held in memory.
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024 * 1024;

/// One message read from a file, with where it came from for error messages.
#[derive(Debug)]
pub struct RawMessage {
    /// `file:line` for mbox, the path for Maildir and .eml.
    pub origin: String,
    pub bytes: Vec<u8>,
}

/// A message that could not be read; the import goes on with the next one.
#[derive(Debug)]
pub struct ReadError {
    pub origin: String,
    pub problem: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.origin, self.problem)
    }
}

pub type ReadItem = Result<RawMessage, ReadError>;

/// Streams the messages of an mbox file. `From ` lines after a blank line (or at the start)
/// separate messages; `>From ` escapes (mboxrd) are undone.
pub struct MboxReader {
    name: String,
    reader: Box<dyn BufRead + Send>,
    line_no: usize,
    pending_from_line: Option<usize>,
    line: Vec<u8>,
    done: bool,
    /// Bytes read so far, for progress.
    pub bytes_read: u64,
}

impl MboxReader {
    pub fn open(path: &Path) -> io::Result<MboxReader> {
        let (name, reader): (String, Box<dyn BufRead + Send>) = if path.as_os_str() == "-" {
            ("stdin".into(), Box::new(BufReader::with_capacity(1 << 20, io::stdin())))
        } else {
            (path.display().to_string(), Box::new(BufReader::with_capacity(1 << 20, File::open(path)?)))
        };
        Ok(MboxReader::from_reader(name, reader))
    }

    pub fn from_reader(name: String, reader: Box<dyn BufRead + Send>) -> MboxReader {
        MboxReader {
            name,
            reader,
            line_no: 0,
            pending_from_line: None,
            line: Vec::with_capacity(1024),
            done: false,
            bytes_read: 0,
        }
    }
}

fn is_from_line(line: &[u8]) -> bool {
    line.starts_with(b"From ")
}

/// `>From `, `>>From ` … → one `>` less (mboxrd).
fn unescape(line: &[u8]) -> &[u8] {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    if quotes > 0 && line[quotes..].starts_with(b"From ") { &line[1..] } else { line }
}

/// Where the next line of an mbox lies.
enum Line {
    /// The first n bytes of the reader's buffer (nearly every line: the buffer holds 1 MiB).
    Buffered(usize),
    /// Gathered in `MboxReader::line`: it crossed the end of the buffer, or the file has no
    /// line break at its end.
    Gathered,
    End,
}

impl MboxReader {
    /// Finds the next line without copying it when it lies whole in the reader's buffer (a
    /// copy of every line into `self.line` first was a third of reading an mbox).
    fn next_line(&mut self) -> io::Result<Line> {
        self.line.clear();
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(if self.line.is_empty() { Line::End } else { Line::Gathered });
            }
            match memchr::memchr(b'\n', buf) {
                Some(i) if self.line.is_empty() => return Ok(Line::Buffered(i + 1)),
                Some(i) => {
                    self.line.extend_from_slice(&buf[..=i]);
                    self.reader.consume(i + 1);
                    return Ok(Line::Gathered);
                }
                None => {
                    let n = buf.len();
                    self.line.extend_from_slice(buf);
                    self.reader.consume(n);
                }
            }
        }
    }
}

/// What a line of an mbox means for the message being read.
enum Step {
    /// The separator of the next message.
    Separator,
    /// Part of the message (or blank space before the first one).
    Continue,
}

impl Iterator for MboxReader {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        if self.done {
            return None;
        }
        let mut message: Vec<u8> = Vec::new();
        let mut start_line = self.pending_from_line.take();
        let mut prev_blank = true;
        let mut oversized = false;
        loop {
            let found = self.next_line().and_then(|found| {
                Ok(match found {
                    Line::Buffered(n) => (Some(n), Some(&self.reader.fill_buf()?[..n])),
                    Line::Gathered => (None, Some(&self.line[..])),
                    Line::End => (None, None),
                })
            });
            let (buffered, line) = match found {
                Ok(found) => found,
                Err(e) => {
                    self.done = true;
                    return Some(Err(ReadError {
                        origin: format!("{}:{}", self.name, self.line_no),
                        problem: format!("read error: {e}"),
                    }));
                }
            };
            let Some(line) = line else {
                self.done = true;
                break;
            };
            let n = line.len();
            self.bytes_read += n as u64;
            self.line_no += 1;
            let from_line = prev_blank && is_from_line(line);
            let step = if from_line && start_line.is_some() {
                Step::Separator
            } else if from_line {
                start_line = Some(self.line_no);
                Step::Continue
            } else if start_line.is_none() && line.iter().all(|b| b.is_ascii_whitespace()) {
                Step::Continue
            } else {
                // Text before the first From line: not an mbox, or a damaged start.
                start_line.get_or_insert(self.line_no);
                prev_blank = line == b"\n" || line == b"\r\n";
                if message.len() + n > MAX_MESSAGE_BYTES {
                    oversized = true;
                } else {
                    message.extend_from_slice(unescape(line));
                }
                Step::Continue
            };
            if let Some(n) = buffered {
                self.reader.consume(n);
            }
            if let Step::Separator = step {
                self.pending_from_line = Some(self.line_no);
                break;
            }
        }
        let start = start_line?;
        let origin = format!("{}:{}", self.name, start);
        if oversized {
            return Some(Err(ReadError {
                origin,
                problem: format!("message larger than {} MB, skipped", MAX_MESSAGE_BYTES >> 20),
            }));
        }
        // The blank line before the next separator belongs to the mbox format, not the message.
        if message.ends_with(b"\r\n\r\n") {
            message.truncate(message.len() - 2);
        } else if message.ends_with(b"\n\n") {
            message.truncate(message.len() - 1);
        }
        if message.iter().all(|b| b.is_ascii_whitespace()) {
            return self.next();
        }
        Some(Ok(RawMessage { origin, bytes: message }))
    }
}

/// The files of a Maildir (`cur/` and `new/`), sorted by name, read one at a time.
pub struct MaildirReader {
    files: std::vec::IntoIter<PathBuf>,
}

impl MaildirReader {
    pub fn open(dir: &Path) -> io::Result<MaildirReader> {
        let mut files = Vec::new();
        let mut found_maildir = false;
        for sub in ["cur", "new"] {
            let d = dir.join(sub);
            if !d.is_dir() {
                continue;
            }
            found_maildir = true;
            for entry in std::fs::read_dir(&d)? {
                let entry = entry?;
                if entry.file_type()?.is_file() {
                    files.push(entry.path());
                }
            }
        }
        if !found_maildir {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} is not a Maildir (no cur/ or new/ folder)", dir.display()),
            ));
        }
        files.sort();
        Ok(MaildirReader { files: files.into_iter() })
    }
}

impl Iterator for MaildirReader {
    type Item = ReadItem;
    fn next(&mut self) -> Option<ReadItem> {
        let path = self.files.next()?;
        Some(read_file(&path))
    }
}

/// Reads one message file (`-` is stdin).
pub fn read_file(path: &Path) -> ReadItem {
    let origin = path.display().to_string();
    // Too big by its size: skipped without reading (and holding) the first 512 MB of it.
    if path.as_os_str() != "-" && std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_MESSAGE_BYTES as u64) {
        return Err(ReadError { origin, problem: format!("message larger than {} MB, skipped", MAX_MESSAGE_BYTES >> 20) });
    }
    let result = if path.as_os_str() == "-" {
        let mut v = Vec::new();
        io::stdin().take(MAX_MESSAGE_BYTES as u64 + 1).read_to_end(&mut v).map(|_| v)
    } else {
        File::open(path).and_then(|f| {
            let mut v = Vec::new();
            f.take(MAX_MESSAGE_BYTES as u64 + 1).read_to_end(&mut v).map(|_| v)
        })
    };
    match result {
        Ok(bytes) if bytes.len() > MAX_MESSAGE_BYTES => Err(ReadError {
            origin,
            problem: format!("message larger than {} MB, skipped", MAX_MESSAGE_BYTES >> 20),
        }),
        Ok(bytes) if bytes.is_empty() => Err(ReadError { origin, problem: "empty file".into() }),
        Ok(mut bytes) => {
            // An .eml saved from an mbox may still start with its separator line.
            if bytes.starts_with(b"From ") {
                if let Some(nl) = bytes.iter().position(|&b| b == b'\n') {
                    let first = &bytes[..nl];
                    if !first.contains(&b':') || first.windows(2).any(|w| w == b"  ") || looks_like_envelope(first) {
                        bytes.drain(..=nl);
                    }
                }
            }
            Ok(RawMessage { origin, bytes })
        }
        Err(e) => Err(ReadError { origin, problem: format!("cannot read: {e}") }),
    }
}

/// `From sender@example.com Mon Nov  3 10:00:00 2026`: an mbox envelope line, not a header.
fn looks_like_envelope(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    let mut words = text.split_whitespace();
    words.next() == Some("From") && words.next().is_some() && text.split_whitespace().count() >= 6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mbox(text: &str) -> Vec<String> {
        MboxReader::from_reader("t".into(), Box::new(io::Cursor::new(text.as_bytes().to_vec())))
            .map(|m| String::from_utf8(m.unwrap().bytes).unwrap())
            .collect()
    }

    #[test]
    fn splits_messages_and_unescapes_from_lines() {
        let text = "From a@b Mon Nov  3 10:00:00 2026\nSubject: one\n\nhello\n>From the start\n\n\
From c@d Mon Nov  3 11:00:00 2026\nSubject: two\n\nbody\nFrom here on, no blank before\n";
        let msgs = mbox(text);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], "Subject: one\n\nhello\nFrom the start\n");
        assert!(msgs[1].contains("From here on, no blank before"));
    }

    #[test]
    fn lines_across_the_end_of_the_read_buffer_read_the_same() {
        let text = "\n  \nstray text\r\n\r\nFrom a@b Mon Nov  3 10:00:00 2026\r\nSubject: one\r\n\r\nhello\r\n>>From x\r\n\r\n\
From c@d Mon Nov  3 11:00:00 2026\nSubject: two\n\nbody\nFrom here, no blank before\n\n\n\
From e@f Mon Nov  3 12:00:00 2026\nSubject: three\n\nno line break at the end";
        let read = |capacity: usize| -> Vec<(String, String, u64)> {
            let reader = BufReader::with_capacity(capacity, io::Cursor::new(text.as_bytes().to_vec()));
            let mut mbox = MboxReader::from_reader("t".into(), Box::new(reader));
            let mut out = Vec::new();
            while let Some(m) = mbox.next() {
                let m = m.unwrap();
                out.push((m.origin, String::from_utf8(m.bytes).unwrap(), mbox.bytes_read));
            }
            out
        };
        let whole = read(1 << 20);
        assert_eq!(whole.len(), 4, "{whole:?}");
        assert_eq!((whole[0].0.as_str(), whole[0].1.as_str()), ("t:3", "stray text\r\n"));
        assert_eq!(whole[1].1, "Subject: one\r\n\r\nhello\r\n>From x\r\n");
        assert_eq!(whole[3].1, "Subject: three\n\nno line break at the end");
        assert_eq!(whole[3].2, text.len() as u64);
        for capacity in 1..40 {
            assert_eq!(read(capacity), whole, "buffer of {capacity} bytes");
        }
    }

    #[test]
    fn origin_names_the_line() {
        let text = "From a@b x\nSubject: one\n\nx\n\nFrom c@d y\nSubject: two\n\ny\n";
        let origins: Vec<String> =
            MboxReader::from_reader("box".into(), Box::new(io::Cursor::new(text.as_bytes().to_vec())))
                .map(|m| m.unwrap().origin)
                .collect();
        assert_eq!(origins, ["box:1", "box:6"]);
    }

    #[test]
    fn eml_with_envelope_line_is_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.eml");
        std::fs::write(&p, "From a@b.c Mon Nov  3 10:00:00 2026\nSubject: hi\n\nbody\n").unwrap();
        let m = read_file(&p).unwrap();
        assert!(m.bytes.starts_with(b"Subject: hi"));
    }

    #[test]
    fn a_file_over_the_limit_is_skipped_by_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("huge.eml");
        File::create(&p).unwrap().set_len(MAX_MESSAGE_BYTES as u64 + 1).unwrap();
        assert!(read_file(&p).unwrap_err().problem.contains("larger than 512 MB"));
    }

    #[test]
    fn maildir_reads_cur_and_new() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        std::fs::write(dir.path().join("new/1"), "Subject: a\n\nx").unwrap();
        std::fs::write(dir.path().join("cur/2:2,S"), "Subject: b\n\ny").unwrap();
        std::fs::write(dir.path().join("tmp/3"), "Subject: c\n\nz").unwrap();
        assert_eq!(MaildirReader::open(dir.path()).unwrap().count(), 2);
        assert!(MaildirReader::open(&dir.path().join("cur")).is_err());
    }
}
