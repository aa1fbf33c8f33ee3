-- Organisations: providers that decide applications, and places that hand out results.
CREATE TABLE organisations (
    id           TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL, -- JSON {"kk","ru","en"}
    address      TEXT    NOT NULL, -- JSON {"kk","ru","en"}
    phone        TEXT    NOT NULL,
    hours        TEXT    NOT NULL, -- JSON OpeningHours
    provider     BOOLEAN NOT NULL,
    pickup_place BOOLEAN NOT NULL,
    territory    TEXT    NOT NULL, -- JSON list of {"kk","ru","en"}
    demo         BOOLEAN NOT NULL,
    created_at   BIGINT  NOT NULL
);

-- People who sign in. An officer belongs to exactly one organisation; others to none.
CREATE TABLE users (
    id              TEXT    PRIMARY KEY,
    iin             TEXT    NOT NULL UNIQUE,
    password_hash   TEXT    NOT NULL, -- Argon2id PHC string
    role            TEXT    NOT NULL CHECK (role IN ('citizen', 'officer', 'administrator')),
    organisation_id TEXT    REFERENCES organisations (id),
    last_name       TEXT    NOT NULL,
    first_name      TEXT    NOT NULL,
    middle_name     TEXT,
    email           TEXT,
    phone           TEXT,
    preferred_lang  TEXT    NOT NULL,
    notify_email    BOOLEAN NOT NULL,
    notify_browser  BOOLEAN NOT NULL,
    demo            BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL,
    CHECK ((role = 'officer') = (organisation_id IS NOT NULL))
);

-- Server-side sessions. Only a SHA-256 of the token is stored: a copy of the database does
-- not let anyone sign in.
CREATE TABLE sessions (
    token_hash          TEXT   PRIMARY KEY,
    user_id             TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token          TEXT   NOT NULL,
    created_at          BIGINT NOT NULL,
    last_seen_at        BIGINT NOT NULL,
    idle_expires_at     BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL,
    ip                  TEXT   NOT NULL,
    user_agent          TEXT   NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Events that limits count: failed sign-ins per IIN and per address, registrations per address.
CREATE TABLE rate_events (
    kind TEXT   NOT NULL,
    key  TEXT   NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX rate_events_lookup ON rate_events (kind, key, at);

-- Messages to a user, rendered in all three languages when they are created, so the user
-- can switch language and history never changes.
CREATE TABLE notifications (
    id         TEXT   PRIMARY KEY,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    title      TEXT   NOT NULL, -- JSON {"kk","ru","en"}
    body       TEXT   NOT NULL, -- JSON {"kk","ru","en"}
    link       TEXT,
    read_at    BIGINT
);
CREATE INDEX notifications_by_user ON notifications (user_id, created_at);
