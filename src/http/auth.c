/* Bearer tokens; see auth.h. */
#include "src/http/auth.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Tokens up to this long are remembered per thread once admitted. */
#define AUTH_TOKEN_CACHE_MAX 128

struct token_set {
    uint64_t id; /* unique for the process's life, unlike an address */
    struct auth_token *tokens;
    int count;
    struct token_set *retired; /* the sets this one replaced, freed with the last */
};

struct auth {
    char *path;
    _Atomic(struct token_set *) current;
    pthread_mutex_t reload_lock;
};

static const char *const scope_names[] = {"open", "read", "write", "admin"};

const char *auth_scope_name(enum auth_scope scope)
{
    return scope >= SCOPE_OPEN && scope <= SCOPE_ADMIN ? scope_names[scope] : "unknown";
}

enum auth_scope auth_scope_parse(const char *word)
{
    for (int s = SCOPE_READ; s <= SCOPE_ADMIN; s++)
        if (!strcmp(word, scope_names[s]))
            return (enum auth_scope)s;
    return SCOPE_OPEN;
}

static void sha256(const char *s, size_t n, unsigned char out[32])
{
    unsigned int len = 32;
    if (!EVP_Digest(s, n, out, &len, EVP_sha256(), NULL)) {
        fprintf(stderr, "streamq: SHA-256 failed\n");
        abort();
    }
}

/* 1-`max` characters, each alphanumeric or one of `extra`. */
static bool is_word(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr(extra, *s)))
            return false;
    return true;
}

static bool label_is_valid(const char *s)
{
    return is_word(s, AUTH_LABEL_MAX, "._:@-");
}

/* The characters of names (util.h name_is_valid); any start of one. */
static bool prefix_is_valid(const char *s)
{
    return is_word(s, NAME_MAX_LEN, "._:-");
}

bool auth_parse_line(const char *line, struct auth_token *out, bool *empty, char *err, size_t errlen)
{
    char buf[1024];
    memset(out, 0, sizeof *out);
    *empty = false;
    size_t n = strcspn(line, "#\r\n");
    if (n >= sizeof buf) {
        snprintf(err, errlen, "line longer than %zu characters", sizeof buf - 1);
        return false;
    }
    memcpy(buf, line, n);
    buf[n] = '\0';
    char *fields[4], *save = NULL;
    int nf = 0;
    for (char *f = strtok_r(buf, " \t", &save); f; f = strtok_r(NULL, " \t", &save)) {
        if (nf == 4) {
            snprintf(err, errlen, "too many fields (want: <scope> <sha256 hex> [label] [prefix=<name prefix>])");
            return false;
        }
        fields[nf++] = f;
    }
    if (nf == 0) {
        *empty = true;
        return true;
    }
    out->scope = auth_scope_parse(fields[0]);
    if (out->scope == SCOPE_OPEN) {
        snprintf(err, errlen, "unknown scope \"%.32s\" (read, write or admin)", fields[0]);
        return false;
    }
    if (nf < 2 || strlen(fields[1]) != 64) {
        snprintf(err, errlen, "the second field must be the 64 hex digits of the token's SHA-256");
        return false;
    }
    for (int i = 0; i < 32; i++) {
        int hi = hex_value(fields[1][2 * i]), lo = hex_value(fields[1][2 * i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(err, errlen, "the second field must be the 64 hex digits of the token's SHA-256");
            return false;
        }
        out->hash[i] = (unsigned char)(hi << 4 | lo);
    }
    for (int i = 2; i < nf; i++) {
        if (!strncmp(fields[i], "prefix=", 7)) {
            if (*out->prefix || !prefix_is_valid(fields[i] + 7)) {
                snprintf(err, errlen, "prefix= must appear once, followed by 1-%d name characters [A-Za-z0-9._:-]",
                         NAME_MAX_LEN);
                return false;
            }
            snprintf(out->prefix, sizeof out->prefix, "%s", fields[i] + 7);
        } else if (i == 2 && label_is_valid(fields[i])) {
            snprintf(out->label, sizeof out->label, "%s", fields[i]);
        } else {
            snprintf(err, errlen,
                     "\"%.40s\" is neither a label (1-%d of [A-Za-z0-9._:@-], third field) nor prefix=", fields[i],
                     AUTH_LABEL_MAX);
            return false;
        }
    }
    return true;
}

static void token_set_free(struct token_set *set)
{
    while (set) {
        struct token_set *older = set->retired;
        free(set->tokens);
        free(set);
        set = older;
    }
}

static struct token_set *read_set(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read tokens file %s: %s", path, strerror(errno));
        return NULL;
    }
    static atomic_uint_fast64_t next_id = 1;
    struct token_set *set = xcalloc(1, sizeof *set);
    set->id = atomic_fetch_add(&next_id, 1);
    int cap = 0, lineno = 0;
    char *line = NULL, why[256];
    size_t linecap = 0;
    bool ok = true;
    while (ok && getline(&line, &linecap, f) >= 0) {
        lineno++;
        struct auth_token t;
        bool empty;
        if (!auth_parse_line(line, &t, &empty, why, sizeof why)) {
            snprintf(err, errlen, "tokens file %s, line %d: %s", path, lineno, why);
            ok = false;
        } else if (!empty) {
            if (set->count == cap) {
                cap = cap ? 2 * cap : 8;
                set->tokens = xrealloc(set->tokens, (size_t)cap * sizeof *set->tokens);
            }
            set->tokens[set->count++] = t;
        }
    }
    if (ok && ferror(f)) {
        snprintf(err, errlen, "cannot read tokens file %s: %s", path, strerror(errno));
        ok = false;
    }
    free(line);
    fclose(f);
    if (!ok) {
        token_set_free(set);
        return NULL;
    }
    return set;
}

