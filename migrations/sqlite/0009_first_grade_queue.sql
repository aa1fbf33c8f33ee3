-- First grade: a school's places, and each application's place in the school's queue for a
-- school year, fixed by the order in which the server committed the submissions.
ALTER TABLE organisations ADD COLUMN first_grade_places INTEGER;
ALTER TABLE applications ADD COLUMN first_grade_year INTEGER;
ALTER TABLE applications ADD COLUMN first_grade_position INTEGER;
CREATE UNIQUE INDEX applications_first_grade_queue
    ON applications(organisation_id, first_grade_year, first_grade_position)
    WHERE first_grade_position IS NOT NULL;
