-- Digest and heartbeat: when a message arrived, and the indexes their window queries use.

-- Arrival: the Date header, unless it claims a time after we fetched the message (a wrong
-- clock or a forged date), or is missing. A historical import keeps its real dates; live
-- mail differs from fetched_at by the delivery delay only. Virtual: computed, not stored.
ALTER TABLE messages ADD COLUMN arrived_at TEXT
    GENERATED ALWAYS AS (min(coalesce(date_utc, fetched_at), fetched_at)) VIRTUAL;
CREATE INDEX messages_arrived ON messages(arrived_at);

-- Drafts first written, decided, or last changed (a failed send) within a window.
CREATE INDEX drafts_created ON drafts(created_at);
CREATE INDEX drafts_decided ON drafts(decided_at);
CREATE INDEX drafts_updated ON drafts(updated_at);

-- The latest IMAP events of one account (heartbeat's consecutive-failure check).
CREATE INDEX events_kind_account ON events(kind, account, at);
