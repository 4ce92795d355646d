-- Cases (tables in 0001): what threading, the waiting clock and the story need.

-- The subject without Re:/AW:/Fwd:/回复: prefixes, lower case: with the customer's address,
-- the fallback that joins a message without threading headers to its case.
ALTER TABLE cases ADD COLUMN subject_key TEXT;
-- The latest triage priority seen for the case (its SLA depends on it).
ALTER TABLE cases ADD COLUMN priority TEXT;
-- Arrival of the case's newest message (the subject fallback only looks this far back).
ALTER TABLE cases ADD COLUMN last_message_at TEXT;
-- When the case began to wait on its current side (us, the customer, a partner): the SLA
-- and the waiting timeout count from here.
ALTER TABLE cases ADD COLUMN waiting_since TEXT;
-- Who wrote a message of the case: customer | team (a person, from a mail client) | ours
-- (a reply mailroom sent, read back from the Sent folder or a Bcc copy).
ALTER TABLE case_messages ADD COLUMN role TEXT NOT NULL DEFAULT 'customer'
    CHECK (role IN ('customer', 'team', 'ours'));

-- cases_waiting (state, waiting_since) serves every lookup by state: the 0001 index on
-- (state, updated_at) would only cost a write per message.
DROP INDEX cases_state;
CREATE INDEX cases_customer_subject ON cases(customer_address, subject_key, last_message_at);
CREATE INDEX cases_waiting ON cases(state, waiting_since);
CREATE INDEX cases_created ON cases(created_at);
