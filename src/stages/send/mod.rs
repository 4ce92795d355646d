//! Sending replies over SMTP, exactly once, and the auto-send policy.
//!
//! # The exactly-once protocol
//!
//! A draft moves `approved → sending → sent | failed` (or back to `approved` after a
//! temporary refusal). What makes a retry safe is that the Message-ID and the exact bytes are
//! fixed *before* the first attempt and never regenerated, and that the ledger records how far
//! each SMTP transaction got:
//!
//! 1. Connect, TLS, AUTH. Nothing about the draft is decided yet; a failure here leaves the
//!    draft untouched (it is the account's problem, not the draft's) and skips the account's
//!    other drafts for this run.
//! 2. Take the send lock, then in one transaction: `approved → sending`, with out_message_id,
//!    out_raw, the envelope and the account stored, `send_stage = claimed`.
//! 3. MAIL FROM / RCPT TO / DATA. A refusal here is definite: 5xx → `failed` with the server's
//!    text; 4xx or a broken connection → back to `approved` with `attempts + 1` and
//!    `next_attempt_at` (exponential backoff from `policy.retry_backoff_secs`), `failed`
//!    after `policy.max_attempts`.
//! 4. Commit `send_stage = data` (the ledger connection uses `synchronous = FULL`, so this
//!    survives a power cut too) — the point of no return.
//! 5. Write the message and the final dot, read the reply. 250 → `sent` with the response,
//!    committed at once; 5xx/4xx as above. If the connection breaks now, nobody knows whether
//!    the server queued it: the draft stays `sending` at stage `data`.
//! 6. Release the lock; then the follow-ups: APPEND to the Sent folder (`append_sent`, after
//!    checking the Message-ID is not there yet) and `\Answered` on the original
//!    (`mark_answered`). They are retried by later runs until done.
//!
//! # After a crash
//!
//! The send lock is held from step 2 to step 5, and the kernel releases it when a process
//! dies. So a run that holds the lock and sees a draft in `sending` knows its sender is gone:
//!
//! - stage `claimed`: the message never left; the draft goes back to `approved` and is sent
//!   again with the same Message-ID and bytes.
//! - stage `data`: the outcome is unknown. Once `policy.reconcile_after_secs` have passed
//!   (the copy may still be in transit), the Message-ID is searched in the account's Sent
//!   folder and, with `smtp.bcc_self`, in its own mailboxes. Found → `sent`. Not found, or no
//!   folder to search → `failed` with "interrupted during send; not found … check before
//!   retrying": a human decides, because a server can accept a message without any copy
//!   appearing. It is never re-sent automatically.
//!
//! A Sent copy that mailroom APPENDs itself is written only after step 5, so it cannot prove an
//! interrupted send; the proof comes from a copy the server makes in the same transaction:
//! `bcc_self` (the reply is also delivered to the team's own address), or a provider that files
//! submitted mail in Sent by itself (Gmail, Microsoft 365). With either, every interrupted send
//! is resolved without a human unless the crash hit the short moment between step 4 and the
//! message reaching the server (then it was not delivered, and a human sees it as `failed`).
//!
//! # Auto-send
//!
//! With `--auto`, pending drafts that `policy::check` allows are approved by the actor
//! `policy` (counted against `policy.daily_cap` in the same transaction) and sent like any
//! other; the pause file and `policy.auto_send` are checked before each one. While auto-send
//! is stopped, drafts the policy approved earlier but has not sent yet are held too.
//!
//! With `--auto --shadow`, [`shadow`] only records what the policy would have done with each
//! pending draft, and later whether the person who decided agreed.

mod mailstore;
pub mod policy;
pub mod shadow;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::config::{Config, SmtpConfig};
use crate::ledger::drafts::transition;
use crate::ledger::outbox::{self, Attempt, OutboxRow, Outgoing, SendStage};
use crate::ledger::{DraftRow, DraftState, Event, Ledger, now};
use crate::mail::parse::sha256_hex;
use crate::mail::reply::{self, AttachmentFile, ReplyInput};
use crate::mail::smtp::{SmtpError, SmtpSession};
use crate::record::Record;
use crate::stages::cases;

use crate::stages::lock::LedgerLock;
use mailstore::{MailStores, lookup_mailboxes};

/// How long a sender waits for another one to finish its SMTP transaction.
const LOCK_WAIT: Duration = Duration::from_secs(300);
/// Sent drafts whose Sent copy or `\Answered` flag is still retried.
const FOLLOW_UP_DAYS: i64 = 7;
/// Longest wait between two attempts of a temporary failure.
const MAX_BACKOFF_SECS: u64 = 6 * 3600;

