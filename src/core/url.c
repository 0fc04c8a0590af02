/* Webhook URL checks; see url.h. */
#include "src/core/url.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "src/core/util.h"

static bool host_is_allowed(const char *allow, const char *host)
{
    if (!*allow)
        return true;
    size_t hlen = strlen(host);
    for (const char *p = allow; *p;) {
        p += strspn(p, " ,");
        size_t n = strcspn(p, ",");
        size_t end = n;
        while (end > 0 && p[end - 1] == ' ')
            end--;
        if (end > 2 && !strncmp(p, "*.", 2)) {
            size_t suffix = end - 1; /* ".example.com" */
            if (hlen > suffix && !strncasecmp(host + hlen - suffix, p + 1, suffix))
                return true;
        } else if (end > 0 && end == hlen && !strncasecmp(p, host, hlen)) {
            return true;
        }
        p += n;
    }
    return false;
}

/* The port after ':' at `p` up to the path; NULL when it is not 1-65535. */
static const char *skip_port(const char *p)
{
    char digits[8] = "";
    int64_t port;
    size_t d = strcspn(p, "/?#");
    if (d == 0 || d >= sizeof digits)
        return NULL;
    memcpy(digits, p, d);
    return parse_int64(digits, 1, 65535, &port) ? p + d : NULL;
}

const char *url_refusal(const char *url, const char *allow)
{
    char host[256];
    const char *p = !strncasecmp(url, "http://", 7) ? url + 7 : !strncasecmp(url, "https://", 8) ? url + 8 : NULL;
    if (!p)
        return "the url must start with http:// or https://";
    size_t n = *p == '[' ? strcspn(p, "]") + 1 : strcspn(p, ":/?#");
    if (n == 0 || n >= sizeof host || (*p == '[' && p[n - 1] != ']'))
        return "the url has no valid host";
    memcpy(host, p, n);
    host[n] = '\0';
    if (*p != '[' && strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != n)
        return "the url's host has characters a host name cannot";
    p += n;
    if (*p == ':' && !(p = skip_port(p + 1)))
        return "the url's port must be 1-65535";
    for (; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return "the url holds spaces, control bytes or non-ASCII characters (percent-encode them)";
    if (!host_is_allowed(allow, host))
        return "the url's host is not one this service may deliver to (--webhook-allow)";
    return NULL;
}
