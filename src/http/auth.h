/* Bearer tokens: the tokens file (API.md, "Operations"), the lookup of a
 * presented token, and what its scope and name prefix let it reach. Only
 * SHA-256 hashes are kept; a token is compared with every hash in constant
 * time, so neither the token nor its position leaks through timing.
 *
 * Threads: auth_check and auth_current may run on any thread while
 * auth_reload replaces the set (SIGHUP): a replaced set stays alive until
 * auth_free, so a request never sees one freed under it. */
#ifndef STREAMQ_HTTP_AUTH_H
#define STREAMQ_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "src/core/util.h"

enum auth_scope {
    SCOPE_OPEN = 0, /* no token needed (/healthz, /readyz) */
    SCOPE_READ,
    SCOPE_WRITE,
    SCOPE_ADMIN,
};

#define AUTH_LABEL_MAX 64

struct auth_token {
    unsigned char hash[32];
    enum auth_scope scope;
    char label[AUTH_LABEL_MAX + 1]; /* "" when the line has none */
    char prefix[NAME_MAX_LEN + 1];  /* "" when the token reaches every name */
};

struct auth;

/* Reads `path`; NULL with `err` filled (file and line) when it cannot be read
 * or a line does not parse. An empty file is a valid set that admits no one. */
struct auth *auth_load(const char *path, char *err, size_t errlen) MUST_CHECK;
/* Reads the file again; when it no longer parses, keeps the current set and
 * returns false with `err` filled. */
bool auth_reload(struct auth *a, char *err, size_t errlen) MUST_CHECK;
/* Accepts NULL. */
void auth_free(struct auth *a);
/* Tokens in the current set (for the start-up log). */
int auth_count(struct auth *a);

/* The token an `Authorization` header value presents ("Bearer <token>",
 * scheme case-insensitive): its entry, or NULL when the header is missing,
 * malformed or names no token of the set. */
const struct auth_token *auth_check(struct auth *a, const char *authorization);

/* True when `token` may reach `name` (a stream, queue or webhook name). */
bool auth_name_allowed(const struct auth_token *token, const char *name);

/* How logs name `token`: its label, or "sha256:" and the first 8 hex digits
 * of its hash when it has none (never the token). */
void auth_token_name(const struct auth_token *token, char *out, size_t size);

/* The scope's word as the tokens file spells it. */
const char *auth_scope_name(enum auth_scope scope);

/* Parses one line of a tokens file into `out`; false with `err` filled when it
 * is not a valid line. Blank and comment lines return true with `*empty`. */
bool auth_parse_line(const char *line, struct auth_token *out, bool *empty, char *err, size_t errlen) MUST_CHECK;

/* `streamq token`: a new random token (32 bytes of entropy, base64url, 43
 * characters) into `token` (44 bytes), and its tokens-file line into `line`. */
#define AUTH_TOKEN_LEN 43
void auth_token_new(char token[AUTH_TOKEN_LEN + 1]);
bool auth_token_line(const char *token, enum auth_scope scope, const char *label, const char *prefix, char *line,
                     size_t size, char *err, size_t errlen) MUST_CHECK;
/* "read", "write" or "admin"; SCOPE_OPEN for anything else. */
enum auth_scope auth_scope_parse(const char *word);

#endif
