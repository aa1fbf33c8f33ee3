-- A submission rewrites its application's row on the one writer, and every index entry it moves
-- is another page written to the log and later to the database file.
-- An applicant's list is sorted in memory (it is short), so the index need not hold the last
-- change, which every save and the submission move.
DROP INDEX applications_by_user;
CREATE INDEX applications_by_user ON applications (user_id);
-- Drafts have no organisation yet; only submitted applications are looked up by it, so drafts
-- stay out of the index and a submission adds an entry without taking one out elsewhere.
DROP INDEX applications_by_organisation;
CREATE INDEX applications_by_organisation ON applications (organisation_id, status, submitted_at)
    WHERE organisation_id IS NOT NULL;
