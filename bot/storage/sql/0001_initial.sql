-- LegDay's tables in PostgreSQL: one row per thing, so no caller rewrites a list to add to it.
CREATE TABLE profiles (
    user_id   bigint PRIMARY KEY,
    profile   jsonb NOT NULL,
    saved_at  timestamptz NOT NULL,
    revision  bigint NOT NULL DEFAULT 1
);

-- The servers a member planned in: rows, so two processes adding two servers both keep theirs.
CREATE TABLE member_guilds (
    user_id   bigint NOT NULL,
    guild_id  bigint NOT NULL,
    PRIMARY KEY (user_id, guild_id)
);
CREATE INDEX member_guilds_by_guild ON member_guilds (guild_id);

CREATE TABLE plans (
    user_id        bigint PRIMARY KEY,
    rules_version  text,
    saved_at       timestamptz NOT NULL,
    plan_z         bytea NOT NULL          -- zlib-deflated plan JSON (20-40 KB plain)
);

CREATE TABLE checkins (
    id        bigserial PRIMARY KEY,
    user_id   bigint NOT NULL,
    item      jsonb NOT NULL
);
CREATE INDEX checkins_by_user ON checkins (user_id, id);

CREATE TABLE conversations (
    key         text PRIMARY KEY,
    user_id     bigint,
    state       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX conversations_by_user ON conversations (user_id);

CREATE TABLE guilds (
    guild_id  bigint PRIMARY KEY,
    settings  jsonb NOT NULL,
    revision  bigint NOT NULL DEFAULT 1
);

CREATE TABLE audit (
    guild_id   bigint NOT NULL,
    change_id  integer NOT NULL,
    entry      jsonb NOT NULL,
    PRIMARY KEY (guild_id, change_id)
);
