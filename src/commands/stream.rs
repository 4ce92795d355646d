//! The shared loop of record stages: read records, process each, write the results.
//!
//! Bad lines are reported as `mailroom STAGE: SOURCE:LINE: problem` and skipped (exit 1 at
//! the end), or stop the run with `--strict`. A record whose processing fails is reported
//! with its id and skipped the same way. A closed stdout stops the loop as a success.

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::Ctx;
use crate::jsonl::{RecordReader, RecordWriter};
use crate::record::Record;

#[derive(Debug, Default, Clone, Copy)]
pub struct StreamStats {
    pub read: u64,
    pub written: u64,
    pub bad_lines: u64,
    pub failed: u64,
}

/// What processing one record asks the loop to do.
pub enum Emit {
    /// Write these records (usually the one, annotated).
    Records(Vec<Record>),
    /// Write nothing for this record.
    Nothing,
}

/// An id as an error message shows it: an id we made is short and plain; one from elsewhere
/// is cut and has its control characters escaped so it cannot flood or drive a terminal.
fn printable_id(id: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut shown: String = id.chars().take(MAX_CHARS).flat_map(char::escape_debug).collect();
    if id.chars().nth(MAX_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

/// Runs `process` over every record of `inputs` (stdin when empty).
pub fn run_stage(
    ctx: &mut Ctx,
    inputs: &[PathBuf],
    flush_each: bool,
    mut process: impl FnMut(&mut Ctx, Record) -> Result<Emit>,
) -> Result<StreamStats> {
    let reader = RecordReader::new(inputs);
    if reader.reads_from_terminal() && !ctx.global.quiet {
        eprintln!(
            "mailroom {}: reading records from the terminal (pipe them in, or name files; Ctrl-D ends)",
            ctx.command
        );
    }
    let mut writer = RecordWriter::stdout(flush_each);
    let mut stats = StreamStats::default();
    for item in reader {
        match item {
            Err(bad) => {
                stats.bad_lines += 1;
                ctx.error(&bad);
                if ctx.global.strict {
                    writer.flush().ok();
                    bail!("stopped at {} (--strict)", bad.pos);
                }
            }
            Ok((pos, record)) => {
                stats.read += 1;
                let id = printable_id(&record.id);
                match process(ctx, record) {
                    Ok(Emit::Records(out)) => {
                        for r in &out {
                            if let Err(e) = writer.write(r) {
                                if e.kind() == std::io::ErrorKind::BrokenPipe {
                                    return Ok(stats);
                                }
                                return Err(e.into());
                            }
                            stats.written += 1;
                        }
                    }
                    Ok(Emit::Nothing) => {}
                    Err(e) => {
                        stats.failed += 1;
                        ctx.error(format!("{pos}: message {id}: {e:#}"));
                        if ctx.global.strict {
                            writer.flush().ok();
                            bail!("stopped at {pos} (--strict)");
                        }
                    }
                }
            }
        }
    }
    match writer.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e.into()),
        Ok(()) => {}
    }
    ctx.count("read", stats.read);
    ctx.count("written", stats.written);
    ctx.count("bad_lines", stats.bad_lines);
    ctx.count("failed", stats.failed);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::printable_id;

    #[test]
    fn ids_in_errors_are_short_and_inert() {
        assert_eq!(printable_id("m0123abc"), "m0123abc");
        assert_eq!(printable_id("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable_id(&"x".repeat(1000)).chars().count(), 81);
    }
}
