/* Checks of the request line and headers before routing; see request_head.h. */
#include "src/http/request_head.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/core/util.h"
#include "src/http/problem.h"

/* Bytes RFC 3986 allows in a request target (RFC 9112 section 3.2): unreserved,
 * reserved and '%'. Anything else (controls, space, DEL, non-ASCII, "<>\\^`{|}")
 * is refused before routing. */
static bool target_byte_is_allowed(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL;
}

/* libmicrohttpd calls this with the raw target before it splits or decodes it:
 * the request starts here so that the target's bytes can still be checked. */
void *http_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct request *req = xcalloc(1, sizeof *req);
    req->target_start = (uintptr_t)uri;
    req->target_len = strlen(uri);
    req->target_ok = req->target_len > 0;
    for (size_t i = 0; i < req->target_len && req->target_ok; i++)
        req->target_ok = target_byte_is_allowed((unsigned char)uri[i]);
    return req;
}

/* The request line ends "<target> SP <version>": when the version does not start
 * right after the bytes seen by on_uri, the target held a NUL byte that would
 * otherwise cut the path short ("/queues/victim\0zzz" must not reach "victim"). */
bool http_target_is_whole(const struct request *req, const char *version)
{
    if (!version || !*version)
        return true;
    return (uintptr_t)version == req->target_start + req->target_len + 1;
}

/* True when a header value is text we are willing to look at: UTF-8 without control bytes. */
static bool header_value_is_valid(const char *v)
{
    for (const char *c = v; *c; c++)
        if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
            return false;
    return utf8_is_valid(v, strlen(v));
}

/* RFC 9112 section 3.2 / RFC 3986 section 3.2.2: a reg-name or IPv4 address, or an IP
 * literal in brackets, then an optional port. */
static bool host_is_valid(const char *v)
{
    const char *p = v;
    if (*p == '[') {
        p += strspn(p + 1, "0123456789abcdefABCDEF:.vV") + 1;
        if (*p++ != ']')
            return false;
    } else {
        p += strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%");
    }
    if (*p == ':')
        p += 1 + strspn(p + 1, "0123456789");
    return *p == '\0';
}

struct header_scan {
    int hosts, content_lengths, transfer_encodings;
    bool host_ok, chunked;
    const char *bad; /* name of the first header with an unacceptable value */
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct header_scan *scan = cls;
    if (!strcasecmp(key, MHD_HTTP_HEADER_HOST)) {
        scan->hosts++;
        scan->host_ok = value && host_is_valid(value);
    } else if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        scan->content_lengths++;
    } else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        scan->transfer_encodings++;
        scan->chunked = value && !strcmp(value, "chunked");
    }
    if (!scan->bad && value && !header_value_is_valid(value))
        scan->bad = key;
    return MHD_YES;
}

/* A refusal before the body is read: the connection closes after it, so that
 * bytes the client meant as a body are never read as a next request. */
static void refuse_head(struct request *req, const char *detail)
{
    http_set_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
    problem_reply(req, 400, "invalid_request", "%s", detail);
}

/* The request line and headers, checked before routing: a target with bytes RFC 3986
 * forbids, an HTTP/1.1 request without exactly one Host (RFC 9112 section 3.2), or a
 * header value that is not UTF-8 text is answered 400 and reaches no handler. */
bool http_request_head_is_valid_or_reply(struct request *req, const char *version)
{
    if (!req->target_ok) {
        refuse_head(req, "the request target holds a byte RFC 3986 does not allow there (control, space or non-ASCII)");
        return false;
    }
    struct header_scan scan = {0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, scan_header, &scan);
    if (scan.hosts > 1 || (scan.hosts == 0 && version && !strcmp(version, MHD_HTTP_VERSION_1_1))) {
        refuse_head(req, "an HTTP/1.1 request needs exactly one Host header");
        return false;
    }
    if (scan.hosts == 1 && !scan.host_ok) {
        refuse_head(req, "the Host header is not a host name or address with an optional port");
        return false;
    }
    /* Framing a proxy could read differently is refused (RFC 9112 section 6.3): a
     * request smuggled in the body must never run. */
    if (scan.content_lengths > 1 || scan.transfer_encodings > 1 ||
        (scan.transfer_encodings && (scan.content_lengths || !scan.chunked))) {
        refuse_head(req,
                    "the body's length is ambiguous: send one Content-Length, or Transfer-Encoding: chunked alone");
        return false;
    }
    if (scan.bad) {
        refuse_head(req, "the value of a header is not UTF-8 text");
        return false;
    }
    return true;
}
