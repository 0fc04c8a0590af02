/* The browser console (web/, compiled in by tools/embed.c): its page and the
 * files it loads, each with its content type, an ETag of its bytes and a
 * Content-Security-Policy that lets it load nothing but these files and talk to
 * nothing but this service. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "routes/routes.h"
#include "src/core/embedded.h"
#include "src/http/problem.h"

#define CONSOLE_PAGE "index.html"
#define CONSOLE_MAX_FILES 32

/* Only this origin's own scripts, styles, images and API; no inline script or
 * style, no frames, no form posts; DOM sinks that take strings (innerHTML, …)
 * are refused outright, as the console builds its DOM node by node. */
static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
                          "require-trusted-types-for 'script'";

static char etags[CONSOLE_MAX_FILES][20];
static pthread_once_t etags_once = PTHREAD_ONCE_INIT;

/* FNV-1a of each file's bytes: the tag changes with the binary's copy of the
 * file, which is all a cache needs to know. Made on the first console request. */
static void make_etags(void)
{
    for (int i = 0; embedded_console[i].name && i < CONSOLE_MAX_FILES; i++) {
        uint64_t h = 0xcbf29ce484222325ull;
        for (size_t k = 0; k < embedded_console[i].len; k++)
            h = (h ^ (unsigned char)embedded_console[i].text[k]) * 0x100000001b3ull;
        snprintf(etags[i], sizeof etags[i], "\"%016llx\"", (unsigned long long)h);
    }
}

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < ARRAY_LEN(types); i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

static void reply_file(struct request *req, int i)
{
    pthread_once(&etags_once, make_etags);
    const struct embedded_file *f = &embedded_console[i];
    http_set_header(req, MHD_HTTP_HEADER_ETAG, etags[i]);
    /* Revalidated on every load: a new binary may bring new files under the same names. */
    http_set_header(req, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    http_set_header(req, "Content-Security-Policy", CSP);
    http_set_header(req, "X-Content-Type-Options", "nosniff");
    http_set_header(req, "Referrer-Policy", "no-referrer");
    const char *none_match = http_header(req, "If-None-Match");
    if (none_match && route_etag_listed(none_match, etags[i]))
        http_reply_empty(req, 304);
    else
        http_reply_static(req, 200, content_type(f->name), f->text, f->len);
}

static int find_file(const char *name)
{
    for (int i = 0; embedded_console[i].name && i < CONSOLE_MAX_FILES; i++)
        if (!strcmp(embedded_console[i].name, name))
            return i;
    return -1;
}

void route_console_page(struct request *req)
{
    int i = find_file(CONSOLE_PAGE);
    if (i < 0) {
        problem_reply_internal(req);
        return;
    }
    reply_file(req, i);
}

void route_console_asset(struct request *req)
{
    const char *file = http_param(req, "file");
    if (file && !*file) {
        /* /console/ would resolve the page's relative links one level too deep. */
        http_set_header(req, MHD_HTTP_HEADER_LOCATION, "../console");
        http_reply_empty(req, 308);
        return;
    }
    /* The page itself is served at /console only, where its relative links resolve. */
    int i = file && strcmp(file, CONSOLE_PAGE) ? find_file(file) : -1;
    if (i < 0) {
        problem_reply(req, 404, "not_found", "the console has no file %s", file ? file : "(undecodable)");
        return;
    }
    reply_file(req, i);
}