/// What one `mailroom send` run does.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    /// Who sends human-approved drafts (policy-approved ones are sent as `policy`).
    pub actor: String,
    pub dry_run: bool,
    /// At most this many drafts (sent, refused or previewed) this run.
    pub max: Option<usize>,
    /// SMTP transactions per minute; 0 = no limit.
    pub rate_per_minute: u32,
    /// Also send pending drafts the auto-send policy allows.
    pub auto: bool,
    /// Only these drafts (an explicit choice: their retry time is not waited for).
    pub only: Option<Vec<String>>,
    /// Sending account for messages whose own account has no SMTP (file imports).
    pub default_account: Option<String>,
    pub run_id: Option<i64>,
    /// Set (by a signal handler) to stop before the next draft; a transaction under way ends first.
    pub stop: Option<Arc<AtomicBool>>,
}

impl SendOptions {
    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
    }
}

/// One line of `mailroom send` output: one attempt (or reconciliation, or preview).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SendOutcome {
    pub draft: String,
    pub message: String,
    pub message_id: Option<String>,
    /// `sent`, `failed`, `approved` (a retry is scheduled), `sending` (outcome unknown, to be
    /// reconciled), `dry_run`, or `skipped`.
    pub state: String,
    pub smtp_response: Option<String>,
    pub attempts: i64,
    pub account: Option<String>,
    pub to: Vec<String>,
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `--dry-run` only: the RFC 822 message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl SendOutcome {
    fn new(draft: &str, message: &str, state: &str, actor: &str) -> SendOutcome {
        SendOutcome {
            draft: draft.into(),
            message: message.into(),
            message_id: None,
            state: state.into(),
            smtp_response: None,
            attempts: 0,
            account: None,
            to: Vec::new(),
            actor: actor.into(),
            next_attempt_at: None,
            reason: None,
            raw: None,
        }
    }

    fn reason(mut self, r: impl Into<String>) -> Self {
        self.reason = Some(r.into());
        self
    }

    /// Fills message id, response, attempts, account and recipients from the ledger row.
    fn from_row(row: &OutboxRow, actor: &str) -> SendOutcome {
        let mut o = SendOutcome::new(&row.id, &row.message, row.state.as_str(), actor);
        o.message_id = row.out_message_id.clone();
        o.smtp_response = row.smtp_response.clone();
        o.attempts = row.attempts;
        o.next_attempt_at = if row.state == DraftState::Approved { row.next_attempt_at.clone() } else { None };
        if let Some(out) = &row.outgoing {
            o.account = Some(out.account.clone());
            o.to = header_recipients(&out.envelope);
        }
        o
    }
}

/// What a run did, for the exit code and the operator.
#[derive(Debug, Default, Clone)]
pub struct SendSummary {
    pub sent: u64,
    pub failed: u64,
    pub retry: u64,
    /// Left in `sending` with an unknown outcome (to be reconciled).
    pub unknown: u64,
    pub skipped: u64,
    pub previewed: u64,
    /// Problems beyond one draft (an SMTP server that cannot be reached, a config gap).
    pub errors: Vec<String>,
    /// Worth telling (auto-send paused, cap reached, a Sent copy that failed).
    pub notes: Vec<String>,
}

impl SendSummary {
    /// True when the work failed or partly failed (exit 1).
    pub fn failed_work(&self) -> bool {
        self.failed > 0 || self.unknown > 0 || !self.errors.is_empty()
    }

    fn count(&mut self, o: &SendOutcome) {
        match o.state.as_str() {
            "sent" => self.sent += 1,
            "failed" => self.failed += 1,
            "approved" => self.retry += 1,
            "sending" => self.unknown += 1,
            "dry_run" => self.previewed += 1,
            _ => self.skipped += 1,
        }
    }

    fn note(&mut self, n: String) {
        if !self.notes.contains(&n) {
            self.notes.push(n);
        }
    }
}

/// Receives each outcome as it happens (the command writes it as a JSONL line).
pub type Emit<'e> = &'e mut dyn FnMut(&SendOutcome) -> Result<()>;

/// Sends what is due: reconciles interrupted sends, finishes follow-ups, then sends approved
/// drafts (and, with `auto`, what the policy allows), emitting one outcome per attempt.
pub async fn run_batch(config: &Config, ledger: &mut Ledger, opts: &SendOptions, emit: Emit<'_>) -> Result<SendSummary> {
    let mut s = Sender::new(config, ledger, opts.run_id)?;
    let result = s.batch(opts, emit).await;
    s.stores.close().await;
    result.map(|()| s.summary)
}

