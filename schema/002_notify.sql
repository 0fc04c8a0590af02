-- streamq schema, version 2: notifications that wake waiting readers.
-- Every statement that adds events, enqueues messages or makes a message
-- deliverable sooner sends one NOTIFY on the channel the service names per
-- connection (the streamq.notify_channel setting); PostgreSQL delivers it only
-- when the transaction commits, so a waiter never wakes for data that is not
-- there. Sessions without the setting (psql, other tools) send nothing.
-- Payload: lines of "s<stream>" or "q<queue>"; "s*" / "q*" when the list would
-- pass NOTIFY's size limit (wake every waiter of that kind).
-- No table changes: every event, message and setting stays as it is.

CREATE FUNCTION {p}notify_changed(p_kind text, p_names text) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_channel text := current_setting('streamq.notify_channel', true);
BEGIN
    IF v_channel IS NULL OR v_channel = '' OR p_names IS NULL THEN
        RETURN;
    END IF;
    IF octet_length(p_names) > 7000 THEN
        p_names := p_kind || '*';
    END IF;
    PERFORM pg_notify(v_channel, p_names);
END;
$$;

CREATE FUNCTION {p}notify_events() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM {p}notify_changed('s', (SELECT string_agg(DISTINCT 's' || stream, E'\n') FROM new_events));
    RETURN NULL;
END;
$$;

CREATE TRIGGER {p}events_notify AFTER INSERT ON {p}events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION {p}notify_events();

CREATE FUNCTION {p}notify_enqueued() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM {p}notify_changed('q', (SELECT string_agg(DISTINCT 'q' || queue, E'\n') FROM new_messages));
    RETURN NULL;
END;
$$;

CREATE TRIGGER {p}queue_events_notify AFTER INSERT ON {p}queue_events
    REFERENCING NEW TABLE AS new_messages
    FOR EACH STATEMENT EXECUTE FUNCTION {p}notify_enqueued();

-- A nack, or a lease shortened, makes a message deliverable sooner than its
-- waiters were told; a dequeue (which moves visible_at later) sends nothing.
CREATE FUNCTION {p}notify_sooner() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM {p}notify_changed('q', 'q' || NEW.queue);
    RETURN NULL;
END;
$$;

CREATE TRIGGER {p}queue_events_notify_sooner AFTER UPDATE OF visible_at ON {p}queue_events
    FOR EACH ROW WHEN (NEW.visible_at < OLD.visible_at) EXECUTE FUNCTION {p}notify_sooner();
