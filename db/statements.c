/* The statement table; see statements.h. SQL for a resource is grouped with
 * the store file that runs it. */
#include "db/statements.h"

#include <string.h>

#include "src/util.h"

const struct statement statements[STMT_COUNT_] = {
    [STMT_PING] = {"ping", "SELECT 1"},

    [STMT_EVENTS_APPEND] = {"events_append",
        "SELECT outcome, current_version, event_id, stream_offset, global_position"
        "  FROM {p}append_events($1, $2, $3::jsonb -> 'events', $4::boolean)"},
    /* One row per event after the stream's version and first retained offset;
     * no row at all when the stream does not exist. */
    [STMT_EVENTS_READ_FORWARD] = {"events_read_forward",
        "SELECT s.version, s.first_offset, e.stream_offset, e.body"
        "  FROM {p}streams s"
        "  LEFT JOIN LATERAL ("
        "    SELECT ev.stream_offset, {p}event_json(ev) AS body FROM {p}events ev"
        "     WHERE ev.stream = $1 AND ev.stream_offset >= $2"
        "       AND ($3::text IS NULL OR ev.event_type = ANY (string_to_array($3, ',')))"
        "       AND ($4::timestamptz IS NULL OR ev.created_at >= $4)"
        "       AND ($5::timestamptz IS NULL OR ev.created_at < $5)"
        "     ORDER BY ev.stream_offset LIMIT $6) e ON true"
        " WHERE s.name = $1"
        " ORDER BY e.stream_offset"},
    [STMT_EVENTS_READ_BACKWARD] = {"events_read_backward",
        "SELECT s.version, s.first_offset, e.stream_offset, e.body"
        "  FROM {p}streams s"
        "  LEFT JOIN LATERAL ("
        "    SELECT ev.stream_offset, {p}event_json(ev) AS body FROM {p}events ev"
        "     WHERE ev.stream = $1 AND ev.stream_offset <= $2"
        "       AND ($3::text IS NULL OR ev.event_type = ANY (string_to_array($3, ',')))"
        "       AND ($4::timestamptz IS NULL OR ev.created_at >= $4)"
        "       AND ($5::timestamptz IS NULL OR ev.created_at < $5)"
        "     ORDER BY ev.stream_offset DESC LIMIT $6) e ON true"
        " WHERE s.name = $1"
        " ORDER BY e.stream_offset DESC"},
    [STMT_EVENTS_GET] = {"events_get",
        "SELECT EXISTS (SELECT 1 FROM {p}streams WHERE name = $1),"
        "       (SELECT {p}event_json(ev) FROM {p}events ev WHERE ev.stream = $1 AND ev.stream_offset = $2)"},
    /* The global read only returns positions below the oldest transaction still
     * running (its xid << 12): every transaction that could still commit an event
     * there has finished, so nothing can appear behind a reader later. */
    [STMT_EVENTS_GLOBAL_READ] = {"events_global_read",
        "SELECT w.below, e.global_position, e.body"
        "  FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 12 AS below) w"
        "  LEFT JOIN LATERAL ("
        "    SELECT ev.global_position, {p}event_json(ev) AS body FROM {p}events ev"
        "     WHERE ev.global_position > $1 AND ev.global_position < w.below"
        "       AND ($3::text IS NULL OR ev.event_type = ANY (string_to_array($3, ',')))"
        "       AND ($4::text IS NULL OR starts_with(ev.stream, $4))"
        "     ORDER BY ev.global_position LIMIT $2) e ON true"
        " ORDER BY e.global_position"},

    [STMT_STREAMS_META] = {"streams_meta",
        "SELECT {p}stream_json(m), m.version FROM {p}stream_metadata m WHERE m.stream = $1"},
    [STMT_STREAMS_LIST] = {"streams_list",
        "SELECT {p}stream_json(m), m.stream FROM {p}stream_metadata m"
        " WHERE ($1::text IS NULL OR starts_with(m.stream, $1))"
        "   AND ($2::text IS NULL OR m.stream > $2)"
        " ORDER BY m.stream LIMIT $3 + 1"},
    /* $4/$5 say whether max_age_seconds/max_count were given; absent ones keep their value. */
    [STMT_STREAMS_SET_RETENTION] = {"streams_set_retention",
        "INSERT INTO {p}retention_policies AS r (stream, max_age_seconds, max_count)"
        " SELECT name, $2::bigint, $3::bigint FROM {p}streams WHERE name = $1"
        " ON CONFLICT (stream) DO UPDATE SET"
        "   max_age_seconds = CASE WHEN $4::boolean THEN excluded.max_age_seconds ELSE r.max_age_seconds END,"
        "   max_count = CASE WHEN $5::boolean THEN excluded.max_count ELSE r.max_count END,"
        "   updated_at = now()"
        " RETURNING stream"},
    [STMT_STREAMS_SET_STATE] = {"streams_set_state",
        "UPDATE {p}streams SET state = $2 WHERE name = $1 RETURNING name"},
    [STMT_STREAMS_DELETE] = {"streams_delete", "SELECT {p}delete_stream($1)"},
};

char *statements_expand(const char *sql, const char *prefix)
{
    size_t plen = strlen(prefix), n = 0, cap = strlen(sql) + 1;
    for (const char *s = sql; (s = strstr(s, "{p}")); s += 3)
        cap += plen;
    char *out = xmalloc(cap);
    for (const char *s = sql; *s;) {
        if (!strncmp(s, "{p}", 3)) {
            memcpy(out + n, prefix, plen);
            n += plen;
            s += 3;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    return out;
}
