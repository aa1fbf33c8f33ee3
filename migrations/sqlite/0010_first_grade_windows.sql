-- First grade: a school year's window set by an administrator (exact moments); years without
-- a row use the portal's default days (PORTAL_FIRST_GRADE_WINDOW).
CREATE TABLE first_grade_windows (
    school_year INTEGER PRIMARY KEY,
    opens_at INTEGER NOT NULL,
    closes_at INTEGER NOT NULL CHECK (closes_at > opens_at),
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users(id)
);
