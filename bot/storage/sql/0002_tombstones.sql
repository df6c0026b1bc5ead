-- Forget is final: when each forgotten member asked, keyed by a hash of their id (never the id).
CREATE TABLE tombstones (
    member_hash   bigint PRIMARY KEY,
    forgotten_at  timestamptz NOT NULL
);

-- Expiring old conversations scans by time.
CREATE INDEX conversations_by_time ON conversations (updated_at);
