/* The string tables of the hostile-request generator (see gen.h): names, ids
 * and bytes for the request target, query values, and JSON bodies (each body's
 * members, values of the wrong type for them, bodies that are not JSON). Their
 * order matters: requests pick rows by index, so a row added or moved changes
 * the requests of every seed. */
#include "gen.h"

/* ---- names and ids in the path ---- */

const struct bad_value gen_tables_bad_names[] = {
    {"", true},
    {"..", false}, /* dot-segments: a server may normalise them away */
    {".", false},
    {"%2E%2E", false}, /* the same, once unreserved characters are normalised */
    {"%00", true},
    {"a%00", true},
    {"a%00b", true},
    {"%2F", true},
    {"a%2Fb", true},
    {"a%2f..%2fb", true},
    {"x'%3B%20DROP%20TABLE%20events%3B--", true},
    {"x%27%20OR%20%271%27%3D%271", true},
    {"%27%3Bselect%20pg_sleep(5)%3B--", true},
    {"%FF", true},
    {"a%C0%AF", true},
    {"%ED%A0%80", true},
    {"a%E2%82", true},
    {"%C3%A9", true},
    {"a%20b", true},
    {"a%09b", true},
    {"%G1", true},
    {"%", true},
    {"a%", true},
    {"a%2", true},
    {"a*b", true},
    {"a%3Fb", true},
    {"a%23b", true},
    {"~x", true},
    {"a+b", true},
    {"%u0041", true},
    {"a,b", true},
    {"a%5Cb", true},
};
_Static_assert(ARRAY_LEN(gen_tables_bad_names) == GEN_TABLES_BAD_NAMES, "its length in gen.h");

const char *const gen_tables_bad_offsets[] = {"-1",   "abc", "1.5", "99999999999999999999", "%00", "0x1", "+1",
                                              "%201", "1e3", "%FF", "9223372036854775808",  "1%00"};
_Static_assert(ARRAY_LEN(gen_tables_bad_offsets) == GEN_TABLES_BAD_OFFSETS, "its length in gen.h");
const char *const gen_tables_bad_ids[] = {
    "not-a-uuid", "%00",     "123e4567-e89b-12d3-a456-42661417400", "123e4567-e89b-12d3-a456-4266141740000",
    "%FF",        "x'%3B--", "123e4567e89b12d3a456426614174000%00", "{}",
    "%2F",        "1"};
_Static_assert(ARRAY_LEN(gen_tables_bad_ids) == GEN_TABLES_BAD_IDS, "its length in gen.h");

/* ---- bytes a request target must not hold ---- */

const struct target_byte gen_tables_target_bytes[] = {
    {"\0", 1, "NUL", false},
    {"\x01", 1, "\\x01", false},
    {"\x07", 1, "\\x07", false},
    {"\x08", 1, "\\x08", false},
    {"\t", 1, "TAB", true},
    {"\x0b", 1, "VT", true},
    {"\x0c", 1, "FF", true},
    {"\x1b", 1, "ESC", false},
    {"\x1f", 1, "\\x1f", false},
    {"\x7f", 1, "DEL", false},
    {" ", 1, "SP", true},
    {"\x80", 1, "\\x80", false},
    {"\xff", 1, "\\xff", false},
    {"\xc3\xa9", 2, "e-acute", false},
    {"\xe2\x80\xae", 3, "RLO", false},
    {"\r", 1, "CR", true},
    {"\n", 1, "LF", true},
    {"\0\0\0", 3, "3xNUL", false},
};
_Static_assert(ARRAY_LEN(gen_tables_target_bytes) == GEN_TABLES_TARGET_BYTES, "its length in gen.h");

/* ---- query values ---- */

const struct bad_query gen_tables_bad_queries[] = {
    {"%FF", true},
    {"a%FFb", true},
    {"%C0%AF", true},
    {"%ED%A0%80", true},
    {"%F8%88%80%80%80", true},
    {"%E2%82", true},
    {"%80", true},
    {"%00", true},
    {"a%00b", true},
    {"1%00", true},
    {"%", false},
    {"%G0", false},
    {"%4", false},
    {"abc", false},
    {"1.5", false},
    {"-1", false},
    {"-9223372036854775809", false},
    {"99999999999999999999999", false},
    {"9223372036854775807", false},
    {"9223372036854775808", false},
    {"", false},
    {"1e3", false},
    {"+1", false},
    {"%2B1", false},
    {"%201", false},
    {"0x10", false},
    {"NaN", false},
    {"Infinity", false},
    {"'%3B%20DROP%20TABLE%20events%3B--", false},
    {"%27%20OR%201%3D1--", false},
    {"a,b,,c", false},
    {",", false},
    {"%22", false},
    {"null", false},
    {"[]", false},
    {"2020-13-45T99:99:99Z", false},
    {"9999-12-31T23:59:60Z", false},
    {"0000-00-00T00:00:00Z", false},
    {"2026-11-24T10:00:00.1234567890123Z", false},
    {"2026-11-24T10:00:00%2B25:00", false},
    {"-292277022657-01-27T08:29:52Z", false},
    {"%C3%A9", false},
};
_Static_assert(ARRAY_LEN(gen_tables_bad_queries) == GEN_TABLES_BAD_QUERIES, "its length in gen.h");

