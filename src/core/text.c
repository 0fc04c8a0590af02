/* Buffers and formatters; see text.h. */
#include "src/core/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "src/core/util.h"

void text_put(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (t->len + n + 1 > cap)
            cap *= 2;
        t->data = xrealloc(t->data, cap);
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

void text_cstr(struct text *t, const char *s)
{
    text_put(t, s, strlen(s));
}

void text_printf(struct text *t, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        text_put(t, small, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    text_put(t, big, (size_t)n);
    free(big);
}

void text_int(struct text *t, int64_t v)
{
    char digits[24], *p = digits + sizeof digits;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    text_put(t, p, (size_t)(digits + sizeof digits - p));
}

void text_json_string(struct text *t, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    text_put(t, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        text_put(t, run, (size_t)(s - run));
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            text_put(t, esc, 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            text_put(t, esc, 6);
        }
        run = s + 1;
    }
    text_put(t, run, (size_t)(s - run));
    text_put(t, "\"", 1);
}

void text_json_time(struct text *t, int64_t unix_us)
{
    char out[RFC3339_LEN + 3];
    out[0] = '"';
    rfc3339_format(unix_us, out + 1);
    out[RFC3339_LEN + 1] = '"';
    text_put(t, out, RFC3339_LEN + 2);
}

void text_free(struct text *t)
{
    free(t->data);
    t->data = NULL;
    t->len = t->cap = 0;
}

static void put_digits(char *out, unsigned v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* The slow path for years outside 1000..9999, which strftime prints with another width. */
static size_t rfc3339_format_libc(time_t sec, long frac, char out[RFC3339_LEN + 1])
{
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, RFC3339_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, RFC3339_LEN + 1 - n, ".%06ldZ", frac);
    return RFC3339_LEN;
}

/* gmtime_r takes glibc's time zone lock and strftime is slow; every log line and
 * every exported event formats a time, so the civil date is computed here
 * (Howard Hinnant's days-to-civil algorithm), with the same bytes as strftime. */
size_t rfc3339_format(int64_t unix_us, char out[RFC3339_LEN + 1])
{
    int64_t sec = unix_us / 1000000;
    long frac = (long)(unix_us % 1000000);
    if (frac < 0) {
        frac += 1000000;
        sec--;
    }
    int64_t days = sec / 86400, secs = sec % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2);
    if (year < 1000 || year > 9999)
        return rfc3339_format_libc((time_t)sec, frac, out);
    put_digits(out, (unsigned)year, 4);
    out[4] = '-';
    put_digits(out + 5, (unsigned)month, 2);
    out[7] = '-';
    put_digits(out + 8, (unsigned)day, 2);
    out[10] = 'T';
    put_digits(out + 11, (unsigned)(secs / 3600), 2);
    out[13] = ':';
    put_digits(out + 14, (unsigned)(secs / 60 % 60), 2);
    out[16] = ':';
    put_digits(out + 17, (unsigned)(secs % 60), 2);
    out[19] = '.';
    put_digits(out + 20, (unsigned)frac, 6);
    out[26] = 'Z';
    out[27] = '\0';
    return RFC3339_LEN;
}

int64_t wall_usec(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}
