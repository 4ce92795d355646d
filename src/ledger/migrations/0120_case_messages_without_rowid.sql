-- case_messages is only ever looked up by case (its key) and by message (its index), yet
-- every stored message paid for a rowid table beside the key's index: as a WITHOUT ROWID
-- table the key is the table, one B-tree fewer per message. The role check compares instead
-- of testing an IN list, which SQLite codes as a temporary index built on every insert.
CREATE TABLE case_messages_keyed (
    case_id  TEXT NOT NULL REFERENCES cases(id),
    message  TEXT NOT NULL REFERENCES messages(id),
    added_at TEXT NOT NULL,
    role     TEXT NOT NULL DEFAULT 'customer' CHECK (role = 'customer' OR role = 'team' OR role = 'ours'),
    PRIMARY KEY (case_id, message)
) WITHOUT ROWID;
INSERT INTO case_messages_keyed (case_id, message, added_at, role)
    SELECT case_id, message, added_at, role FROM case_messages;
DROP TABLE case_messages;
ALTER TABLE case_messages_keyed RENAME TO case_messages;
CREATE INDEX case_messages_message ON case_messages(message);
