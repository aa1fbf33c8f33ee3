-- Processing: the lifecycle's events, assignment, pickup slots, the provider's signed results,
-- provider keys, and the administrators' calendar edits.

-- Every change of an application's status, append-only. `hash` is SHA-256 over the previous
-- event's hash and this event's fields, so editing or removing history breaks the chain.
CREATE TABLE application_events (
    application_id  TEXT    NOT NULL REFERENCES applications (id),
    seq             BIGINT  NOT NULL,
    at              BIGINT  NOT NULL,
    actor_id        TEXT,             -- the user; NULL for the portal itself
    actor_role      TEXT    NOT NULL, -- applicant | officer | system
    action          TEXT    NOT NULL,
    from_status     TEXT    NOT NULL,
    to_status       TEXT    NOT NULL,
    details         TEXT    NOT NULL, -- JSON
    prev_hash       TEXT    NOT NULL,
    hash            TEXT    NOT NULL,
    PRIMARY KEY (application_id, seq)
);
CREATE TRIGGER application_events_no_update BEFORE UPDATE ON application_events
BEGIN SELECT RAISE(ABORT, 'application events are append-only'); END;
CREATE TRIGGER application_events_no_delete BEFORE DELETE ON application_events
BEGIN SELECT RAISE(ABORT, 'application events are append-only'); END;

ALTER TABLE applications ADD COLUMN assignee_id TEXT REFERENCES users (id);
ALTER TABLE applications ADD COLUMN result_ready_at BIGINT;
CREATE INDEX applications_by_organisation ON applications (organisation_id, status, submitted_at);
CREATE INDEX applications_result_ready ON applications (result_ready_at) WHERE status = 'result_ready';

-- How many people one pickup slot (half an hour) serves at a place.
ALTER TABLE organisations ADD COLUMN slot_capacity INTEGER NOT NULL DEFAULT 2;

-- Pickup slots that have bookings. A slot exists in the opening hours whether or not it has a
-- row; the row counts its bookings, and the CHECK makes over-booking impossible.
CREATE TABLE pickup_slots (
    organisation_id TEXT    NOT NULL REFERENCES organisations (id),
    starts_at       BIGINT  NOT NULL,
    ends_at         BIGINT  NOT NULL,
    capacity        INTEGER NOT NULL,
    booked          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (organisation_id, starts_at),
    CHECK (booked >= 0 AND booked <= capacity)
);

CREATE TABLE pickup_bookings (
    application_id  TEXT    PRIMARY KEY REFERENCES applications (id),
    organisation_id TEXT    NOT NULL,
    starts_at       BIGINT  NOT NULL,
    booked_by       TEXT    NOT NULL, -- applicant | officer
    booked_at       BIGINT  NOT NULL
);

-- The provider's signed electronic document for an application: the result, a motivated
-- refusal, or a refusal to accept.
CREATE TABLE results (
    application_id    TEXT    PRIMARY KEY REFERENCES applications (id),
    kind              TEXT    NOT NULL, -- approved | refused | refused_to_accept
    number            TEXT    NOT NULL UNIQUE,
    lang              TEXT    NOT NULL,
    pdf               BLOB    NOT NULL,
    cms               BLOB    NOT NULL, -- detached CMS SignedData over `pdf`, DER
    signer            TEXT    NOT NULL, -- the signing certificate's common name
    verification_code TEXT    NOT NULL UNIQUE,
    created_at        BIGINT  NOT NULL
);

-- Each provider's signing key file, issued by the portal's test CA on first use (demo; a real
-- deployment signs with the provider's own key from the national CA).
CREATE TABLE provider_keys (
    organisation_id TEXT    PRIMARY KEY REFERENCES organisations (id),
    pkcs12          BLOB    NOT NULL,
    password        TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL
);

-- Administrators' versions of a year of the working-day calendar; they replace the file's.
CREATE TABLE calendar_years (
    year        INTEGER PRIMARY KEY,
    data        TEXT    NOT NULL, -- JSON CalendarYear
    updated_at  BIGINT  NOT NULL,
    updated_by  TEXT    NOT NULL REFERENCES users (id)
);
