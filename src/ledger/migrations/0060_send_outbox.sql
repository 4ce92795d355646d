-- Send: what the exactly-once protocol needs besides out_message_id / out_raw (0001).
-- While a draft is 'sending', send_stage says how far the SMTP transaction got:
--   'claimed'  the message was not transmitted yet: a crash here is safe to retry;
--   'data'     the message was (being) transmitted: the outcome is unknown until reconciled.
ALTER TABLE drafts ADD COLUMN send_stage TEXT CHECK (send_stage IN ('claimed', 'data'));
-- The machine's boot id at the claim: the 'data' mark is written without fsync (a process
-- crash keeps it, a power cut may not), so after a reboot a 'claimed' draft is treated as
-- unknown rather than as never transmitted.
ALTER TABLE drafts ADD COLUMN claim_boot TEXT;
-- The SMTP envelope ({"from": ..., "to": [...]}) and account fixed together with out_raw.
ALTER TABLE drafts ADD COLUMN out_envelope TEXT;
ALTER TABLE drafts ADD COLUMN out_account TEXT;
-- Hash of what out_raw was built from: a draft edited after a refused attempt is rebuilt
-- (same Message-ID); an unchanged one is resent byte for byte.
ALTER TABLE drafts ADD COLUMN out_source_sha256 TEXT;
-- Follow-ups after a send: the copy in the Sent folder and \Answered on the original.
ALTER TABLE drafts ADD COLUMN copied_at TEXT;
ALTER TABLE drafts ADD COLUMN answered_at TEXT;
CREATE INDEX drafts_out_message_id ON drafts(out_message_id);
