-- Every version of a service definition the server has loaded. Applications record the version
-- they were made under, so editing a definition file never rewrites what a citizen applied for.
CREATE TABLE service_definition_versions (
    service_id      TEXT   NOT NULL,
    sha256          TEXT   NOT NULL,
    first_loaded_at BIGINT NOT NULL, -- Unix time, milliseconds
    definition      TEXT   NOT NULL, -- the JSON exactly as loaded
    PRIMARY KEY (service_id, sha256)
);
