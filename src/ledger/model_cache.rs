//! Model answers by cache key, so the same input under the same model and prompt version is
//! never paid for twice — also when two runs ask at the same moment: the first to ask claims
//! the call (a `model-claim:KEY` row in `kv` naming its pid), and the others wait for its answer
//! instead of paying for their own. A claim whose process is gone, or that is older than
//! `CLAIM_TTL_SECS`, is taken over.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::runs::process_alive;
use super::{Ledger, now};

/// How long a claim holds others back without an answer.
const CLAIM_TTL_SECS: i64 = 600;

fn claim_key(key: &str) -> String {
    format!("model-claim:{key}")
}

/// What another process's claim on a call looks like from here.
#[derive(Debug, Clone, PartialEq)]
pub enum Claimed {
    /// The answer is in the cache.
    Answered(String),
    /// A live process is still asking.
    Pending,
    /// Nobody is asking any more (it failed, died or gave up): ask yourself.
    Abandoned,
}

/// Looks at a call another process claimed, on any connection (a waiter opens its own).
pub fn claimed(conn: &Connection, key: &str) -> Result<Claimed> {
    // One statement, so one snapshot: read apart, the answer could be committed (and its claim
    // dropped) between the look at the cache and the look at the claim, and the waiter would
    // take the call for abandoned and pay for it a second time.
    let (answer, pid, at): (Option<String>, Option<String>, Option<String>) = conn.query_row(
        "SELECT (SELECT response_json FROM model_cache WHERE key = ?1), \
                (SELECT value FROM kv WHERE key = ?2), (SELECT updated_at FROM kv WHERE key = ?2)",
        params![key, claim_key(key)],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(match (answer, pid, at) {
        (Some(json), _, _) => Claimed::Answered(json),
        (None, Some(pid), Some(at)) if live_claim(&pid, &at) => Claimed::Pending,
        _ => Claimed::Abandoned,
    })
}

/// `Ledger::cache_answer` on any connection (a call's task stores its answer the moment it
/// arrives, so a kill loses only the calls still in flight).
pub fn cache_answer(conn: &Connection, key: &str, model: &str, response_json: &str) -> Result<()> {
    // One transaction: a kill cannot leave an answer with its claim still standing.
    let tx = conn.unchecked_transaction()?;
    tx.prepare_cached("INSERT OR IGNORE INTO model_cache (key, model, response_json, created_at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![key, model, response_json, now()])?;
    tx.execute("DELETE FROM kv WHERE key = ?1", [claim_key(key)])?;
    tx.commit()?;
    Ok(())
}

fn live_claim(pid: &str, at: &str) -> bool {
    let fresh = chrono::DateTime::parse_from_rfc3339(at)
        .is_ok_and(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds() < CLAIM_TTL_SECS);
    fresh && pid.parse::<i64>().is_ok_and(process_alive)
}

impl Ledger {
    /// The cached answer for `key`, if any.
    pub fn cached_answer(&self, key: &str) -> Result<Option<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT response_json FROM model_cache WHERE key = ?1")?;
        Ok(stmt.query_row([key], |r| r.get(0)).optional()?)
    }

    /// Stores an answer (the first one wins when two runs race); the call's claim is over.
    pub fn cache_answer(&self, key: &str, model: &str, response_json: &str) -> Result<()> {
        cache_answer(&self.conn, key, model, response_json)
    }

    /// Claims the call for `key` for this process. Returns false when another live process
    /// claimed it first, or answered it since this one looked in the cache: wait for its
    /// answer (`claimed`) rather than paying for the same call.
    pub fn claim_model_call(&mut self, key: &str) -> Result<bool> {
        let me = std::process::id().to_string();
        let claim = claim_key(key);
        self.write(|tx| {
            // Looked at in the same write transaction as the claim: between a miss in the
            // cache and this claim, another run may have answered and dropped its claim.
            let answered: bool =
                tx.query_row("SELECT EXISTS(SELECT 1 FROM model_cache WHERE key = ?1)", [key], |r| r.get(0))?;
            if answered {
                return Ok(false);
            }
            let holder: Option<(String, String)> = tx
                .query_row("SELECT value, updated_at FROM kv WHERE key = ?1", [&claim], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((pid, at)) = holder
                && pid != me
                && live_claim(&pid, &at)
            {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO kv (key, value, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![claim, me, now()],
            )?;
            Ok(true)
        })
    }

    /// Gives up this process's claim on `key` (the call failed or was not made).
    pub fn release_model_call(&self, key: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM kv WHERE key = ?1 AND value = ?2",
            params![claim_key(key), std::process::id().to_string()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_answer_wins() {
        let ledger = Ledger::open_in_memory().unwrap();
        assert_eq!(ledger.cached_answer("k").unwrap(), None);
        ledger.cache_answer("k", "m", "{\"a\":1}").unwrap();
        ledger.cache_answer("k", "m", "{\"a\":2}").unwrap();
        assert_eq!(ledger.cached_answer("k").unwrap().as_deref(), Some("{\"a\":1}"));
    }

    #[test]
    fn a_call_is_claimed_once_and_a_dead_claim_is_taken_over() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        assert!(ledger.claim_model_call("k").unwrap(), "first come");
        assert!(ledger.claim_model_call("k").unwrap(), "a process may claim again what it holds");
        // Another live process (pid 1) holds "j": wait for it; its answer ends the wait.
        ledger.kv_set("model-claim:j", "1").unwrap();
        assert!(!ledger.claim_model_call("j").unwrap());
        assert_eq!(claimed(ledger.conn(), "j").unwrap(), Claimed::Pending);
        ledger.cache_answer("j", "m", "{}").unwrap();
        assert_eq!(claimed(ledger.conn(), "j").unwrap(), Claimed::Answered("{}".into()));
        assert_eq!(ledger.kv_get("model-claim:j").unwrap(), None, "an answer ends the claim");
        // A run that missed the cache just before that answer came must not claim (and pay) again.
        assert!(!ledger.claim_model_call("j").unwrap(), "answered since the look in the cache");
        // A killed process's claim is taken over.
        ledger.kv_set("model-claim:x", "2147483646").unwrap();
        assert_eq!(claimed(ledger.conn(), "x").unwrap(), Claimed::Abandoned);
        assert!(ledger.claim_model_call("x").unwrap());
        ledger.release_model_call("x").unwrap();
        assert_eq!(ledger.kv_get("model-claim:x").unwrap(), None);
    }
}
