//! Every environment variable mailroom reads, in one place.

/// Path of the config file (overridden by `--config`).
pub const MAILROOM_CONFIG: &str = "MAILROOM_CONFIG";
/// Path of the SQLite ledger (overridden by `--ledger`).
pub const MAILROOM_LEDGER: &str = "MAILROOM_LEDGER";
/// Log filter in tracing's EnvFilter syntax, e.g. `mailroom=debug`.
pub const MAILROOM_LOG: &str = "MAILROOM_LOG";
/// The name recorded as the actor of human decisions (default: `$USER`).
pub const MAILROOM_USER: &str = "MAILROOM_USER";
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
pub const XDG_DATA_HOME: &str = "XDG_DATA_HOME";
pub const HOME: &str = "HOME";
pub const USER: &str = "USER";
pub const EDITOR: &str = "EDITOR";
