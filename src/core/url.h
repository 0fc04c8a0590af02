/* Webhook target URLs: the shape streamq accepts and the --webhook-allow list.
 * Checked when a webhook is registered and again before every delivery, so a
 * narrowed allow-list applies to webhooks registered before it. */
#ifndef STREAMQ_CORE_URL_H
#define STREAMQ_CORE_URL_H

#include <stdbool.h>
#include <stddef.h>

/* Checks `url` against the allowed shape (http(s)://host[:port][/path], a host of
 * letters, digits, '-' and '.' or a bracketed IPv6 literal, a port of 1-65535, a
 * path of printable ASCII) and the comma-separated `allow` list ("" allows any
 * host; "*.example.com" matches its subdomains). Returns NULL when it passes,
 * else why not (a static string). */
const char *url_refusal(const char *url, const char *allow);

#endif
