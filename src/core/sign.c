/* Webhook signatures; see sign.h. */
#include "src/core/sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/util.h"

void sign_webhook(const char *secret, const char *id, int64_t timestamp, const char *body, size_t len,
                  char out[SIGNATURE_LEN])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char prefix[128];
    int n = snprintf(prefix, sizeof prefix, "%s.%lld.", id, (long long)timestamp);
    char *signed_text = xmalloc((size_t)n + len);
    memcpy(signed_text, prefix, (size_t)n);
    memcpy(signed_text + n, body, len);
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)signed_text, (size_t)n + len, mac,
              &mac_len))
        mac_len = 0;
    free(signed_text);
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mac_len);
}
