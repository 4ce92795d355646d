//! What sending needs from the team's IMAP server: finding a Message-ID (reconciliation and
//! the idempotent Sent copy), APPEND to the Sent folder, and `\Answered` on the original.
//! One session per account, opened on first use and reused for the run.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};

use crate::config::Config;
use crate::ledger::{Event, Ledger};
use crate::mail::imap::ImapSession;

#[derive(Default)]
pub struct MailStores {
    sessions: HashMap<String, ImapSession>,
}

/// The folders where a sent message shows up: the Sent folder, and with `bcc_self` the
/// account's own mailboxes (where the server files the copy addressed to us).
pub fn lookup_mailboxes(config: &Config, account: &str) -> Vec<String> {
    let Some(acct) = config.accounts.get(account) else { return Vec::new() };
    let Some(imap) = &acct.imap else { return Vec::new() };
    let mut out: Vec<String> = imap.sent_mailbox.iter().cloned().collect();
    if acct.smtp.as_ref().is_some_and(|s| s.bcc_self) {
        for m in &imap.mailboxes {
            if !out.contains(m) {
                out.push(m.clone());
            }
        }
    }
    out
}

impl MailStores {
    async fn session(&mut self, config: &Config, account: &str, ledger: &Ledger) -> Result<&mut ImapSession> {
        if !self.sessions.contains_key(account) {
            let imap = config
                .accounts
                .get(account)
                .and_then(|a| a.imap.as_ref())
                .ok_or_else(|| anyhow!("account \"{account}\" has no imap settings"))?;
            let mut cfg = imap.clone();
            cfg.ca_file = cfg.ca_file.map(|p| config.resolve_path(&p));
            let started = Instant::now();
            let result = ImapSession::connect(&cfg, account).await;
            let status = if result.is_ok() { "ok" } else { "error" };
            let mut event = Event::new("imap.login", status).account(account).latency_ms(started.elapsed().as_millis() as i64);
            if let Err(e) = &result {
                event = event.detail(serde_json::json!({"error": e.to_string(), "purpose": "send"}));
            }
            ledger.event(&event)?;
            let session = result.with_context(|| format!("account \"{account}\": IMAP"))?;
            self.sessions.insert(account.to_string(), session);
        }
        Ok(self.sessions.get_mut(account).expect("inserted above"))
    }

    /// The first of `mailboxes` holding a message with this Message-ID, if any.
    pub async fn find(
        &mut self,
        config: &Config,
        ledger: &Ledger,
        account: &str,
        mailboxes: &[String],
        message_id: &str,
    ) -> Result<Option<String>> {
        let session = self.session(config, account, ledger).await?;
        for mailbox in mailboxes {
            let found = session
                .search_header_message_id(mailbox, message_id)
                .await
                .with_context(|| format!("account \"{account}\": searching {mailbox}"))?;
            if found.is_some() {
                return Ok(Some(mailbox.clone()));
            }
        }
        Ok(None)
    }

    pub async fn append_seen(&mut self, config: &Config, ledger: &Ledger, account: &str, mailbox: &str, raw: &[u8]) -> Result<()> {
        let session = self.session(config, account, ledger).await?;
        session.append(mailbox, &["\\Seen"], raw).await.with_context(|| format!("account \"{account}\": APPEND to {mailbox}"))
    }

    /// Sets `\Answered` on `uid` if `mailbox` still has the same UIDVALIDITY; false otherwise.
    pub async fn mark_answered(
        &mut self,
        config: &Config,
        ledger: &Ledger,
        account: &str,
        mailbox: &str,
        uidvalidity: u32,
        uid: u32,
    ) -> Result<bool> {
        let session = self.session(config, account, ledger).await?;
        let status = session.select(mailbox).await.with_context(|| format!("account \"{account}\": SELECT {mailbox}"))?;
        if status.uidvalidity != uidvalidity {
            return Ok(false);
        }
        session
            .add_flags(&uid.to_string(), &["\\Answered"])
            .await
            .with_context(|| format!("account \"{account}\": flagging UID {uid} in {mailbox}"))?;
        Ok(true)
    }

    pub async fn close(self) {
        for (_, s) in self.sessions {
            s.logout().await;
        }
    }
}
