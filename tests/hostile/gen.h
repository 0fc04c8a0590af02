/* Internals shared by the parts of the hostile-request generator: gen.c (the
 * core), gen_tables.c (string tables) and the categories in gen_line.c,
 * gen_body.c and gen_message.c. The rest of the test sees only hostile.h.
 * Everything here runs on the calling thread and keeps no state between
 * requests. */
#ifndef STREAMQ_HOSTILE_GEN_H
#define STREAMQ_HOSTILE_GEN_H

#include "hostile.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- randomness (gen.c): splitmix64, one state per request ---- */

struct rng {
    uint64_t s;
};

/* The next 64 random bits. */
uint64_t gen_rnd(struct rng *r);
/* A number in [0, n); n > 0. */
size_t gen_below(struct rng *r, size_t n);
/* True `percent` times in 100. */
bool gen_chance(struct rng *r, unsigned percent);
/* A random element of the array `a` (not a pointer: its length must be known here). */
#define GEN_PICK(r, a) ((a)[gen_below((r), ARRAY_LEN(a))])

/* ---- byte buffers (gen.c): requests hold NUL bytes, never treated as strings ---- */

/* Zeroed is empty. `p` is always followed by a NUL that `n` does not count.
 * Growing aborts on exhaustion. */
struct buf {
    char *p;
    size_t n, cap;
};

