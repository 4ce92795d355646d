-- The first schema. Never edit a shipped migration: add a new file instead.
-- Times are RFC 3339 UTC text ("2026-11-21T09:42:06Z"), which sorts correctly.

-- Raw RFC 822 sources, content-addressed: a message is stored once however often it is fetched.
CREATE TABLE raw_sources (
    sha256      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    raw         BLOB NOT NULL
);

-- One row per distinct message. `id` is the record id (derived from the raw source).
CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    raw_sha256  TEXT NOT NULL REFERENCES raw_sources(sha256),
    message_id  TEXT,
    account     TEXT NOT NULL,
    mailbox     TEXT NOT NULL,
    date_utc    TEXT,
    from_addr   TEXT,
    subject     TEXT,
    thread_id   TEXT,
    flags       TEXT NOT NULL DEFAULT '',
    record_json TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    run_id      INTEGER
);
CREATE INDEX messages_message_id ON messages(message_id);
CREATE INDEX messages_fetched_at ON messages(fetched_at);
CREATE INDEX messages_date ON messages(date_utc);
CREATE INDEX messages_from ON messages(from_addr, date_utc);
CREATE INDEX messages_thread ON messages(thread_id);

-- Where a message was seen on a server (a message may live in several mailboxes).
CREATE TABLE locations (
    account     TEXT NOT NULL,
    mailbox     TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    message     TEXT NOT NULL REFERENCES messages(id),
    seen_at     TEXT NOT NULL,
    PRIMARY KEY (account, mailbox, uidvalidity, uid)
);
CREATE INDEX locations_message ON locations(message);

-- Incremental sync state per account and mailbox.
CREATE TABLE sync_state (
    account        TEXT NOT NULL,
    mailbox        TEXT NOT NULL,
    uidvalidity    INTEGER NOT NULL,
    highest_uid    INTEGER NOT NULL,
    highest_modseq INTEGER,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (account, mailbox)
);

-- Every stage result, versioned: a rerun adds a version, the highest is current.
CREATE TABLE stage_results (
    id             INTEGER PRIMARY KEY,
    message        TEXT NOT NULL REFERENCES messages(id),
    stage          TEXT NOT NULL CHECK (stage IN ('filter', 'triage', 'draft')),
    version        INTEGER NOT NULL,
    summary        TEXT,            -- verdict, category or draft id: what digest counts
    backend        TEXT,
    model          TEXT,
    prompt_version TEXT,
    result_json    TEXT NOT NULL,
    run_id         INTEGER,
    created_at     TEXT NOT NULL,
    UNIQUE (message, stage, version)
);
CREATE INDEX stage_results_stage_time ON stage_results(stage, created_at);
CREATE INDEX stage_results_summary ON stage_results(stage, summary);

-- Drafts and their review / send state.
--   pending -> approved | rejected | handled;  approved -> sending -> sent | failed
CREATE TABLE drafts (
    id               TEXT PRIMARY KEY,
    message          TEXT NOT NULL REFERENCES messages(id),
    state            TEXT NOT NULL CHECK (state IN
                        ('pending', 'approved', 'rejected', 'handled', 'sending', 'sent', 'failed')),
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    risk             TEXT NOT NULL,
    category         TEXT,
    priority         TEXT,
    confidence       REAL,
    draft_json       TEXT NOT NULL,
    decided_by       TEXT,
    decided_at       TEXT,
    decision_reason  TEXT,
    out_message_id   TEXT,            -- fixed before the first send attempt
    out_raw          BLOB,            -- the exact bytes sent
    smtp_response    TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    sent_at          TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX drafts_state ON drafts(state, created_at);
CREATE INDEX drafts_message ON drafts(message);
CREATE INDEX drafts_sent_at ON drafts(sent_at);

-- Append-only log of state changes and external calls: the evidence.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    run_id      INTEGER,
    kind        TEXT NOT NULL,        -- e.g. imap.login, smtp.send, model.call, draft.approved
    account     TEXT,
    message     TEXT,
    draft       TEXT,
    actor       TEXT,
    status      TEXT NOT NULL,        -- ok | error | info
    latency_ms  INTEGER,
    tokens_in   INTEGER,
    tokens_out  INTEGER,
    detail_json TEXT
);
CREATE INDEX events_kind_at ON events(kind, at);
CREATE INDEX events_message ON events(message);
CREATE INDEX events_draft ON events(draft);
CREATE INDEX events_at ON events(at);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- One row per command run.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    command     TEXT NOT NULL,
    args_json   TEXT,
    pid         INTEGER,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    status      TEXT NOT NULL DEFAULT 'running',   -- running | ok | partial | error
    counts_json TEXT,
    error       TEXT
);
CREATE INDEX runs_command ON runs(command, started_at);

-- Training labels from human corrections (rescue, recategorize) and imported label files.
CREATE TABLE labels (
    id          INTEGER PRIMARY KEY,
    message     TEXT REFERENCES messages(id),
    task        TEXT NOT NULL,        -- spam | category
    label       TEXT NOT NULL,
    source      TEXT NOT NULL,        -- rescue | confirm | recategorize | file
    actor       TEXT,
    text        TEXT,                 -- for labels without a message (from a file)
    created_at  TEXT NOT NULL
);
CREATE INDEX labels_task ON labels(task);

-- Model responses by cache key (model + prompt version + input hash): never pay twice.
CREATE TABLE model_cache (
    key           TEXT PRIMARY KEY,
    model         TEXT NOT NULL,
    response_json TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- Service cases: messages grouped by thread.
CREATE TABLE cases (
    id               TEXT PRIMARY KEY,
    customer_address TEXT,
    customer_name    TEXT,
    subject          TEXT,
    category         TEXT,
    owner            TEXT,
    state            TEXT NOT NULL DEFAULT 'new' CHECK (state IN
                        ('new', 'waiting_internal', 'waiting_customer', 'waiting_partner', 'resolved', 'cancelled')),
    waiting_for_json TEXT,
    next_step        TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX cases_state ON cases(state, updated_at);
CREATE TABLE case_messages (
    case_id  TEXT NOT NULL REFERENCES cases(id),
    message  TEXT NOT NULL REFERENCES messages(id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (case_id, message)
);
CREATE INDEX case_messages_message ON case_messages(message);

-- Small named state (heartbeat incidents, auto-send counters).
CREATE TABLE kv (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
