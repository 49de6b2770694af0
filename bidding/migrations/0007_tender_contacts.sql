-- The contact persons a tender notice names (Measures on Publishing Tender Notices and Publicity Information,
-- art. 5): the running organisation's, needed before publication, and optionally the purchaser's. The rules
-- live in bidding/tenders/model.py; the checks here are the last line.

ALTER TABLE tenders
    ADD COLUMN contact_name text NOT NULL DEFAULT '' CHECK (char_length(contact_name) <= 50),
    ADD COLUMN contact_telephone text NOT NULL DEFAULT '' CHECK (char_length(contact_telephone) <= 40),
    ADD COLUMN contact_email text NOT NULL DEFAULT '' CHECK (char_length(contact_email) <= 254),
    ADD COLUMN purchaser_contact_name text NOT NULL DEFAULT '' CHECK (char_length(purchaser_contact_name) <= 50),
    ADD COLUMN purchaser_contact_telephone text NOT NULL DEFAULT ''
        CHECK (char_length(purchaser_contact_telephone) <= 40),
    ADD COLUMN purchaser_contact_email text NOT NULL DEFAULT '' CHECK (char_length(purchaser_contact_email) <= 254);