void gen_buf_put(struct buf *b, const void *data, size_t n);
void gen_buf_str(struct buf *b, const char *s);
void gen_buf_byte(struct buf *b, char c);
void gen_buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` `times` times. */
void gen_buf_repeat(struct buf *b, const char *s, size_t times);
/* Inserts `n` bytes at offset `at` (<= b->n). */
void gen_buf_insert(struct buf *b, size_t at, const void *data, size_t n);
/* Frees the bytes and leaves `b` empty. */
void gen_buf_free(struct buf *b);

/* ---- the routes (gen.c) ---- */

/* The JSON body a route takes; gen_tables_shapes describes each. */
enum body_kind {
    B_NONE,
    B_APPEND,
    B_RETENTION,
    B_QUEUE_PUT,
    B_ENQUEUE,
    B_DEQUEUE,
    B_ACK_BATCH,
    B_ACK,
    B_NACK,
    B_VISIBILITY,
    B_REDRIVE,
};

struct route {
    const char *method, *pattern;
    enum body_kind body;
    const char *params; /* query parameters, space-separated */
};

/* The lengths of the exported tables are checked where each is defined. */
#define GEN_ROUTES 29
#define GEN_API_EXTRA 8
/* Every route of routes/table.c. */
extern const struct route gen_routes[];
/* Routes API.md describes that the table does not serve (yet); the last one is
 * POST /transactions. */
extern const struct route gen_api_extra[];

/* GET or HEAD. */
bool gen_is_read(const char *method);
/* The route's path has a name parameter. */
bool gen_has_name(const struct route *rt);
/* Appends `pattern` with its first placeholder replaced by `name` and its
 * second by `second` (both raw bytes, already encoded as they go on the wire). */
void gen_expand(struct buf *b, const char *pattern, const char *name, size_t name_len, const char *second,
                size_t second_len);
/* The i-th (cyclically) route that takes a JSON body. */
const struct route *gen_body_route(size_t i);
/* The route with this method and pattern; aborts when there is none. */
const struct route *gen_find_route(const char *method, const char *pattern);

/* ---- the generator's state for one request (gen.c) ---- */

struct gen {
    struct rng r;
    uint64_t seed, index, k; /* k: requests of this category before this one */
    const struct fixture_names *fx;
    struct hreq *out;
    struct buf req;     /* the bytes */
    char throwaway[80]; /* a valid name no fixture has */
    char uuid[37];      /* a fresh random UUID */
};

/* Sets the request's description (out->what). */
void gen_describe(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The answer must be exactly `status`, with problem `code` unless NULL. */
void gen_expect_status(struct gen *g, int status, const char *code);
/* The fixture stream or queue of `group` that `pattern` names. */
const char *gen_fixture_name(const struct gen *g, const char *pattern, int group);
/* The second path parameter for a fixture: offset 1, the dead letter for the
 * dead-letter routes, else the message in flight. */
const char *gen_fixture_second(const struct gen *g, const char *pattern, int group);
/* The second path parameter with throw-away names: offset 0, a group name, or
 * a fresh UUID (in g->uuid, valid until the next one). */
const char *gen_throwaway_second(struct gen *g, const char *pattern);
/* Appends the path of `rt` with a fixture's names (`group` >= 0) or throw-away ones. */
void gen_route_path(struct gen *g, struct buf *b, const struct route *rt, int group);

/* ---- request assembly (gen.c) ---- */

/* One request, before it becomes bytes. Zeroed, then filled; gen_req_free or
 * gen_finish releases it. */
struct req {
    const char *method;
    struct buf target;
    const char *version; /* NULL: HTTP/1.1 */
    struct buf headers;  /* extra lines, each ending in CRLF */
    struct buf body;
    bool with_body; /* send the body with a Content-Length */
    bool no_host, no_length, no_type;
};

void gen_req_free(struct req *q);
/* Appends the request's bytes: request line, Host, Content-Type and
 * Content-Length unless told not to, the extra headers, the body. */
void gen_emit(struct buf *out, const struct req *q);
/* Fills `q` (zeroed) for `rt` on a fixture (group >= 0) or throw-away names,
 * with a valid body when the route takes one. */
void gen_plain_request(struct gen *g, struct req *q, const struct route *rt, int group);
/* Appends `q` to the request's bytes, notes a HEAD, and frees `q`. */
void gen_finish(struct gen *g, struct req *q);

/* ---- string tables (gen_tables.c) ---- */

/* A name or id for a path. */
struct bad_value {
    const char *text; /* as it goes on the wire */
    bool refused;     /* after percent-decoding it is not a valid name: 400 */
};

/* A query value. */
struct bad_query {
    const char *text;
    bool refused; /* invalid UTF-8 or NUL once decoded: 400 whatever the parameter */
};

/* Bytes a request target must not hold. */
struct target_byte {
    const char *bytes;
    size_t len;
    const char *shown;
    bool blank; /* whitespace: a lenient parser may take it for a separator at the edges */
};

/* The members of each JSON body, and a valid value for each. */
enum slot_kind { S_INT, S_STR, S_BOOL, S_META, S_UUID, S_ITEMS, S_IDS, S_VERSION, S_ANY };

struct slot {
    const char *name;
    enum slot_kind kind;
    bool in_item; /* a member of the first element of the S_ITEMS array */
    const char *valid;
};

struct shape {
    enum body_kind kind;
    struct slot slots[7];
};

#define GEN_TABLES_BAD_NAMES 32
#define GEN_TABLES_BAD_OFFSETS 12
#define GEN_TABLES_BAD_IDS 10
#define GEN_TABLES_BAD_QUERIES 42
#define GEN_TABLES_JUNK_BODIES 31
#define GEN_TABLES_ODD_BODIES 14
#define GEN_TABLES_TARGET_BYTES 18
#define GEN_TABLES_SHAPES 10
/* Names for a path; the first is the empty name. */
extern const struct bad_value gen_tables_bad_names[];
/* Offsets and ids that are not valid in a path. */
extern const char *const gen_tables_bad_offsets[];
extern const char *const gen_tables_bad_ids[];
extern const struct bad_query gen_tables_bad_queries[];
/* Bodies that are not JSON. */
extern const char *const gen_tables_junk_bodies[];
/* Valid JSON a server may accept, or oddities whose refusal the contract does
 * not spell out: for throw-away targets only. */
extern const char *const gen_tables_odd_bodies[];
/* The first is a raw NUL. */
extern const struct target_byte gen_tables_target_bytes[];
/* One for each body_kind but B_NONE. */
extern const struct shape gen_tables_shapes[];
/* A value of the wrong JSON type for a member of `kind` ("null" for S_ANY). */
const char *gen_tables_wrong_value(struct rng *r, enum slot_kind kind);

/* ---- the categories: each fills g->req and g->out for request g->index ---- */

/* gen_line.c: the request line. */
void gen_line_route_method(struct gen *g);
void gen_line_bad_name(struct gen *g);
void gen_line_bad_query(struct gen *g);
void gen_line_target_bytes(struct gen *g);
void gen_line_broken(struct gen *g);

/* gen_body.c: bodies. */
/* Appends the valid body of `kind`; with a fixture `group` (>= 0) its ids
 * name the group's messages. */
void gen_body_valid(struct gen *g, struct buf *b, enum body_kind kind, int group);
void gen_body_wrong_types(struct gen *g);
void gen_body_broken_json(struct gen *g);
void gen_body_deep_json(struct gen *g);
void gen_body_huge(struct gen *g);

/* gen_message.c: header fields and framing. */
void gen_message_headers(struct gen *g);
void gen_message_no_host(struct gen *g);
void gen_message_dup_host(struct gen *g);
void gen_message_framing(struct gen *g);
void gen_message_pipeline(struct gen *g);
void gen_message_unfinished(struct gen *g);

#endif