/* ---- JSON bodies: their members, and values of the wrong type ---- */

const struct shape gen_tables_shapes[] = {
    {B_APPEND,
     {{"expected_version", S_VERSION, false, "\"any\""},
      {"events", S_ITEMS, false, NULL},
      {"id", S_UUID, true, NULL},
      {"type", S_STR, true, "\"Hostile\""},
      {"data", S_ANY, true, "{\"k\":1}"},
      {"metadata", S_META, true, "{\"m\":\"x\"}"}}},
    {B_RETENTION, {{"max_age_seconds", S_INT, false, "86400"}, {"max_count", S_INT, false, "1000"}}},
    {B_QUEUE_PUT,
     {{"visibility_timeout", S_INT, false, "30"},
      {"max_delivery_attempts", S_INT, false, "5"},
      {"retention_seconds", S_INT, false, "3600"},
      {"max_depth", S_INT, false, "1000"}}},
    {B_ENQUEUE,
     {{"messages", S_ITEMS, false, NULL},
      {"id", S_UUID, true, NULL},
      {"type", S_STR, true, "\"Hostile\""},
      {"data", S_ANY, true, "{}"},
      {"metadata", S_META, true, "{}"},
      {"delay_seconds", S_INT, true, "0"}}},
    {B_DEQUEUE,
     {{"max_messages", S_INT, false, "1"},
      {"visibility_timeout", S_INT, false, "3600"},
      {"wait_seconds", S_INT, false, "0"},
      {"consumer", S_STR, false, "\"hostile\""}}},
    {B_ACK_BATCH, {{"acks", S_ITEMS, false, NULL}, {"id", S_UUID, true, NULL}, {"receipt", S_STR, true, "\"bogus\""}}},
    {B_ACK, {{"receipt", S_STR, false, "\"bogus\""}}},
    {B_NACK,
     {{"receipt", S_STR, false, "\"bogus\""},
      {"requeue", S_BOOL, false, "false"},
      {"delay_seconds", S_INT, false, "0"},
      {"reason", S_STR, false, "\"hostile\""}}},
    {B_VISIBILITY, {{"receipt", S_STR, false, "\"bogus\""}, {"visibility_timeout", S_INT, false, "60"}}},
    {B_REDRIVE, {{"ids", S_IDS, false, NULL}}},
};
_Static_assert(ARRAY_LEN(gen_tables_shapes) == GEN_TABLES_SHAPES, "its length in gen.h");

/* Values of the wrong JSON type for each kind of member: the contract says 400. */
static const char *const wrong_int[] = {"\"1\"", "true", "false", "[]",        "{}",
                                        "1.5",   "\"\"", "[1]",   "{\"v\":1}", "\"0x10\""};
static const char *const wrong_str[] = {"1", "true", "[]", "{}", "[\"x\"]", "0", "{\"s\":\"x\"}", "false"};
static const char *const wrong_bool[] = {"\"false\"", "\"true\"", "0", "1", "[]", "{}", "\"no\""};
static const char *const wrong_meta[] = {"1", "\"x\"", "[]", "true", "[{}]"};
static const char *const wrong_uuid[] = {"1",
                                         "\"not-a-uuid\"",
                                         "[]",
                                         "{}",
                                         "true",
                                         "\"123e4567-e89b-12d3-a456-42661417400\"",
                                         "\"123e4567-e89b-12d3-a456-4266141740000\"",
                                         "\"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz\""};
static const char *const wrong_items[] = {"{}", "\"x\"", "1", "true", "[1]", "[null]", "[\"x\"]", "[[]]"};
static const char *const wrong_ids[] = {"\"x\"", "1", "{}", "true", "[1]", "[\"not-a-uuid\"]", "[null]", "[[]]"};
static const char *const wrong_version[] = {"true", "[]", "{}", "1.5", "\"bogus\"", "\"\"", "\"ANY\"", "[\"any\"]"};

