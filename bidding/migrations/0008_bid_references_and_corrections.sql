-- Opaque bid ids, corrections of published answers, and custodians' checks of their shares.

-- Bid ids are drawn at random by the platform (bidding/bids/repo.py: positive 63-bit numbers) instead of counted by
-- a sequence. A sequence numbers every bid on the platform, so a bidder would learn from its own bid's number how
-- many were made before it, in its tender or elsewhere: the Tendering Law (art. 22) keeps the number of bidders
-- confidential until the opening. Bids made before keep their ids.
ALTER TABLE bids ALTER COLUMN id DROP IDENTITY;
ALTER TABLE bids ADD CONSTRAINT bids_id_positive CHECK (id > 0);
-- Lists and the opening follow the order of submission, which ids no longer give: the time, then (for bids of the
-- same microsecond) the order of their events.
DROP INDEX bids_by_tender;
CREATE INDEX bids_by_tender ON bids (tender_id, submitted_at, event_id);
DROP INDEX bids_by_organisation;
CREATE INDEX bids_by_organisation ON bids (organisation_id, submitted_at, event_id);

-- A correction of a published answer (更正). The answer as first published stays in tender_questions and every
-- correction stays here: the newest is the answer in force, the others its history, all public.
CREATE TABLE tender_answer_corrections (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question_id bigint NOT NULL REFERENCES tender_questions (id),
    answer text NOT NULL CHECK (char_length(answer) BETWEEN 1 AND 5000),
    corrected_by bigint NOT NULL REFERENCES users (id),
    corrected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tender_answer_corrections_by_question ON tender_answer_corrections (question_id, id);

-- When the custodian last said that its sealed share opened with its key file and matched its published digest
-- (the check runs on the custodian's machine; the platform learns only that it passed).
ALTER TABLE custody_shares ADD COLUMN checked_at timestamptz;
