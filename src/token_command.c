/* `streamq token`; see token_command.h. */
#include "src/token_command.h"

#include <string.h>

#include "src/http/auth.h"

static int usage(FILE *err, const char *why)
{
    fprintf(err, "streamq token: %s\nusage: streamq token --scope read|write|admin [--label L] [--prefix P]\n", why);
    return 2;
}

int token_command(int argc, char **argv, FILE *out, FILE *err)
{
    const char *scope = NULL, *label = NULL, *prefix = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slot = !strcmp(argv[i], "--scope")    ? &scope
                            : !strcmp(argv[i], "--label")  ? &label
                            : !strcmp(argv[i], "--prefix") ? &prefix
                                                           : NULL;
        if (!slot)
            return usage(err, "unknown argument");
        if (i + 1 >= argc)
            return usage(err, "an option needs a value");
        *slot = argv[++i];
    }
    if (!scope)
        return usage(err, "--scope is required");
    char token[AUTH_TOKEN_LEN + 1], line[512], why[256];
    auth_token_new(token);
    if (!auth_token_line(token, auth_scope_parse(scope), label, prefix, line, sizeof line, why, sizeof why))
        return usage(err, why);
    fprintf(out, "token: %s\nline for the tokens file (only the hash is stored; the token is shown this once):\n%s\n",
            token, line);
    return 0;
}
