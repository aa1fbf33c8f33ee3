-- Signatures whose revocation status could not be learnt at submission are kept and checked
-- again; sign-in with an EDS signs a one-time challenge.

CREATE TABLE application_signatures_new (
    application_id   TEXT    PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    cms              BLOB    NOT NULL, -- detached CMS SignedData, DER
    document         BLOB    NOT NULL, -- the exact bytes signed
    signer_iin       TEXT    NOT NULL, -- the IIN that had to sign
    signer_serial    TEXT    NOT NULL,
    certificate      BLOB    NOT NULL,
    signed_at        BIGINT  NOT NULL, -- the server-issued signing time validity is judged at
    outcome          TEXT    NOT NULL, -- valid | pending | invalid
    verified_at      BIGINT,           -- when the outcome was established (NULL while pending)
    crl_number       TEXT,
    crl_this_update  BIGINT,
    rejection        TEXT,             -- JSON: why, when invalid
    checks           INTEGER NOT NULL DEFAULT 1,
    next_check_at    BIGINT            -- while pending
);
INSERT INTO application_signatures_new
    (application_id, cms, document, signer_iin, signer_serial, certificate, signed_at, outcome, verified_at, crl_number, crl_this_update)
    SELECT application_id, cms, document, signer_iin, signer_serial, certificate, verified_at, 'valid', verified_at, crl_number, crl_this_update
    FROM application_signatures;
DROP TABLE application_signatures;
ALTER TABLE application_signatures_new RENAME TO application_signatures;
CREATE INDEX application_signatures_pending ON application_signatures (next_check_at) WHERE outcome = 'pending';

CREATE TABLE login_challenges (
    nonce      TEXT    PRIMARY KEY,
    issued_at  BIGINT  NOT NULL -- Unix seconds
);
