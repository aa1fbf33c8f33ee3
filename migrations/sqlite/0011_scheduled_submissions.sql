-- First grade: applications signed before the window opens, sent by the portal at the opening
-- in the order they were scheduled. Any change to the draft removes its row (the signature no
-- longer matches it).
CREATE TABLE scheduled_submissions (
    application_id TEXT PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id),
    lang TEXT NOT NULL,
    request TEXT NOT NULL,
    scheduled_at INTEGER NOT NULL,
    sends_at INTEGER NOT NULL
);
CREATE INDEX scheduled_submissions_due ON scheduled_submissions(sends_at, scheduled_at);
