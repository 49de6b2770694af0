-- One row per state change, written in the same transaction as the change. Rows hold metadata and hashes,
-- never documents; they are what the transparency log sequences.

CREATE TABLE audit_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    -- NULL for the platform itself: the command line and demo data.
    actor_user_id bigint REFERENCES users (id),
    actor_role text NOT NULL,
    organisation_id bigint REFERENCES organisations (id),
    action text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    subject text NOT NULL CHECK (char_length(subject) <= 200),
    details jsonb NOT NULL DEFAULT '{}' CHECK (octet_length(details::text) <= 65536),
    request_id text CHECK (char_length(request_id) <= 64),
    client_ip inet
);
CREATE INDEX audit_events_by_time ON audit_events (at DESC);
CREATE INDEX audit_events_by_subject ON audit_events (subject, at);
