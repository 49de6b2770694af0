-- Every live room (the opening hall of a tender; the experts' scoring rooms next) keeps what it showed as numbered
-- events, so that a client that reconnects with the last number it saw gets every event it missed, from whichever
-- process it reaches. Processes tell each other of a new event with NOTIFY carrying only ``room:seq``.
CREATE TABLE room_events (
    room text NOT NULL CHECK (room ~ '^[a-z_]+/[0-9]+$'),
    seq bigint NOT NULL CHECK (seq > 0),
    kind text NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    payload jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (room, seq)
);

-- The opening halls' messages become the events of the rooms ``opening/<tender id>``, numbers and times kept.
INSERT INTO room_events (room, seq, kind, payload, at)
SELECT 'opening/' || tender_id, seq, kind, body, at FROM opening_messages;

DROP TABLE opening_messages;

-- Who is in a room now: one row per open connection, refreshed at each heartbeat and deleted when the connection
-- ends. A process that dies leaves its rows behind; they count as gone once not refreshed for a while (the
-- rooms' PRESENCE_TIMEOUT), so nothing needs to clean them up before they are read.
CREATE TABLE room_presence (
    attendance uuid PRIMARY KEY,
    room text NOT NULL CHECK (room ~ '^[a-z_]+/[0-9]+$'),
    user_id bigint REFERENCES users (id),
    joined_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    seen_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX room_presence_room ON room_presence (room, seen_at);
