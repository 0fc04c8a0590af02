/* JSON helpers; see json.h. */
#include "src/core/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/util.h"

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* PostgreSQL keeps the last of repeated keys while cJSON finds the first, so a
 * body could pass validation with one value and be stored with another. */
static bool has_repeated_keys(const cJSON *node)
{
    if (cJSON_IsObject(node)) {
        int n = cJSON_GetArraySize(node);
        if (n > 1) {
            const char **names = xmalloc((size_t)n * sizeof *names);
            int i = 0;
            for (const cJSON *c = node->child; c; c = c->next)
                names[i++] = c->string;
            qsort(names, (size_t)n, sizeof *names, compare_names);
            bool repeated = false;
            for (i = 1; i < n && !repeated; i++)
                repeated = !strcmp(names[i - 1], names[i]);
            free(names);
            if (repeated)
                return true;
        }
    }
    for (const cJSON *c = node->child; c; c = c->next)
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && has_repeated_keys(c))
            return true;
    return false;
}

static void *json_alloc(size_t n)
{
    return xmalloc(n);
}

void json_init(void)
{
    cJSON_Hooks hooks = {json_alloc, free};
    cJSON_InitHooks(&hooks);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the RFC 8259 number at `s` (at most `len` bytes), 0 when it is not one. */
static size_t number_len(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i >= len || !is_digit(s[i]))
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (i < len && is_digit(s[i]))
            i++;
    if (i < len && s[i] == '.') {
        if (++i >= len || !is_digit(s[i]))
            return 0;
        while (i < len && is_digit(s[i]))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || !is_digit(s[i]))
            return 0;
        while (i < len && is_digit(s[i]))
            i++;
    }
    return i;
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Length of the escape at `s` ('\\' and what follows), 0 when RFC 8259 has no such escape. */
static size_t escape_len(const char *s, size_t len)
{
    if (len < 2)
        return 0;
    if (strchr("\"\\/bfnrt", s[1]) && s[1])
        return 2;
    if (s[1] != 'u' || len < 6)
        return 0;
    for (int k = 2; k < 6; k++)
        if (!is_hex(s[k]))
            return 0;
    return 6;
}

/* What cJSON lets through but RFC 8259 does not: control bytes (a raw NUL
 * above all) inside strings or between tokens, and numbers such as "1." or
 * "01". cJSON checks the rest of the grammar. */
static bool is_strict_json(const char *s, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_string) {
            if (c < 0x20)
                return false;
            if (c == '\\') {
                size_t n = escape_len(s + i, len - i);
                if (n == 0)
                    return false;
                i += n - 1;
            } else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            return false;
        } else if (c == '-' || is_digit((char)c)) {
            size_t n = number_len(s + i, len - i);
            if (n == 0 || (i + n < len && (s[i + n] == '.' || is_digit(s[i + n]))))
                return false;
            i += n - 1;
        }
    }
    return true;
}

cJSON *json_parse(const char *text, size_t len)
{
    if (!is_strict_json(text, len))
        return NULL;
    const char *end = NULL;
    if (!utf8_is_valid(text, len))
        return NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    while (root && end < text + len && strchr(" \t\r\n", *end) && *end)
        end++;
    if (root && (end != text + len || has_repeated_keys(root))) {
        /* Trailing bytes after the value, or an object naming a key twice. */
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

bool json_is_int(const cJSON *item, int64_t min, int64_t max)
{
    if (!cJSON_IsNumber(item))
        return false;
    double v = item->valuedouble;
    /* (double)INT64_MAX rounds up to 2^63, so compare below 2^63 before converting. */
    return isfinite(v) && v == floor(v) && v >= (double)min && v < 0x1p63 && (int64_t)v <= max;
}

void json_add_int(cJSON *obj, const char *name, int64_t value)
{
    cJSON_AddNumberToObject(obj, name, (double)value);
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Past the string that starts at `p` (its opening quote). */
static const char *skip_string(const char *p)
{
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1])
            p++;
    return *p ? p + 1 : p;
}

/* Past the value that starts at `p`. */
static const char *skip_value(const char *p)
{
    if (*p == '"')
        return skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        do {
            if (*p == '"') {
                p = skip_string(p);
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if (*p == '}' || *p == ']')
                depth--;
            p++;
        } while (*p && depth > 0);
        return p;
    }
    while (*p && !strchr(",}] \t\r\n", *p))
        p++;
    return p;
}

bool json_array_spans(const char *text, const char *key, struct json_span *spans, int max, int *count)
{
    size_t klen = strlen(key);
    const char *p = skip_space(text);
    *count = 0;
    if (*p != '{')
        return false;
    p = skip_space(p + 1);
    while (*p == '"') {
        const char *name = p + 1, *end = skip_string(p);
        bool match = (size_t)(end - 1 - name) == klen && !memcmp(name, key, klen);
        p = skip_space(end);
        if (*p != ':')
            return false;
        p = skip_space(p + 1);
        if (match) {
            if (*p != '[')
                return false;
            p = skip_space(p + 1);
            while (*p && *p != ']') {
                const char *v = skip_value(p);
                if (*count >= max)
                    return false;
                spans[*count].start = (size_t)(p - text);
                spans[*count].len = (size_t)(v - p);
                (*count)++;
                p = skip_space(v);
                if (*p == ',')
                    p = skip_space(p + 1);
            }
            return *p == ']';
        }
        p = skip_space(skip_value(p));
        if (*p == ',')
            p = skip_space(p + 1);
    }
    return false;
}
