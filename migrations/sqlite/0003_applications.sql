-- Applications: drafts that only their applicant sees, then submitted requests with a number.
CREATE TABLE applications (
    id                   TEXT    PRIMARY KEY,
    user_id              TEXT    NOT NULL REFERENCES users (id),
    service_id           TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    answers              TEXT    NOT NULL, -- JSON object: field id -> answer
    version              BIGINT  NOT NULL, -- bumped by every change; edits name the version they started from
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    -- Set on submission:
    number               TEXT    UNIQUE,
    submitted_at         BIGINT,
    definition_sha256    TEXT,   -- the service definition the answers were checked against
    organisation_id      TEXT    REFERENCES organisations (id),
    consent_at           BIGINT,
    expected_result_date TEXT,
    verification_code    TEXT    UNIQUE,
    lang                 TEXT
);
CREATE INDEX applications_by_user ON applications (user_id, updated_at);

-- Copies of documents. The file lives under <data dir>/attachments/<id>; its name is ours,
-- never the applicant's.
CREATE TABLE attachments (
    id              TEXT    PRIMARY KEY,
    application_id  TEXT    NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    slot            TEXT    NOT NULL,
    file_name       TEXT    NOT NULL,
    size            BIGINT  NOT NULL,
    received        BIGINT  NOT NULL,
    complete        BOOLEAN NOT NULL,
    content_type    TEXT,
    sha256          TEXT,
    -- An upload in progress holds the attachment until then, so two requests never append at once.
    busy_until      BIGINT,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX attachments_by_application ON attachments (application_id);

-- The last sequence number given out per day, for application numbers.
CREATE TABLE application_numbers (
    day  TEXT   PRIMARY KEY,
    last BIGINT NOT NULL
);
