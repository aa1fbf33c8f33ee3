-- First grade: the age rule per school year (set with the window), and each school's priority
-- categories with the documents that prove them (JSON, the highest first).
ALTER TABLE first_grade_windows ADD COLUMN age_youngest INTEGER NOT NULL DEFAULT 6;
ALTER TABLE first_grade_windows ADD COLUMN age_oldest INTEGER NOT NULL DEFAULT 7;
ALTER TABLE organisations ADD COLUMN first_grade_priorities TEXT NOT NULL DEFAULT '[]';
