//! Model answers by cache key, so the same input under the same model and prompt version is
//! never paid for twice.

use anyhow::Result;
use rusqlite::{OptionalExtension, params};

use super::{Ledger, now};

impl Ledger {
    /// The cached answer for `key`, if any.
    pub fn cached_answer(&self, key: &str) -> Result<Option<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT response_json FROM model_cache WHERE key = ?1")?;
        Ok(stmt.query_row([key], |r| r.get(0)).optional()?)
    }

    /// Stores an answer (the first one wins when two runs race).
    pub fn cache_answer(&self, key: &str, model: &str, response_json: &str) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO model_cache (key, model, response_json, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?;
        stmt.execute(params![key, model, response_json, now()])?;
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
}
