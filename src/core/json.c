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

cJSON *json_parse(const char *text, size_t len)
{
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

bool json_add_int(cJSON *obj, const char *name, int64_t value)
{
    return cJSON_AddNumberToObject(obj, name, (double)value) != NULL;
}
