-- The portal's schema on PostgreSQL: the same tables, columns and constraints as the SQLite
-- migrations 0001–0014 produce, written at once (a PostgreSQL deployment starts from here).
-- Integers are BIGINT (times in milliseconds or seconds, counts), bytes are BYTEA. Later changes
-- get a migration here and one in ../sqlite.

CREATE TABLE service_definition_versions (
    service_id      TEXT   NOT NULL,
    sha256          TEXT   NOT NULL,
    first_loaded_at BIGINT NOT NULL,
    definition      TEXT   NOT NULL,
    PRIMARY KEY (service_id, sha256)
);

CREATE TABLE organisations (
    id                     TEXT    PRIMARY KEY,
    kind                   TEXT    NOT NULL,
    name                   TEXT    NOT NULL,
    address                TEXT    NOT NULL,
    phone                  TEXT    NOT NULL,
    hours                  TEXT    NOT NULL,
    provider               BOOLEAN NOT NULL,
    pickup_place           BOOLEAN NOT NULL,
    territory              TEXT    NOT NULL,
    demo                   BOOLEAN NOT NULL,
    created_at             BIGINT  NOT NULL,
    slot_capacity          BIGINT  NOT NULL DEFAULT 2,
    first_grade_places     BIGINT,
    first_grade_priorities TEXT    NOT NULL DEFAULT '[]'
);

