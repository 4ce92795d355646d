//! mailroom: a support team's shared mailbox on the command line.
//!
//! Architecture, top to bottom (each layer imports only from layers below it):
//!
//! ```text
//! main.rs ─▶ cli.rs ─▶ commands/* ─▶ stages/* ─▶ ledger/  mail/  model/  notify/ ─▶ record, config, secret, error, env, trash, hex
//!                         └─▶ jsonl.rs, output.rs, logging.rs   (the terminal edge)
//! ```
//!
//! - `commands/` parse nothing themselves (clap did), read input, call a stage, write output,
//!   and record the run in the ledger.
//! - `stages/` do the work: ingest, filter, classify, draft, send, digest, health.
//! - `ledger/` is the SQLite file that remembers everything; `mail/` speaks MIME, IMAP and
//!   SMTP; `model/` speaks the OpenAI-compatible HTTP API; `notify/` speaks webhooks.
//! - `record.rs` is the JSON Lines wire format (documented there).

pub mod cli;
pub mod commands;
pub mod config;
pub mod env;
pub mod error;
pub mod hex;
pub mod jsonl;
pub mod ledger;
pub mod logging;
pub mod mail;
pub mod model;
pub mod notify;
pub mod output;
pub mod record;
pub mod secret;
pub mod stages;
pub mod trash;