/// Sends one approved draft now (the review page's "Approve & send"). Reconciliation and the
/// rate limit are the send timer's business; the send lock and the protocol are the same.
pub async fn send_one(config: &Config, ledger: &mut Ledger, draft_id: &str, actor: &str) -> Result<SendOutcome> {
    let mut s = Sender::new(config, ledger, None)?;
    let result = s.send(draft_id, actor, None).await;
    s.stores.close().await;
    result
}

/// A draft chosen for this run.
enum Candidate {
    /// Approved by a human (or earlier by the policy).
    Approved(DraftRow),
    /// Pending; the policy may approve it.
    Auto(DraftRow),
    /// Asked for explicitly but not sendable.
    NotSendable(DraftRow),
}

struct Sender<'a> {
    config: &'a Config,
    ledger: &'a mut Ledger,
    run_id: Option<i64>,
    stores: MailStores,
    /// Accounts whose SMTP server failed us this run, and why.
    down: HashMap<String, String>,
    summary: SendSummary,
}

impl<'a> Sender<'a> {
    fn new(config: &'a Config, ledger: &'a mut Ledger, run_id: Option<i64>) -> Result<Sender<'a>> {
        // The "data" mark must survive a power cut, not only a crash.
        ledger.conn().execute_batch("PRAGMA synchronous = FULL")?;
        Ok(Sender { config, ledger, run_id, stores: MailStores::default(), down: HashMap::new(), summary: SendSummary::default() })
    }

    fn emit(&mut self, emit: Emit<'_>, o: SendOutcome) -> Result<()> {
        self.summary.count(&o);
        emit(&o)
    }

    async fn batch(&mut self, opts: &SendOptions, emit: Emit<'_>) -> Result<()> {
        if !opts.dry_run {
            self.reconcile(emit).await?;
            self.follow_ups().await?;
        }
        let candidates = self.candidates(opts)?;
        let interval = match opts.rate_per_minute {
            0 => Duration::ZERO,
            n => Duration::from_secs_f64(60.0 / f64::from(n)),
        };
        let mut last_transaction: Option<Instant> = None;
        let mut done = 0usize;
        for candidate in candidates {
            if opts.stopping() {
                self.summary.note("stopped by a signal; the rest waits for the next run".into());
                break;
            }
            if opts.max.is_some_and(|m| done >= m) {
                self.summary.note(format!("stopped after --max {done}; the rest waits for the next run"));
                break;
            }
            let (draft, auto) = match candidate {
                Candidate::NotSendable(d) => {
                    let o = SendOutcome::new(&d.id, &d.message, "skipped", &opts.actor)
                        .reason(format!("draft is {}; only approved drafts are sent", d.state.as_str()));
                    self.emit(emit, o)?;
                    continue;
                }
                Candidate::Approved(d) => (d, false),
                Candidate::Auto(d) => (d, true),
            };
            let by_policy = auto || draft.decided_by.as_deref() == Some("policy");
            if by_policy {
                if let Some(why) = policy::stopped(self.config) {
                    self.summary.note(format!("{why}; drafts for the policy wait"));
                    continue;
                }
            }
            if opts.dry_run {
                let o = self.preview(&draft, opts)?;
                self.emit(emit, o)?;
                done += 1;
                continue;
            }
            if let Some(t) = last_transaction {
                let wait = interval.saturating_sub(t.elapsed());
                if !wait.is_zero() {
                    let until = Instant::now() + wait;
                    while Instant::now() < until && !opts.stopping() {
                        tokio::time::sleep(until.saturating_duration_since(Instant::now()).min(Duration::from_millis(100))).await;
                    }
                    if opts.stopping() {
                        self.summary.note("stopped by a signal; the rest waits for the next run".into());
                        break;
                    }
                    // The pause file may have appeared while we waited.
                    if by_policy {
                        if let Some(why) = policy::stopped(self.config) {
                            self.summary.note(format!("{why}; drafts for the policy wait"));
                            continue;
                        }
                    }
                }
            }
            if auto {
                if let Some(why) = self.approve_by_policy(&draft)? {
                    if opts.only.is_some() {
                        let o = SendOutcome::new(&draft.id, &draft.message, "skipped", "policy").reason(why);
                        self.emit(emit, o)?;
                    }
                    continue;
                }
            }
            let actor = if by_policy { "policy" } else { opts.actor.as_str() };
            let o = self.send(&draft.id, actor, opts.default_account.as_deref()).await?;
            if o.state != "skipped" {
                last_transaction = Some(Instant::now());
                done += 1;
            }
            self.emit(emit, o)?;
        }
        Ok(())
    }

    /// The drafts this run looks at, approved ones first (oldest first), then pending ones for
    /// the policy.
    fn candidates(&mut self, opts: &SendOptions) -> Result<Vec<Candidate>> {
        let mut out = Vec::new();
        if let Some(ids) = &opts.only {
            for id in ids {
                let Some(d) = self.ledger.draft(id)? else {
                    self.summary.errors.push(format!("no draft with id {id}"));
                    continue;
                };
                out.push(match d.state {
                    DraftState::Approved => Candidate::Approved(d),
                    DraftState::Pending if opts.auto => Candidate::Auto(d),
                    _ => Candidate::NotSendable(d),
                });
            }
            return Ok(out);
        }
        for row in self.ledger.due_drafts(&now())? {
            if let Some(d) = self.ledger.draft(&row.id)? {
                out.push(Candidate::Approved(d));
            }
        }
        if opts.auto {
            let mut needs_human = 0;
            for d in self.ledger.drafts_in(&[DraftState::Pending])? {
                match policy::check(self.config, &d) {
                    Ok(_) => out.push(Candidate::Auto(d)),
                    Err(_) => needs_human += 1,
                }
            }
            if needs_human > 0 {
                self.summary.note(format!("{needs_human} pending drafts need a human (outside the auto-send policy)"));
            }
        }
        Ok(out)
    }

    /// pending → approved by `policy`, if the rules and today's cap allow (one transaction).
    /// Returns why not, or None when it is approved.
    fn approve_by_policy(&mut self, draft: &DraftRow) -> Result<Option<String>> {
        let reason = match policy::check(self.config, draft) {
            Ok(r) => r,
            Err(rules) => return Ok(Some(format!("needs a human: {}", rules.join("; ")))),
        };
        let since = policy::day_start(&self.config.team.timezone, chrono::Utc::now());
        let cap = i64::from(self.config.policy.daily_cap);
        let run_id = self.run_id;
        let approved = self.ledger.write(|tx| {
            if outbox::policy_sends_since(tx, &since)? >= cap {
                return Ok(false);
            }
            transition(tx, &draft.id, DraftState::Approved, "policy", Some(&reason), run_id)?;
            Ok(true)
        });
        match approved {
            Ok(true) => Ok(None),
            Ok(false) => {
                let why = format!("the auto-send daily cap ({cap}) is reached; the rest waits for a human or tomorrow");
                self.summary.note(why.clone());
                Ok(Some(why))
            }
            // Someone decided about it meanwhile: not ours any more.
            Err(e) => Ok(Some(format!("{e:#}"))),
        }
    }

    /// The account that sends a reply to `original`.
    fn account_for(&self, original: &Record, default: Option<&str>, fixed: Option<&str>) -> Result<String, String> {
        let has_smtp = |name: &str| self.config.accounts.get(name).is_some_and(|a| a.smtp.is_some());
        if let Some(f) = fixed.filter(|f| has_smtp(f)) {
            return Ok(f.to_string());
        }
        if has_smtp(&original.account) {
            return Ok(original.account.clone());
        }
        if let Some(d) = default {
            return if has_smtp(d) {
                Ok(d.to_string())
            } else {
                Err(format!("account \"{d}\" has no smtp settings"))
            };
        }
        let with_smtp: Vec<&String> = self.config.accounts.iter().filter(|(_, a)| a.smtp.is_some()).map(|(n, _)| n).collect();
        match with_smtp.as_slice() {
            [only] => Ok((*only).clone()),
            [] => Err("no account has smtp settings; add `smtp = {...}` to an [accounts.NAME] table".into()),
            _ => Err(format!(
                "message came from \"{}\", which has no smtp settings; pass --account NAME to choose the sender",
                original.account
            )),
        }
    }

    fn smtp(&self, account: &str) -> Option<&'a SmtpConfig> {
        self.config.accounts.get(account).and_then(|a| a.smtp.as_ref())
    }

    /// The outgoing message: the fixed one if the draft is unchanged since it was fixed, else
    /// built now (with the fixed Message-ID when there is one).
    fn prepare(&self, draft: &DraftRow, original: &Record, account: &str, row: &OutboxRow) -> Result<(Outgoing, bool)> {
        let smtp = self.smtp(account).context("account has no smtp settings")?;
        let attachments: Vec<AttachmentFile> = match draft.draft_json.get("attachments") {
            Some(v) if !v.is_null() => serde_json::from_value(v.clone()).context("draft.attachments is not a list of {path, filename, content_type}")?,
            _ => Vec::new(),
        };
        let attachments: Vec<AttachmentFile> = attachments
            .into_iter()
            .map(|a| AttachmentFile { path: self.config.resolve_path(&a.path), ..a })
            .collect();
        let body_html = draft.draft_json.get("body_html").and_then(|v| v.as_str());
        let bcc: Vec<String> = if smtp.bcc_self {
            vec![reply::parse_address(&smtp.from).context("smtp.from")?]
        } else {
            Vec::new()
        };
        let to: Vec<String> = reply::recipients(original)?.iter().map(|m| m.to_string()).collect();
        let sizes: Vec<(String, Option<u64>)> = attachments
            .iter()
            .map(|a| (a.path.display().to_string(), std::fs::metadata(&a.path).ok().map(|m| m.len())))
            .collect();
        let source = serde_json::json!({
            "account": account, "from": smtp.from, "to": to, "bcc": bcc, "subject": draft.subject,
            "body": draft.body, "html": body_html, "attachments": sizes,
            "parent": original.message_id, "references": original.references,
        });
        let source_sha256 = sha256_hex(source.to_string().as_bytes());
        if let Some(out) = &row.outgoing {
            if out.source_sha256 == source_sha256 && out.account == account {
                return Ok((out.clone(), true));
            }
        }
        let message_id = match &row.out_message_id {
            Some(m) => m.clone(),
            None => reply::new_message_id(&reply::from_domain(&smtp.from)?),
        };
        let built = reply::build_reply(&ReplyInput {
            from: &smtp.from,
            original,
            subject: &draft.subject,
            body: &draft.body,
            body_html,
            attachments: &attachments,
            message_id: &message_id,
            envelope_bcc: &bcc,
        })?;
        let envelope = serde_json::to_string(&built.envelope)?;
        Ok((Outgoing { message_id, raw: built.raw, envelope, account: account.to_string(), source_sha256 }, false))
    }

    fn outcome(&self, id: &str, actor: &str) -> Result<SendOutcome> {
        let row = self.ledger.outbox(id)?.with_context(|| format!("draft {id} vanished"))?;
        Ok(SendOutcome::from_row(&row, actor))
    }

    /// `--dry-run`: the message as it would go now; nothing is stored or sent.
    fn preview(&self, draft: &DraftRow, opts: &SendOptions) -> Result<SendOutcome> {
        let mut o = SendOutcome::new(&draft.id, &draft.message, "dry_run", &opts.actor);
        let row = self.ledger.outbox(&draft.id)?.with_context(|| format!("draft {} vanished", draft.id))?;
        let Some(original) = self.ledger.base_record(&draft.message)? else {
            return Ok(o.reason("the original message is not in the ledger"));
        };
        let fixed = row.outgoing.as_ref().map(|f| f.account.as_str());
        let account = match self.account_for(&original, opts.default_account.as_deref(), fixed) {
            Ok(a) => a,
            Err(e) => return Ok(o.reason(e)),
        };
        match self.prepare(draft, &original, &account, &row) {
            Ok((out, reused)) => {
                o.message_id = Some(out.message_id.clone());
                o.to = header_recipients(&out.envelope);
                o.account = Some(account);
                o.attempts = row.attempts;
                o.raw = Some(String::from_utf8_lossy(&out.raw).into_owned());
                o.reason = Some(if reused {
                    "exactly the bytes fixed by an earlier attempt".into()
                } else if row.out_message_id.is_some() {
                    "built now with the draft's fixed Message-ID; the Date is set when it is sent".into()
                } else {
                    "built now; the real send fixes its own Message-ID and Date".into()
                });
            }
            Err(e) => o.reason = Some(format!("cannot build the message: {e:#}")),
        }
        Ok(o)
    }

    /// One draft through the protocol. Errors are ledger errors; everything about the draft or
    /// the server ends up in the outcome.
    async fn send(&mut self, id: &str, actor: &str, default_account: Option<&str>) -> Result<SendOutcome> {
        let Some(draft) = self.ledger.draft(id)? else {
            return Ok(SendOutcome::new(id, "", "skipped", actor).reason("no such draft"));
        };
        if draft.state != DraftState::Approved {
            return Ok(SendOutcome::new(id, &draft.message, "skipped", actor)
                .reason(format!("draft is {}; only approved drafts are sent", draft.state.as_str())));
        }
        let row = self.ledger.outbox(id)?.with_context(|| format!("draft {id} vanished"))?;
        let Some(original) = self.ledger.base_record(&draft.message)? else {
            return self.fail_before_sending(&draft, actor, "the original message is not in the ledger");
        };
        let fixed = row.outgoing.as_ref().map(|f| f.account.as_str());
        let account = match self.account_for(&original, default_account, fixed) {
            Ok(a) => a,
            Err(e) => {
                self.summary.errors.push(format!("draft {id}: {e}"));
                return Ok(SendOutcome::new(id, &draft.message, "skipped", actor).reason(e));
            }
        };
        if let Some(why) = self.down.get(&account) {
            return Ok(SendOutcome::new(id, &draft.message, "skipped", actor)
                .reason(format!("account \"{account}\": {why}")));
        }
        let (out, reused) = match self.prepare(&draft, &original, &account, &row) {
            Ok(p) => p,
            Err(e) => return self.fail_before_sending(&draft, actor, &format!("cannot build the message: {e:#}")),
        };
        let smtp = self.smtp(&account).context("account has no smtp settings")?;
        let ca_file = smtp.ca_file.as_ref().map(|p| self.config.resolve_path(p));

        // 1. Connect before claiming: a server that is down is not the draft's fault.
        let started = Instant::now();
        let mut session = match SmtpSession::connect(smtp, &account, ca_file.as_deref()).await {
            Ok(s) => s,
            Err(e) => {
                let text = e.to_string();
                self.ledger.event(
                    &Event::new("smtp.connect", "error")
                        .run(self.run_id)
                        .account(&account)
                        .draft(id)
                        .latency_ms(started.elapsed().as_millis() as i64)
                        .detail(serde_json::json!({"code": e.code(), "error": text})),
                )?;
                self.down.insert(account.clone(), text.clone());
                self.summary.errors.push(format!("account \"{account}\": SMTP: {text}"));
                return Ok(SendOutcome::new(id, &draft.message, "skipped", actor)
                    .reason(format!("SMTP connection failed, the draft stays approved: {text}")));
            }
        };

        // 2. Claim with the bytes fixed, under the send lock.
        let lock = LedgerLock::acquire(self.ledger.path(), "send", LOCK_WAIT).await?;
        let run_id = self.run_id;
        if let Err(e) = self.ledger.write(|tx| outbox::claim(tx, id, &out, actor, run_id)) {
            drop(lock);
            session.quit().await;
            return Ok(SendOutcome::new(id, &draft.message, "skipped", actor).reason(format!("{e:#}")));
        }
        if !reused && row.outgoing.is_some() {
            tracing::info!("draft {id}: changed since its last attempt; rebuilt with the same Message-ID");
        }
        let envelope: reply::OutEnvelope = serde_json::from_str(&out.envelope)?;
        let sent_at = Instant::now();

        // 3. Envelope: a refusal here is definite.
        if let Err(e) = session.begin(&envelope, &out.raw).await {
            self.refused(id, actor, &account, &e, row.attempts, sent_at)?;
            drop(lock);
            session.quit().await;
            return self.outcome(id, actor);
        }
        // 4. The point of no return.
        outbox::mark_data(self.ledger.conn(), id)?;
        // 5. The message itself.
        let result = session.finish(&out.raw).await;
        let latency_ms = sent_at.elapsed().as_millis() as i64;
        match &result {
            Ok(accepted) => {
                let text = accepted.to_string();
                let a = Attempt { actor, account: &account, run_id, latency_ms, response: &text, code: Some(accepted.code) };
                self.ledger.write(|tx| outbox::finish_sent(tx, id, &a).and_then(|()| cases::draft_changed(tx, id, run_id)))?;
            }
            Err(e) if e.outcome_unknown() => {
                let text = format!("{e}; the server may have accepted it");
                let a = Attempt { actor, account: &account, run_id, latency_ms, response: &text, code: None };
                self.ledger.write(|tx| outbox::record_unknown(tx, id, &a))?;
            }
            Err(e) => self.refused(id, actor, &account, e, row.attempts, sent_at)?,
        }
        drop(lock);
        session.quit().await;
        let mut outcome = self.outcome(id, actor)?;
        if outcome.state == "sending" {
            outcome.reason = Some("the connection broke after the message was sent; the next run looks it up before anything is resent".into());
        }
        // 6. Follow-ups (never undo a send).
        if outcome.state == "sent" {
            if let Some(row) = self.ledger.outbox(id)? {
                self.follow_up(&row).await?;
            }
        }
        Ok(outcome)
    }

    /// A definite refusal: 5xx (or a message the server cannot take) → failed; 4xx or a broken
    /// connection before the message → retry later, failed when the attempts are used up.
    fn refused(&mut self, id: &str, actor: &str, account: &str, e: &SmtpError, attempts: i64, t: Instant) -> Result<()> {
        let text = e.response_text();
        let a = Attempt {
            actor,
            account,
            run_id: self.run_id,
            latency_ms: t.elapsed().as_millis() as i64,
            response: &text,
            code: e.code(),
        };
        let permanent = e.is_permanent() || matches!(e, SmtpError::Setup(_));
        let done = attempts + 1;
        let max = i64::from(self.config.policy.max_attempts.max(1));
        if permanent {
            let reason = format!("the server refused the message: {text}");
            self.ledger.write(|tx| outbox::finish_failed(tx, id, &a, &reason).and_then(|()| cases::draft_changed(tx, id, a.run_id)))
        } else if done >= max {
            let reason = format!("gave up after {done} attempts: {text}");
            self.ledger.write(|tx| outbox::finish_failed(tx, id, &a, &reason).and_then(|()| cases::draft_changed(tx, id, a.run_id)))
        } else {
            let next = next_attempt_at(self.config.policy.retry_backoff_secs, done);
            self.ledger.write(|tx| outbox::finish_retry(tx, id, &a, &next))
        }
    }

    /// approved → sending → failed for a draft that cannot be turned into a message.
    fn fail_before_sending(&mut self, draft: &DraftRow, actor: &str, reason: &str) -> Result<SendOutcome> {
        let run_id = self.run_id;
        let id = draft.id.as_str();
        self.ledger.write(|tx| {
            transition(tx, id, DraftState::Sending, actor, None, run_id)?;
            transition(tx, id, DraftState::Failed, actor, Some(reason), run_id)?;
            cases::draft_changed(tx, id, run_id)
        })?;
        Ok(self.outcome(id, actor)?.reason(reason))
    }

    /// Resolves drafts left in `sending` by a process that died (see the module doc).
    async fn reconcile(&mut self, emit: Emit<'_>) -> Result<()> {
        let lock = LedgerLock::acquire(self.ledger.path(), "send", LOCK_WAIT).await?;
        let orphans = self.ledger.sending_drafts()?;
        let run_id = self.run_id;
        let mut unknown = Vec::new();
        let boot = outbox::boot_id();
        for o in orphans {
            // After a reboot, a missing "data" mark proves nothing (it was never flushed).
            let same_boot = boot.is_some() && o.claim_boot == boot;
            if o.send_stage == Some(SendStage::Data) || !same_boot {
                unknown.push(o);
                continue;
            }
            let reason = "interrupted before the message was transmitted; sent again with the same Message-ID";
            self.ledger.write(|tx| outbox::release_unsent(tx, &o.id, "reconcile", reason, run_id))?;
            tracing::info!("draft {}: {reason}", o.id);
        }
        drop(lock);
        let grace = self.config.policy.reconcile_after_secs as i64;
        for o in unknown {
            let account = o.out_account.clone().unwrap_or_default();
            let mailboxes = lookup_mailboxes(self.config, &account);
            let message_id = o.out_message_id.clone().unwrap_or_default();
            let verdict = if mailboxes.is_empty() {
                Some((false, "interrupted during send; no Sent folder is configured to check — check the customer's thread before retrying".to_string()))
            } else if age_secs(&o.updated_at) < grace {
                let o = SendOutcome::from_row(&o, "reconcile").reason(format!(
                    "interrupted during send; looked up in {} once {grace} s have passed",
                    mailboxes.join(", ")
                ));
                self.emit(emit, o)?;
                continue;
            } else {
                match self.stores.find(self.config, self.ledger, &account, &mailboxes, &message_id).await {
                    Ok(Some(mbox)) => Some((true, format!("interrupted during send; found in {mbox} by its Message-ID"))),
                    Ok(None) => Some((false, format!(
                        "interrupted during send; not found in {} — check before retrying",
                        mailboxes.join(", ")
                    ))),
                    Err(e) => {
                        self.summary.errors.push(format!("draft {}: cannot reconcile: {e:#}", o.id));
                        None
                    }
                }
            };
            let Some((sent, evidence)) = verdict else { continue };
            let settled = |tx: &rusqlite::Connection| {
                outbox::settle_unknown(tx, &o.id, sent, &evidence, run_id)?;
                cases::draft_changed(tx, &o.id, run_id)
            };
            if let Err(e) = self.ledger.write(settled) {
                tracing::info!("draft {}: settled elsewhere: {e:#}", o.id);
                continue;
            }
            let outcome = self.outcome(&o.id, "reconcile")?.reason(evidence);
            self.emit(emit, outcome)?;
            if sent {
                if let Some(row) = self.ledger.outbox(&o.id)? {
                    self.follow_up(&row).await?;
                }
            }
        }
        Ok(())
    }

    /// Follow-ups still open from earlier runs.
    async fn follow_ups(&mut self) -> Result<()> {
        let since = (chrono::Utc::now() - chrono::Duration::days(FOLLOW_UP_DAYS)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        for row in self.ledger.sent_followups(&since)? {
            self.follow_up(&row).await?;
        }
        Ok(())
    }

    /// The Sent copy and `\Answered`, where configured and not done yet. Failures are noted
    /// and retried by the next run; they never change the draft's state.
    async fn follow_up(&mut self, row: &OutboxRow) -> Result<()> {
        let Some(out) = &row.outgoing else { return Ok(()) };
        let Some(smtp) = self.smtp(&out.account) else { return Ok(()) };
        let account = out.account.clone();
        let sent_mailbox = self.config.accounts.get(&account).and_then(|a| a.imap.as_ref()).and_then(|i| i.sent_mailbox.clone());
        if smtp.append_sent && row.copied_at.is_none() {
            if let Some(mailbox) = sent_mailbox {
                let started = Instant::now();
                let result = self.copy_to_sent(&account, &mailbox, &out.message_id, &out.raw).await;
                let mut event = Event::new("imap.append", if result.is_ok() { "ok" } else { "error" })
                    .run(self.run_id)
                    .account(&account)
                    .message(&row.message)
                    .draft(&row.id)
                    .latency_ms(started.elapsed().as_millis() as i64);
                match &result {
                    Ok(how) => {
                        event = event.detail(serde_json::json!({"mailbox": mailbox, "result": how}));
                        self.ledger.mark_copied(&row.id)?;
                    }
                    Err(e) => {
                        event = event.detail(serde_json::json!({"mailbox": mailbox, "error": format!("{e:#}")}));
                        self.summary.note(format!("draft {}: Sent copy not stored yet (retried next run): {e:#}", row.id));
                    }
                }
                self.ledger.event(&event)?;
            }
        }
        if smtp.mark_answered && row.answered_at.is_none() {
            if let Some((mailbox, uidvalidity, uid)) = self.ledger.location_of(&row.message, &account)? {
                let result =
                    self.stores.mark_answered(self.config, self.ledger, &account, &mailbox, uidvalidity, uid).await;
                let mut event = Event::new("imap.flag", if result.is_ok() { "ok" } else { "error" })
                    .run(self.run_id)
                    .account(&account)
                    .message(&row.message)
                    .draft(&row.id);
                match &result {
                    Ok(flagged) => {
                        event = event.detail(serde_json::json!({"flag": "\\Answered", "mailbox": mailbox, "uid": uid, "done": flagged}));
                        // A mailbox whose UIDVALIDITY changed no longer has that message: nothing left to do.
                        self.ledger.mark_original_answered(&row.id)?;
                    }
                    Err(e) => {
                        event = event.detail(serde_json::json!({"flag": "\\Answered", "error": format!("{e:#}")}));
                        self.summary.note(format!("draft {}: \\Answered not set yet (retried next run): {e:#}", row.id));
                    }
                }
                self.ledger.event(&event)?;
            }
        }
        Ok(())
    }

    /// APPEND unless a copy with this Message-ID is already there (a crash after an APPEND).
    async fn copy_to_sent(&mut self, account: &str, mailbox: &str, message_id: &str, raw: &[u8]) -> Result<&'static str> {
        let boxes = [mailbox.to_string()];
        if self.stores.find(self.config, self.ledger, account, &boxes, message_id).await?.is_some() {
            return Ok("already there");
        }
        self.stores.append_seen(self.config, self.ledger, account, mailbox, raw).await?;
        Ok("appended")
    }
}

