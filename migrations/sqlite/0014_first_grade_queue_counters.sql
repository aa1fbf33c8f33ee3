-- First grade: the last place given in each school's queue for a school year. Submissions take
-- the next one under this row's lock, which keeps places unique when several server instances
-- write at once (PostgreSQL); the queue itself stays on the applications.
CREATE TABLE first_grade_queues (
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    school_year INTEGER NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, school_year)
);
INSERT INTO first_grade_queues (organisation_id, school_year, last)
    SELECT organisation_id, first_grade_year, MAX(first_grade_position) FROM applications
    WHERE first_grade_position IS NOT NULL GROUP BY organisation_id, first_grade_year;
