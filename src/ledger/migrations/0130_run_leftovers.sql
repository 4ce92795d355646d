-- A `run` that did not take every message it stored through the chain (killed, stopped by an
-- error or a closed pipe, a draft that failed) leaves them for the next `run`, which checks
-- each earlier run once and records it here: the run that took its leftovers through (or
-- found none). Without it only killed runs were resumed, and each of them again at every run.
ALTER TABLE runs ADD COLUMN checked_by INTEGER;
-- Runs that ended before this: checked (0). What they left is old by now, and drafting it at
-- the first run after an upgrade would surprise; a run still marked running is resumed, as before.
UPDATE runs SET checked_by = 0 WHERE status <> 'running';
-- A run's messages, found without reading every message of the ledger.
CREATE INDEX messages_run ON messages(run_id);
