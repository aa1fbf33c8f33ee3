-- First grade: what the check at scheduling established about the signature (the document it
-- signed and the signer's certificate), so that sending at the opening re-checks only what
-- can change meanwhile (revocation, the draft) rather than the whole signature again.
ALTER TABLE scheduled_submissions ADD COLUMN held_document BYTEA;
ALTER TABLE scheduled_submissions ADD COLUMN held_certificate BYTEA;
