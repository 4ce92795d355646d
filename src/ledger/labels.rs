//! Training labels: human corrections (review recategorizations, filter rescues) and
//! imported label files.

use anyhow::Result;
use rusqlite::params;

use super::{Ledger, now};

/// A label with the text it applies to.
#[derive(Debug, Clone)]
pub struct LabelRow {
    pub message: Option<String>,
    pub label: String,
    pub source: String,
    /// The label's own text (file labels), when it has no message.
    pub text: Option<String>,
}

impl Ledger {
    /// Adds a label for `task` ("category", "spam").
    pub fn add_label(&self, message: Option<&str>, task: &str, label: &str, source: &str, actor: Option<&str>, text: Option<&str>) -> Result<()> {
        self.conn.execute(
            "INSERT INTO labels (message, task, label, source, actor, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![message, task, label, source, actor, text, now()],
        )?;
        Ok(())
    }

    /// The current label of each message for `task` (the latest correction wins), then the
    /// labels without a message, oldest first.
    pub fn labels(&self, task: &str) -> Result<Vec<LabelRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT message, label, source, text FROM labels l WHERE task = ?1 AND (message IS NULL OR id = \
             (SELECT MAX(id) FROM labels l2 WHERE l2.task = l.task AND l2.message = l.message)) ORDER BY id",
        )?;
        let rows = stmt.query_map([task], |r| {
            Ok(LabelRow { message: r.get(0)?, label: r.get(1)?, source: r.get(2)?, text: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::messages::{NewMessage, insert_message};
    use crate::record::Record;

    #[test]
    fn latest_correction_wins() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        let rec = Record::new("m1");
        ledger.write(|tx| insert_message(tx, &NewMessage { record: &rec, raw: b"x", raw_sha256: "h" }, None)).unwrap();
        ledger.add_label(Some("m1"), "category", "refund", "recategorize", Some("ann"), None).unwrap();
        ledger.add_label(Some("m1"), "category", "return", "recategorize", Some("bob"), None).unwrap();
        ledger.add_label(None, "category", "shipping", "file", None, Some("where is it")).unwrap();
        ledger.add_label(Some("m1"), "spam", "ham", "rescue", None, None).unwrap();
        let labels = ledger.labels("category").unwrap();
        assert_eq!(labels.len(), 2);
        assert_eq!(labels[0].label, "return");
        assert_eq!(labels[1].text.as_deref(), Some("where is it"));
    }
}
