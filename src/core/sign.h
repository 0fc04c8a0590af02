/* Standard Webhooks signatures: HMAC-SHA256 over "<id>.<timestamp>.<body>" with
 * the webhook's secret (its bytes as stored), base64-encoded, as "v1,<base64>". */
#ifndef STREAMQ_CORE_SIGN_H
#define STREAMQ_CORE_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* "v1," + 44 base64 characters + NUL. */
#define SIGNATURE_LEN 48

/* Writes the signature of `body` (`len` bytes) for delivery `id` at Unix time
 * `timestamp` into `out`. */
void sign_webhook(const char *secret, const char *id, int64_t timestamp, const char *body, size_t len,
                  char out[SIGNATURE_LEN]);

#endif