struct auth *auth_load(const char *path, char *err, size_t errlen)
{
    struct token_set *set = read_set(path, err, errlen);
    if (!set)
        return NULL;
    struct auth *a = xcalloc(1, sizeof *a);
    a->path = xstrdup(path);
    atomic_store(&a->current, set);
    pthread_mutex_init(&a->reload_lock, NULL);
    return a;
}

bool auth_reload(struct auth *a, char *err, size_t errlen)
{
    struct token_set *set = read_set(a->path, err, errlen);
    if (!set)
        return false;
    pthread_mutex_lock(&a->reload_lock);
    /* The old set may still be in a request's hands: keep it until auth_free. */
    set->retired = atomic_load(&a->current);
    atomic_store(&a->current, set);
    pthread_mutex_unlock(&a->reload_lock);
    return true;
}

void auth_free(struct auth *a)
{
    if (!a)
        return;
    token_set_free(atomic_load(&a->current));
    pthread_mutex_destroy(&a->reload_lock);
    free(a->path);
    free(a);
}

int auth_count(struct auth *a)
{
    return atomic_load(&a->current)->count;
}

const struct auth_token *auth_check(struct auth *a, const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *token = authorization + 7;
    while (*token == ' ')
        token++;
    size_t n = strlen(token);
    while (n > 0 && token[n - 1] == ' ')
        n--;
    if (n == 0)
        return NULL;
    const struct token_set *set = atomic_load(&a->current);
    /* A client sends the same token request after request: each thread keeps
     * the last one it admitted (for this set), so the hash is computed once.
     * Compared in constant time like the hashes. */
    static _Thread_local struct {
        uint64_t set;
        const struct auth_token *entry;
        size_t len;
        char token[AUTH_TOKEN_CACHE_MAX];
    } last;
    if (last.set == set->id && last.len == n && CRYPTO_memcmp(last.token, token, n) == 0)
        return last.entry;
    unsigned char hash[32];
    sha256(token, n, hash);
    const struct auth_token *found = NULL;
    /* Every entry compared, whichever matches. */
    for (int i = 0; i < set->count; i++)
        if (CRYPTO_memcmp(hash, set->tokens[i].hash, sizeof hash) == 0)
            found = &set->tokens[i];
    if (found && n <= sizeof last.token) {
        last.set = set->id;
        last.entry = found;
        last.len = n;
        memcpy(last.token, token, n);
    }
    return found;
}

void auth_token_name(const struct auth_token *token, char *out, size_t size)
{
    if (*token->label)
        snprintf(out, size, "%s", token->label);
    else
        snprintf(out, size, "sha256:%02x%02x%02x%02x", token->hash[0], token->hash[1], token->hash[2], token->hash[3]);
}

bool auth_name_allowed(const struct auth_token *token, const char *name)
{
    return !token || !*token->prefix || !strncmp(name, token->prefix, strlen(token->prefix));
}

void auth_token_new(char token[AUTH_TOKEN_LEN + 1])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33]; /* 32 bytes of entropy, padded to a multiple of 3 */
    random_bytes(raw, 32);
    raw[32] = 0;
    int o = 0;
    for (int i = 0; i < 33; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
        for (int k = 3; k >= 0; k--)
            if (o < AUTH_TOKEN_LEN)
                token[o++] = alphabet[(v >> (6 * k)) & 63];
    }
    token[AUTH_TOKEN_LEN] = '\0';
}

bool auth_token_line(const char *token, enum auth_scope scope, const char *label, const char *prefix, char *line,
                     size_t size, char *err, size_t errlen)
{
    if (scope == SCOPE_OPEN) {
        snprintf(err, errlen, "--scope must be read, write or admin");
        return false;
    }
    if (label && *label && !label_is_valid(label)) {
        snprintf(err, errlen, "--label must be 1-%d of [A-Za-z0-9._:@-]", AUTH_LABEL_MAX);
        return false;
    }
    if (prefix && *prefix && !prefix_is_valid(prefix)) {
        snprintf(err, errlen, "--prefix must be 1-%d name characters [A-Za-z0-9._:-]", NAME_MAX_LEN);
        return false;
    }
    unsigned char hash[32];
    sha256(token, strlen(token), hash);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", hash[i]);
    snprintf(line, size, "%s %s%s%s%s%s", auth_scope_name(scope), hex, label && *label ? " " : "",
             label && *label ? label : "", prefix && *prefix ? " prefix=" : "", prefix && *prefix ? prefix : "");
    return true;
}
