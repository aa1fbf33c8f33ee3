-- Electronic signatures.

-- Certificates issued by the portal's own test CA (demo and tests), and their revocation.
CREATE TABLE pki_certificates (
    serial      TEXT    PRIMARY KEY, -- upper-case hex
    iin         TEXT    NOT NULL,
    purpose     TEXT    NOT NULL,    -- signing | authentication
    holder      TEXT    NOT NULL,
    not_before  BIGINT  NOT NULL,
    not_after   BIGINT  NOT NULL,
    issued_at   BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX pki_certificates_by_iin ON pki_certificates (iin);

-- The nonce and time the server issued for signing a draft; the signature must cover them.
CREATE TABLE signing_challenges (
    application_id  TEXT    PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    nonce           TEXT    NOT NULL,
    issued_at       BIGINT  NOT NULL -- Unix seconds
);

-- The accepted signature of a submitted application, with what its verification established.
CREATE TABLE application_signatures (
    application_id   TEXT    PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    cms              BLOB    NOT NULL, -- detached CMS SignedData, DER
    document         BLOB    NOT NULL, -- the exact bytes signed
    signer_iin       TEXT    NOT NULL,
    signer_serial    TEXT    NOT NULL,
    certificate      BLOB    NOT NULL,
    verified_at      BIGINT  NOT NULL,
    crl_number       TEXT,
    crl_this_update  BIGINT
);
