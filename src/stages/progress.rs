//! How stages report progress without knowing about terminals.

/// Implemented at the edge (indicatif on a TTY, nothing otherwise).
pub trait Reporter {
    /// `total` in `unit`s when known (bytes for an mbox, messages for a batch).
    fn start(&self, _total: Option<u64>, _unit: Unit) {}
    fn set_position(&self, _pos: u64) {}
    fn inc(&self, _n: u64) {}
    fn message(&self, _msg: &str) {}
    fn finish(&self) {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Messages,
}

/// Reports nothing.
pub struct Silent;
impl Reporter for Silent {}
