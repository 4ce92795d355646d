//! Stages: the work of each command, free of terminal concerns.
//!
//! A stage takes values (records, config, a ledger) and returns values; it never prints,
//! never parses flags and never draws progress itself (it reports through `progress::Reporter`).

pub mod cases;
pub mod classify;
pub mod digest;
pub mod draft;
pub mod duration;
pub mod entities;
pub mod fetch;
pub mod filter;
pub mod health;
pub mod ingest;
pub mod lock;
pub mod notify;
pub mod progress;
pub mod review;
pub mod send;
mod sql;
