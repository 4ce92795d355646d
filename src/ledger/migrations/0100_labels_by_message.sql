-- The filter asks, for every message, whether a person labelled one of the sender's latest
-- messages as ham: labels by message, not a scan of every label of the task.
CREATE INDEX labels_message ON labels(message);
