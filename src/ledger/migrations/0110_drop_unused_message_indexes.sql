-- No query looks messages up by thread_id or by date_utc alone (sender + date is
-- messages_from, arrival is messages_arrived), yet every stored message paid for both
-- indexes; thread ids are random keys, whose pages a big import rewrites on every commit.
DROP INDEX IF EXISTS messages_thread;
DROP INDEX IF EXISTS messages_date;
