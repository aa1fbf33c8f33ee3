-- First grade: the school did not accept the proof of the claimed priority category. The
-- application keeps its place in the queue and is enrolled without priority.
ALTER TABLE applications ADD COLUMN first_grade_priority_refused BOOLEAN NOT NULL DEFAULT FALSE;
