-- The portal's own test CA, shared by every instance on this database when PORTAL_PKI_DIR has
-- none (on SQLite it lives in that directory). Written once, by the first instance to start.
CREATE TABLE pki_authority (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    root        BYTEA  NOT NULL, -- DER
    issuing     BYTEA  NOT NULL, -- DER
    issuing_key BYTEA  NOT NULL, -- PKCS#8 PEM
    created_at  BIGINT NOT NULL
);
