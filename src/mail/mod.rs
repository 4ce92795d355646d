//! Mail adapters: MIME parsing, file imports, quoted-text stripping, IMAP and SMTP.

pub mod imap;
pub mod import;
pub mod parse;
pub mod quote;
pub mod reply;
pub mod smtp;
