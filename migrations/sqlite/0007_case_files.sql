-- Documents officers attach to a move (a scanned inspection act, a paper refusal). Uploaded
-- first, then named by the move; once a move names a file it belongs to that event for good.
CREATE TABLE case_files (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    uploaded_by TEXT NOT NULL REFERENCES users(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attached INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX case_files_application ON case_files(application_id);