CREATE TABLE users (
    id              TEXT    PRIMARY KEY,
    iin             TEXT    NOT NULL UNIQUE,
    password_hash   TEXT    NOT NULL,
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

CREATE TABLE rate_events (
    kind TEXT   NOT NULL,
    key  TEXT   NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX rate_events_lookup ON rate_events (kind, key, at);

CREATE TABLE notifications (
    id         TEXT   PRIMARY KEY,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    title      TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    link       TEXT,
    read_at    BIGINT
);
CREATE INDEX notifications_by_user ON notifications (user_id, created_at);

CREATE TABLE applications (
    id                   TEXT    PRIMARY KEY,
    user_id              TEXT    NOT NULL REFERENCES users (id),
    service_id           TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    answers              TEXT    NOT NULL,
    version              BIGINT  NOT NULL,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    number               TEXT    UNIQUE,
    submitted_at         BIGINT,
    definition_sha256    TEXT,
    organisation_id      TEXT    REFERENCES organisations (id),
    consent_at           BIGINT,
    expected_result_date TEXT,
    verification_code    TEXT    UNIQUE,
    lang                 TEXT,
    assignee_id          TEXT    REFERENCES users (id),
    result_ready_at      BIGINT,
    first_grade_child    TEXT,
    first_grade_year     BIGINT,
    first_grade_position BIGINT
);
CREATE INDEX applications_by_user ON applications (user_id, updated_at);
CREATE INDEX applications_by_organisation ON applications (organisation_id, status, submitted_at);
CREATE INDEX applications_result_ready ON applications (result_ready_at) WHERE status = 'result_ready';
CREATE UNIQUE INDEX applications_one_first_grade_per_child ON applications (first_grade_child)
    WHERE first_grade_child IS NOT NULL
      AND status NOT IN ('draft', 'withdrawn', 'refused', 'refused_to_accept', 'signature_rejected');
CREATE UNIQUE INDEX applications_first_grade_queue
    ON applications (organisation_id, first_grade_year, first_grade_position)
    WHERE first_grade_position IS NOT NULL;
CREATE INDEX applications_first_grade_left
    ON applications (organisation_id, first_grade_year, first_grade_position)
    WHERE first_grade_position IS NOT NULL
      AND status IN ('withdrawn', 'refused', 'refused_to_accept', 'signature_rejected');

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
    busy_until      BIGINT,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX attachments_by_application ON attachments (application_id);

CREATE TABLE application_numbers (
    day  TEXT   PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE pki_certificates (
    serial      TEXT    PRIMARY KEY,
    iin         TEXT    NOT NULL,
    purpose     TEXT    NOT NULL,
    holder      TEXT    NOT NULL,
    not_before  BIGINT  NOT NULL,
    not_after   BIGINT  NOT NULL,
    issued_at   BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX pki_certificates_by_iin ON pki_certificates (iin);

CREATE TABLE signing_challenges (
    application_id  TEXT    PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    nonce           TEXT    NOT NULL,
    issued_at       BIGINT  NOT NULL
);

CREATE TABLE application_signatures (
    application_id   TEXT    PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    cms              BYTEA   NOT NULL,
    document         BYTEA   NOT NULL,
    signer_iin       TEXT    NOT NULL,
    signer_serial    TEXT    NOT NULL,
    certificate      BYTEA   NOT NULL,
    signed_at        BIGINT  NOT NULL,
    outcome          TEXT    NOT NULL,
    verified_at      BIGINT,
    crl_number       TEXT,
    crl_this_update  BIGINT,
    rejection        TEXT,
    checks           BIGINT  NOT NULL DEFAULT 1,
    next_check_at    BIGINT
);
CREATE INDEX application_signatures_pending ON application_signatures (next_check_at) WHERE outcome = 'pending';

CREATE TABLE login_challenges (
    nonce      TEXT    PRIMARY KEY,
    issued_at  BIGINT  NOT NULL
);

CREATE TABLE application_events (
    application_id  TEXT    NOT NULL REFERENCES applications (id),
    seq             BIGINT  NOT NULL,
    at              BIGINT  NOT NULL,
    actor_id        TEXT,
    actor_role      TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    from_status     TEXT    NOT NULL,
    to_status       TEXT    NOT NULL,
    details         TEXT    NOT NULL,
    prev_hash       TEXT    NOT NULL,
    hash            TEXT    NOT NULL,
    PRIMARY KEY (application_id, seq)
);
CREATE FUNCTION application_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'application events are append-only';
END
$$;
CREATE TRIGGER application_events_no_change BEFORE UPDATE OR DELETE ON application_events
    FOR EACH ROW EXECUTE FUNCTION application_events_append_only();

CREATE TABLE pickup_slots (
    organisation_id TEXT    NOT NULL REFERENCES organisations (id),
    starts_at       BIGINT  NOT NULL,
    ends_at         BIGINT  NOT NULL,
    capacity        BIGINT  NOT NULL,
    booked          BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (organisation_id, starts_at),
    CHECK (booked >= 0 AND booked <= capacity)
);

CREATE TABLE pickup_bookings (
    application_id  TEXT    PRIMARY KEY REFERENCES applications (id),
    organisation_id TEXT    NOT NULL,
    starts_at       BIGINT  NOT NULL,
    booked_by       TEXT    NOT NULL,
    booked_at       BIGINT  NOT NULL
);

CREATE TABLE results (
    application_id    TEXT    PRIMARY KEY REFERENCES applications (id),
    kind              TEXT    NOT NULL,
    number            TEXT    NOT NULL UNIQUE,
    lang              TEXT    NOT NULL,
    pdf               BYTEA   NOT NULL,
    cms               BYTEA   NOT NULL,
    signer            TEXT    NOT NULL,
    verification_code TEXT    NOT NULL UNIQUE,
    created_at        BIGINT  NOT NULL
);

CREATE TABLE provider_keys (
    organisation_id TEXT    PRIMARY KEY REFERENCES organisations (id),
    pkcs12          BYTEA   NOT NULL,
    password        TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL
);

CREATE TABLE calendar_years (
    year        BIGINT  PRIMARY KEY,
    data        TEXT    NOT NULL,
    updated_at  BIGINT  NOT NULL,
    updated_by  TEXT    NOT NULL REFERENCES users (id)
);

CREATE TABLE case_files (
    id             TEXT    PRIMARY KEY,
    application_id TEXT    NOT NULL REFERENCES applications (id),
    uploaded_by    TEXT    NOT NULL REFERENCES users (id),
    file_name      TEXT    NOT NULL,
    content_type   TEXT    NOT NULL,
    size           BIGINT  NOT NULL,
    sha256         TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    attached       BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX case_files_application ON case_files (application_id);

CREATE TABLE first_grade_windows (
    school_year  BIGINT PRIMARY KEY,
    opens_at     BIGINT NOT NULL,
    closes_at    BIGINT NOT NULL CHECK (closes_at > opens_at),
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT   NOT NULL REFERENCES users (id),
    age_youngest BIGINT NOT NULL DEFAULT 6,
    age_oldest   BIGINT NOT NULL DEFAULT 7
);

CREATE TABLE scheduled_submissions (
    application_id TEXT   PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    user_id        TEXT   NOT NULL REFERENCES users (id),
    lang           TEXT   NOT NULL,
    request        TEXT   NOT NULL,
    scheduled_at   BIGINT NOT NULL,
    sends_at       BIGINT NOT NULL
);
CREATE INDEX scheduled_submissions_due ON scheduled_submissions (sends_at, scheduled_at);

CREATE TABLE first_grade_queues (
    organisation_id TEXT   NOT NULL REFERENCES organisations (id),
    school_year     BIGINT NOT NULL,
    last            BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, school_year)
);
