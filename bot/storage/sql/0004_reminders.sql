-- Reminder schedules, one row per member; next_due is a column so the next reminder is one index lookup.
CREATE TABLE reminders (
    user_id   bigint PRIMARY KEY,
    reminder  jsonb NOT NULL,
    next_due  timestamptz
);
CREATE INDEX reminders_by_due ON reminders (next_due) WHERE next_due IS NOT NULL;
