/* The request line and headers, checked before routing (RFC 9112, RFC 3986):
 * a target with a byte that may not appear there (or a NUL that would cut it
 * short), Host, ambiguous framing, header values that are not UTF-8 text.
 * Used by server.c only. */
#ifndef STREAMQ_HTTP_REQUEST_HEAD_H
#define STREAMQ_HTTP_REQUEST_HEAD_H

#include <microhttpd.h>
#include <stdbool.h>

#include "src/http/server.h"

/* libmicrohttpd's URI-log callback: the request starts here, with its raw
 * target checked byte by byte; returns the new struct request. */
void *http_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);
/* False when the request line's target held a NUL byte (see request_head.c). */
bool http_target_is_whole(const struct request *req, const char *version);
/* False after answering 400 (and closing the connection) when the target, the
 * Host header, the framing or a header value is refused. */
bool http_request_head_is_valid_or_reply(struct request *req, const char *version);

#endif
