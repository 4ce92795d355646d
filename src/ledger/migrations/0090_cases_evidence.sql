-- Evidence completeness (digest): every state change of a case must have its `case.state`
-- event. Replaying one case's events needs them by case, which only their detail names.
-- Partial: only `case.state` events carry an index entry.
CREATE INDEX events_case_state ON events(json_extract(detail_json, '$.case'), id) WHERE kind = 'case.state';
