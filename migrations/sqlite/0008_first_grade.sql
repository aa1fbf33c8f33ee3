-- First grade: one application per child across all schools. The child's IIN is set when a
-- grade-1 school-enrolment application is submitted; the partial unique index admits a second
-- one only after the first has ended without enrolment.
ALTER TABLE applications ADD COLUMN first_grade_child TEXT;
CREATE UNIQUE INDEX applications_one_first_grade_per_child ON applications(first_grade_child)
    WHERE first_grade_child IS NOT NULL
      AND status NOT IN ('draft', 'withdrawn', 'refused', 'refused_to_accept', 'signature_rejected');
