//! The terminal edge: progress bars, TTY detection, tables.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::stages::progress::{Reporter, Unit};

pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}

/// A progress bar on stderr, drawn only on a TTY and when neither quiet nor verbose.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new(quiet: bool, verbose: u8) -> Progress {
        let target = if stderr_is_tty() && !quiet && verbose == 0 {
            ProgressDrawTarget::stderr_with_hz(8)
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        Progress { bar }
    }
}

impl Reporter for Progress {
    fn start(&self, total: Option<u64>, unit: Unit) {
        let template = match (total.is_some(), unit) {
            (true, Unit::Bytes) => "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {msg}",
            (true, Unit::Messages) => "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, {eta}) {msg}",
            (false, Unit::Bytes) => "{spinner} [{elapsed_precise}] {bytes} ({bytes_per_sec}) {msg}",
            (false, Unit::Messages) => "{spinner} [{elapsed_precise}] {pos} messages ({per_sec}) {msg}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style);
        }
        if let Some(t) = total {
            self.bar.set_length(t);
        }
        self.bar.enable_steady_tick(Duration::from_millis(200));
    }
    fn set_position(&self, pos: u64) {
        self.bar.set_position(pos);
    }
    fn inc(&self, n: u64) {
        self.bar.inc(n);
    }
    fn message(&self, msg: &str) {
        self.bar.set_message(msg.to_string());
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A comfy-table with the house style.
pub fn table(header: Vec<&str>) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    t.set_header(header);
    t
}
