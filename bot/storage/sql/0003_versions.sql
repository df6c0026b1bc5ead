-- Version counters that other processes poll (rule/FAQ changes and reloads), beside LISTEN/NOTIFY.
CREATE TABLE change_versions (
    topic    text PRIMARY KEY,
    version  bigint NOT NULL DEFAULT 0
);