/// The envelope recipients without our own copy (`bcc_self` adds the sender's address).
fn header_recipients(envelope_json: &str) -> Vec<String> {
    match serde_json::from_str::<reply::OutEnvelope>(envelope_json) {
        Ok(e) => e.to.into_iter().filter(|t| !t.eq_ignore_ascii_case(&e.from)).collect(),
        Err(_) => Vec::new(),
    }
}

/// When to try again after `done` attempts: backoff × 2^(done-1), at most six hours.
fn next_attempt_at(backoff_secs: u64, done: i64) -> String {
    let exp = u32::try_from(done.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let secs = backoff_secs.saturating_mul(1u64 << exp).min(MAX_BACKOFF_SECS);
    let at = chrono::Utc::now() + chrono::Duration::seconds(secs as i64);
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Seconds since an RFC 3339 time (0 when unreadable: treat as just now).
fn age_secs(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let secs = |done| {
            let t = chrono::DateTime::parse_from_rfc3339(&next_attempt_at(60, done)).unwrap();
            (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds()
        };
        assert!((58..=60).contains(&secs(1)), "{}", secs(1));
        assert!((118..=120).contains(&secs(2)));
        assert!((238..=240).contains(&secs(3)));
        assert!(secs(30) <= MAX_BACKOFF_SECS as i64);
    }

    #[test]
    fn outcome_lines_have_the_documented_keys() {
        let o = SendOutcome::new("d1", "m1", "sent", "alice");
        let v = serde_json::to_value(&o).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["draft", "message", "message_id", "state", "smtp_response", "attempts", "account", "to", "actor"]);
    }
}
