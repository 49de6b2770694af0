-- Keys people register, the custody of each tender's opening key, resumable uploads, sealed bids, and openings.
-- The rules live in bidding/bids/model.py and bidding/opening/model.py; the checks here are the last line.

-- The public halves of a key file: an Ed25519 verifier key and an age post-quantum recipient. A bidder's keys
-- belong to its organisation (any of its bidder users may sign with them); a custodian's or an expert's to the
-- person. Registering a new key retires the current one; retired keys stay, so old bids stay verifiable.
CREATE TABLE party_keys (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purpose text NOT NULL CHECK (purpose IN ('bidder', 'custodian', 'expert')),
    organisation_id bigint REFERENCES organisations (id),
    user_id bigint REFERENCES users (id),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    verifier_key text NOT NULL UNIQUE CHECK (char_length(verifier_key) <= 200),
    recipient text NOT NULL UNIQUE CHECK (recipient LIKE 'age1pq1%' AND char_length(recipient) <= 2500),
    registered_by bigint NOT NULL REFERENCES users (id),
    registered_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz,
    CHECK ((purpose = 'bidder') = (organisation_id IS NOT NULL)),
    CHECK ((purpose = 'bidder') = (user_id IS NULL))
);
CREATE UNIQUE INDEX party_keys_current_of_organisation ON party_keys (organisation_id)
    WHERE retired_at IS NULL AND organisation_id IS NOT NULL;
CREATE UNIQUE INDEX party_keys_current_of_user ON party_keys (user_id, purpose)
    WHERE retired_at IS NULL AND user_id IS NOT NULL;

-- The largest envelope a bidder may upload to a tender.
ALTER TABLE tenders ADD COLUMN max_envelope_size bigint NOT NULL DEFAULT 1073741824
    CHECK (max_envelope_size BETWEEN 1024 AND 4294967296);

-- The custody ceremony's outcome: the opening recipient published in the notice, and one sealed share per
-- custodian. ``share`` is filled only when the custodian hands the share in, after the deadline.
CREATE TABLE tender_custody (
    tender_id bigint PRIMARY KEY REFERENCES tenders (id),
    recipient text NOT NULL CHECK (recipient LIKE 'age1pq1%'),
    threshold integer NOT NULL CHECK (threshold >= 1),
    ceremony_sha256 bytea NOT NULL CHECK (octet_length(ceremony_sha256) = 32),
    made_by bigint NOT NULL REFERENCES users (id),
    made_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE custody_shares (
    tender_id bigint NOT NULL REFERENCES tender_custody (tender_id),
    user_id bigint NOT NULL REFERENCES users (id),
    member integer NOT NULL CHECK (member BETWEEN 0 AND 15),
    key_id bigint NOT NULL REFERENCES party_keys (id),
    sealed bytea NOT NULL CHECK (octet_length(sealed) <= 65536),
    sealed_sha256 bytea NOT NULL CHECK (octet_length(sealed_sha256) = 32),
    share_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(share_sha256) = 32),
    share text CHECK (char_length(share) <= 1000),
    handed_in_at timestamptz,
    PRIMARY KEY (tender_id, user_id),
    UNIQUE (tender_id, member),
    CHECK ((share IS NULL) = (handed_in_at IS NULL))
);

-- A tus upload of an envelope: its bytes are in a file of the blob store's upload folder, named by ``id``;
-- ``received`` counts only bytes made durable (fsynced before the row is updated).
CREATE TABLE bid_uploads (
    id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    tender_id bigint NOT NULL REFERENCES tenders (id),
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    user_id bigint NOT NULL REFERENCES users (id),
    length bigint NOT NULL CHECK (length >= 0),
    received bigint NOT NULL DEFAULT 0 CHECK (received BETWEEN 0 AND length),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Once whole: the envelope's SHA-256, and the bid that used it (an upload makes at most one bid).
    sha256 bytea CHECK (octet_length(sha256) = 32),
    bid_id bigint,
    terminated_at timestamptz
);
CREATE INDEX bid_uploads_by_tender ON bid_uploads (tender_id);

-- A sealed bid: the signed statement and the envelope it names. Rows are never deleted: a replaced or withdrawn
-- bid stays, with its receipt, as history.
CREATE TABLE bids (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tender_id bigint NOT NULL REFERENCES tenders (id),
    lot integer NOT NULL,
    slot text NOT NULL CHECK (slot IN ('single', 'technical', 'commercial')),
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    key_id bigint NOT NULL REFERENCES party_keys (id),
    statement bytea NOT NULL CHECK (octet_length(statement) <= 4096),
    -- The same signed statement is accepted once: a replayed one is refused.
    statement_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(statement_sha256) = 32),
    envelope_sha256 bytea NOT NULL CHECK (octet_length(envelope_sha256) = 32),
    envelope_size bigint NOT NULL CHECK (envelope_size >= 0),
    submitted_by bigint NOT NULL REFERENCES users (id),
    submitted_at timestamptz NOT NULL,
    event_id bigint NOT NULL REFERENCES audit_events (id),
    status text NOT NULL CHECK (status IN ('sealed', 'replaced', 'withdrawn', 'opened', 'revoked', 'rejected')),
    replaced_by bigint REFERENCES bids (id),
    ended_at timestamptz,
    ended_event_id bigint REFERENCES audit_events (id),
    -- At the opening: why a bid was not opened, in words for the record.
    outcome_reason text CHECK (char_length(outcome_reason) <= 1000),
    FOREIGN KEY (tender_id, lot) REFERENCES tender_lots (tender_id, number)
);
CREATE UNIQUE INDEX bids_one_sealed ON bids (tender_id, lot, slot, organisation_id)
    WHERE status IN ('sealed', 'opened');
CREATE INDEX bids_by_tender ON bids (tender_id, id);
CREATE INDEX bids_by_organisation ON bids (organisation_id, id);

-- The opening of a tender: when it started, when the key was rebuilt, when the record was signed.
CREATE TABLE openings (
    tender_id bigint PRIMARY KEY REFERENCES tenders (id),
    started_at timestamptz NOT NULL,
    started_by bigint NOT NULL REFERENCES users (id),
    -- How the bids were opened: with the custodians' shares, or each with the file key its bidder handed in.
    key_rebuilt_at timestamptz,
    finished_at timestamptz,
    record bytea,
    record_signature bytea,
    record_sha256 bytea CHECK (octet_length(record_sha256) = 32)
);

-- A line of the opening record (唱标), one per bid, and the bidder's answer to it.
CREATE TABLE opening_lines (
    bid_id bigint PRIMARY KEY REFERENCES bids (id),
    tender_id bigint NOT NULL REFERENCES openings (tender_id),
    position integer NOT NULL,
    line jsonb NOT NULL,
    read_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    objection text CHECK (char_length(objection) <= 2000),
    objected_at timestamptz,
    answer text CHECK (char_length(answer) <= 2000),
    answered_at timestamptz,
    answered_by bigint REFERENCES users (id),
    UNIQUE (tender_id, position)
);

-- What the opening hall showed, numbered per tender, so a client that reconnects gets every message it missed.
-- Processes tell each other of a new message with NOTIFY on ``opening_hall`` carrying only ``tender:seq``.
CREATE TABLE opening_messages (
    tender_id bigint NOT NULL REFERENCES tenders (id),
    seq integer NOT NULL,
    kind text NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    body jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tender_id, seq)
);
