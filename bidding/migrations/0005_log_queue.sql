-- Audit events become insert-only. Their places in the log move to log_entries, and the events awaiting them to
-- log_queue, which the database fills itself for every event however it is inserted. Before, the sequencer
-- rewrote each event's row to set its index: a second copy of the row and an entry in each of the table's eight
-- indexes, per event, and a table that needed vacuuming as much as it grew. Now it deletes a queue row and adds a
-- two-column one.
CREATE TABLE log_entries (
    log_index bigint PRIMARY KEY CHECK (log_index >= 0),
    event_id bigint NOT NULL UNIQUE REFERENCES audit_events (id)
);
CREATE TABLE log_queue (event_id bigint PRIMARY KEY);

INSERT INTO log_entries (log_index, event_id) SELECT log_index, id FROM audit_events WHERE log_index IS NOT NULL;
INSERT INTO log_queue (event_id) SELECT id FROM audit_events WHERE log_index IS NULL;
-- With it go its unique index and the partial index of the events not yet sequenced.
ALTER TABLE audit_events DROP COLUMN log_index;

CREATE FUNCTION queue_audit_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO log_queue (event_id) SELECT id FROM inserted;
    RETURN NULL;
END
$$;
-- Once per statement: a bulk load queues its thousands of events in one insert.
CREATE TRIGGER audit_events_queued AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION queue_audit_events();
