/* `streamq token --scope read|write|admin [--label L] [--prefix P]`: prints a
 * new random bearer token and the tokens-file line that admits it. */
#ifndef STREAMQ_TOKEN_COMMAND_H
#define STREAMQ_TOKEN_COMMAND_H

#include <stdio.h>

/* `argv[0]` is "token"; returns the process exit status. */
int token_command(int argc, char **argv, FILE *out, FILE *err);

#endif
