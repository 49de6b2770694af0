-- The transparency log (C2SP tlog-tiles): audit events sequenced into a Merkle tree whose tiles, entry bundles
-- and signed checkpoints are served to the public. The rules live in bidding/audit/; one process at a time
-- appends (bidding/audit/sequencer.py), in one transaction per batch, so that a crash leaves the log as it was.

-- Each event gets a random salt when written, hashed with what the log does not show of it (who, from where;
-- for sealed actions everything), and its place in the log once sequenced.
ALTER TABLE audit_events
    ADD COLUMN salt bytea NOT NULL DEFAULT uuid_send(gen_random_uuid()) CHECK (octet_length(salt) = 16),
    ADD COLUMN log_index bigint UNIQUE CHECK (log_index >= 0);
-- The events still to sequence: few at any moment, found without reading the others.
CREATE INDEX audit_events_unsequenced ON audit_events (id) WHERE log_index IS NULL;
CREATE INDEX audit_events_by_actor ON audit_events (actor_user_id, at);
CREATE INDEX audit_events_by_organisation ON audit_events (organisation_id, at);
CREATE INDEX audit_events_by_action ON audit_events (action, at);

-- Hash tiles: tile N of level L holds up to 256 consecutive hashes of Merkle level 8L. The rightmost tile of each
-- level grows as the log does; every shorter (partial) tile ever served is a prefix of it.
CREATE TABLE log_tiles (
    level smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    index bigint NOT NULL CHECK (index >= 0),
    hashes bytea NOT NULL CHECK (octet_length(hashes) BETWEEN 32 AND 8192 AND octet_length(hashes) % 32 = 0),
    PRIMARY KEY (level, index)
);

-- Entry bundles: entries 256N onwards, each behind its big-endian 16-bit length. The entries themselves live
-- here; audit events are rebuilt into entries only once, when sequenced.
CREATE TABLE log_bundles (
    index bigint PRIMARY KEY CHECK (index >= 0),
    width smallint NOT NULL CHECK (width BETWEEN 1 AND 256),
    entries bytea NOT NULL
);

-- Every checkpoint signed, with the cosignatures gathered for it so far (appended to its note).
CREATE TABLE log_checkpoints (
    size bigint PRIMARY KEY CHECK (size >= 0),
    root bytea NOT NULL CHECK (octet_length(root) = 32),
    note bytea NOT NULL,
    cosignatures smallint NOT NULL DEFAULT 0,
    signed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- What each witness last cosigned of this log, as it told us: the old size of the next request to it.
CREATE TABLE log_witnesses (
    name text PRIMARY KEY,
    size bigint NOT NULL CHECK (size >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
