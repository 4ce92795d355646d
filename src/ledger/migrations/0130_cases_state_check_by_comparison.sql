-- The state check compares instead of testing an IN list: SQLite codes an IN list of three or
-- more values as a temporary index, built again on every insert into cases (every message
-- that opens a case) and every update of a state. A CHECK cannot be altered in place: the
-- table is rebuilt, with foreign keys off, as SQLite documents (see `REBUILDS`).
CREATE TABLE cases_checked (
    id               TEXT PRIMARY KEY,
    customer_address TEXT,
    customer_name    TEXT,
    subject          TEXT,
    category         TEXT,
    owner            TEXT,
    state            TEXT NOT NULL DEFAULT 'new' CHECK (state = 'new' OR state = 'waiting_internal'
                        OR state = 'waiting_customer' OR state = 'waiting_partner' OR state = 'resolved'
                        OR state = 'cancelled'),
    waiting_for_json TEXT,
    next_step        TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    subject_key      TEXT,
    priority         TEXT,
    last_message_at  TEXT,
    waiting_since    TEXT
);
INSERT INTO cases_checked (id, customer_address, customer_name, subject, category, owner, state,
        waiting_for_json, next_step, created_at, updated_at, subject_key, priority, last_message_at,
        waiting_since)
    SELECT id, customer_address, customer_name, subject, category, owner, state, waiting_for_json,
        next_step, created_at, updated_at, subject_key, priority, last_message_at, waiting_since
    FROM cases ORDER BY rowid;
DROP TABLE cases;
ALTER TABLE cases_checked RENAME TO cases;
CREATE INDEX cases_customer_subject ON cases(customer_address, subject_key, last_message_at);
CREATE INDEX cases_waiting ON cases(state, waiting_since);
CREATE INDEX cases_created ON cases(created_at);
