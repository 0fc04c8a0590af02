/* The cold archive's files, without the database: per stream a directory
 * (named by the SHA-256 of the stream name, so no name can escape the archive
 * directory) holding gzip-compressed NDJSON segments, each an offset range of
 * events whose lines are byte for byte the event JSON a read returns, and a
 * manifest listing them with counts and checksums. Every file is written to a
 * temporary name, fsync'd, renamed into place and its directory fsync'd: a
 * crash leaves the old file or the new one, never a torn one. Nothing here
 * locks: one writer per stream at a time (the retention worker's try-lock). */
#ifndef STREAMQ_CORE_SEGMENT_H
#define STREAMQ_CORE_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/core/text.h"
#include "src/core/util.h"

/* A segment holds at most this many uncompressed bytes (or one event, when
 * one alone is larger): reading one back on a request thread stays short. */
#define SEGMENT_MAX_BYTES (4u << 20)
#define SEGMENT_FILE_LEN 63 /* "<20 digits>-<20 digits>.ndjson.gz" and NUL, with room */

struct segment_info {
    char file[SEGMENT_FILE_LEN + 1];
    int64_t first_offset, last_offset, count;
    uint64_t bytes, compressed_bytes; /* NDJSON before and after compression */
    uint32_t crc32;                   /* of the NDJSON before compression */
};

/* A stream's manifest. `incarnation` is the stream's created_at (microseconds):
 * a stream deleted and created again starts its offsets at 0 anew, and the
 * segments of the one before must not be read as its own. */
struct manifest {
    char stream[NAME_MAX_LEN + 1];
    int64_t incarnation;
    int64_t archived_through;      /* last archived offset; -1 when none */
    struct segment_info *segments; /* owned, by offset */
    int count, cap;
};

enum archive_result {
    ARCHIVE_OK,
    ARCHIVE_MISSING, /* no manifest (nothing archived yet) */
    ARCHIVE_DAMAGED, /* a file is missing, unreadable or fails its checks; `err` says which */
};

/* An empty manifest (archived_through -1) of `stream`'s `incarnation`. */
void manifest_init(struct manifest *m, const char *stream, int64_t incarnation);
void manifest_free(struct manifest *m);
/* Appends `s` (offsets above every segment's) and moves archived_through to its end. */
void manifest_add(struct manifest *m, const struct segment_info *s);
/* The index of the first segment whose last offset is >= `offset`; m->count when none. */
int manifest_find(const struct manifest *m, int64_t offset);

/* Loads the manifest of `stream` under `root`: ARCHIVE_MISSING leaves an empty
 * one of incarnation 0. */
enum archive_result manifest_load(const char *root, const char *stream, struct manifest *m, char *err,
                                  size_t errlen) MUST_CHECK;
/* Writes `m` durably (temporary file, fsync, rename, fsync of the directory). */
bool manifest_store(const char *root, const struct manifest *m, char *err, size_t errlen) MUST_CHECK;

/* Compresses `len` bytes of NDJSON (`count` events, offsets first..last) into
 * a new segment file of `stream`, durably, and describes it in `*out`. */
bool segment_write(const char *root, const char *stream, const char *ndjson, size_t len, int64_t first, int64_t last,
                   int64_t count, struct segment_info *out, char *err, size_t errlen) MUST_CHECK;
/* Reads segment `s` of `stream` back into `out` (emptied first), checking its
 * size and checksum against the manifest's. */
enum archive_result segment_read(const char *root, const char *stream, const struct segment_info *s, struct text *out,
                                 char *err, size_t errlen) MUST_CHECK;
/* Removes segment files of `m` (an older incarnation's); errors are ignored. */
void segment_remove_all(const char *root, const struct manifest *m);

/* The offset of an event line (`"offset":` is its first member after the id and
 * the stream name, neither of which can hold that text); false when absent. */
bool segment_line_offset(const char *line, size_t len, int64_t *offset);

#endif
