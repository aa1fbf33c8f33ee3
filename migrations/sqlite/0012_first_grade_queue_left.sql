-- First grade: the applications that left a school's queue (withdrawn, refused, ...). A place in
-- the queue is the commit position less those that left before it, so counting it reads only
-- these few rows, not every application ahead (the queue of a big school runs to thousands).
CREATE INDEX applications_first_grade_left
    ON applications(organisation_id, first_grade_year, first_grade_position)
    WHERE first_grade_position IS NOT NULL
      AND status IN ('withdrawn', 'refused', 'refused_to_accept', 'signature_rejected');