const char *gen_tables_wrong_value(struct rng *r, enum slot_kind kind)
{
    switch (kind) {
    case S_INT:
        return GEN_PICK(r, wrong_int);
    case S_STR:
        return GEN_PICK(r, wrong_str);
    case S_BOOL:
        return GEN_PICK(r, wrong_bool);
    case S_META:
        return GEN_PICK(r, wrong_meta);
    case S_UUID:
        return GEN_PICK(r, wrong_uuid);
    case S_ITEMS:
        return GEN_PICK(r, wrong_items);
    case S_IDS:
        return GEN_PICK(r, wrong_ids);
    case S_VERSION:
        return GEN_PICK(r, wrong_version);
    case S_ANY:
        break;
    }
    return "null";
}

/* ---- bodies that are not JSON, and odd ones ---- */

const char *const gen_tables_junk_bodies[] = {
    "not json",
    "{",
    "}",
    "{\"a\":}",
    "{,}",
    "{'a':1}",
    "{\"a\":1,}",
    "/*c*/{}",
    "{\"a\":NaN}",
    "{\"a\":0x1}",
    "{\"a\":01}",
    "{\"a\":+1}",
    "{\"a\" 1}",
    "{\"a\":tru}",
    "{\"a\":\"\\x41\"}",
    "{\"a\":\"\\u12\"}",
    "\"unterminated",
    "{\"a\":[1,2}",
    "[",
    "{\"a\":1}}",
    "{\"a\":1}{\"b\":2}",
    "{}[]",
    "{} x",
    "{\"a\":\"b\"c}",
    "{\"a\"::1}",
    "{\"a\":-}",
    "{\"a\":1.}",
    "{\"a\":.5}",
    "{\"a\":1e}",
    "{\"a\":\"\\uDZ00\"}",
    "\x01{}",
};
_Static_assert(ARRAY_LEN(gen_tables_junk_bodies) == GEN_TABLES_JUNK_BODIES, "its length in gen.h");

/* Throw-away targets only: valid JSON a server may accept, or oddities whose
 * refusal the contract does not spell out. */
const char *const gen_tables_odd_bodies[] = {
    "{\"events\":[{\"type\":\"a\\u0000b\",\"data\":{}}],\"messages\":[{\"type\":\"a\\u0000b\",\"data\":{}}]}",
    "{\"events\":[{\"type\":\"t\",\"data\":{\"\\u0000\":\"\\u0000\"}}],\"messages\":[{\"type\":\"t\",\"data\":{"
    "\"k\\u0000\":1}}]}",
    "{\"events\":[{\"type\":\"t\",\"data\":\"\\ud800\"}],\"messages\":[{\"type\":\"t\",\"data\":\"\\udc00\\ud800\"}]}",
    "{\"events\":[{\"type\":\"\\ud83d\\ude00\",\"data\":1e999}],\"messages\":[{\"type\":\"t\",\"data\":-0}]}",
    "{\"events\":[{\"type\":\"t\",\"type\":\"u\",\"data\":{}}],\"messages\":[{\"type\":\"t\",\"data\":{},\"data\":1}]}",
    "{\"max_messages\":1,\"max_messages\":\"x\",\"receipt\":\"a\",\"receipt\":\"b\",\"ids\":[],\"ids\":null}",
    "\xEF\xBB\xBF{\"events\":[{\"type\":\"t\",\"data\":{}}]}",
    "{\"events\":[{\"type\":\"t\",\"data\":1E-400}],\"messages\":[{\"type\":\"t\",\"data\":"
    "123456789012345678901234567890}]}",
    "{\"events\":[{\"type\":\"t\x01\",\"data\":\"\t\"}],\"messages\":[{\"type\":\"t\\n\",\"data\":\"\x1f\"}]}",
    "{\"events\":[{\"type\":\"t\",\"data\":{}}],\"messages\":[{\"type\":\"t\",\"data\":{}}]}\n\n\t ",
    "null",
    "{\"expected_version\":-1,\"events\":[{\"type\":\"t\",\"data\":{}}],\"max_depth\":9007199254740992}",
    "{\"expected_version\":9007199254740993,\"events\":[{\"type\":\"t\",\"data\":{}}],\"visibility_timeout\":-0.0}",
    "{\"events\":[{\"type\":\""
    "\xF0\x9F\x98\x80"
    "\",\"data\":\"\xE2\x80\xAE\"}],\"messages\":[{\"type\":\"\xC3\xA9\",\"data\":{}}]}",
};
_Static_assert(ARRAY_LEN(gen_tables_odd_bodies) == GEN_TABLES_ODD_BODIES, "its length in gen.h");
