/* The cold archive's files; see segment.h. */
#include "src/core/segment.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "src/core/json.h"

#define MANIFEST_FILE "manifest.json"
#define MANIFEST_FORMAT 1
/* Files larger than this are refused as damaged rather than read whole. */
#define ARCHIVE_FILE_MAX (64u << 20)

struct stream_dir {
    char path[PATH_MAX - 128]; /* room left for "/" and a file name */
};

/* root/s-<sha256 of the name in hex>: fixed length, only hex digits. */
static bool stream_dir(const char *root, const char *stream, struct stream_dir *d)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(stream, strlen(stream), md, &n, EVP_sha256(), NULL))
        return false;
    int len = snprintf(d->path, sizeof d->path, "%s/s-", root);
    for (unsigned i = 0; i < n && len > 0 && (size_t)len + 2 < sizeof d->path; i++)
        len += snprintf(d->path + len, sizeof d->path - (size_t)len, "%02x", md[i]);
    return len > 0 && (size_t)len + 2 < sizeof d->path;
}

static bool fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

/* Creates the stream's directory when missing, durably (fsync of the root). */
static bool ensure_dir(const char *root, const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0755) == 0) {
        if (!fsync_dir(root)) {
            snprintf(err, errlen, "fsync %s: %s", root, strerror(errno));
            return false;
        }
        return true;
    }
    if (errno == EEXIST)
        return true;
    snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
    return false;
}

/* Writes `name` in `dir` as temporary file, fsync, rename, fsync of `dir`. */
static bool write_durably(const char *dir, const char *name, const void *data, size_t len, char *err, size_t errlen)
{
    char tmp[PATH_MAX], final[PATH_MAX];
    snprintf(final, sizeof final, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", dir, name, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "open %s: %s", tmp, strerror(errno));
        return false;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "write %s: %s", tmp, w < 0 ? strerror(errno) : "no progress");
            goto fail;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        snprintf(err, errlen, "fsync %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "close %s: %s", tmp, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, final) != 0) {
        snprintf(err, errlen, "rename %s: %s", final, strerror(errno));
        goto fail;
    }
    if (!fsync_dir(dir)) {
        snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
        return false;
    }
    return true;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return false;
}

/* Reads a whole file of at most ARCHIVE_FILE_MAX bytes; NULL with `err` set. */
static char *read_whole(const char *path, size_t *len, bool *missing, char *err, size_t errlen)
{
    *missing = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *missing = errno == ENOENT;
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > ARCHIVE_FILE_MAX) {
        snprintf(err, errlen, "%s: unreadable or larger than %u bytes", path, ARCHIVE_FILE_MAX);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *buf = xmalloc(size + 1);
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errlen, "read %s: %s", path, r < 0 ? strerror(errno) : "file shrank");
            free(buf);
            close(fd);
            return NULL;
        }
        got += (size_t)r;
    }
    close(fd);
    buf[size] = '\0';
    *len = size;
    return buf;
}

void manifest_init(struct manifest *m, const char *stream, int64_t incarnation)
{
    memset(m, 0, sizeof *m);
    snprintf(m->stream, sizeof m->stream, "%s", stream);
    m->incarnation = incarnation;
    m->archived_through = -1;
}

void manifest_free(struct manifest *m)
{
    free(m->segments);
    m->segments = NULL;
    m->count = m->cap = 0;
}

void manifest_add(struct manifest *m, const struct segment_info *s)
{
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->segments = xrealloc(m->segments, (size_t)m->cap * sizeof *m->segments);
    }
    m->segments[m->count++] = *s;
    if (s->last_offset > m->archived_through)
        m->archived_through = s->last_offset;
}

int manifest_find(const struct manifest *m, int64_t offset)
{
    int lo = 0, hi = m->count;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (m->segments[mid].last_offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool int_member(const cJSON *obj, const char *name, int64_t min, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!json_is_int(v, min, INT64_C(9007199254740991)))
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* A segment's file name: what segment_write names it, nothing else (no '/', no ".."). */
static bool segment_name_is_valid(const char *name)
{
    size_t n = strlen(name);
    if (n != 20 + 1 + 20 + strlen(".ndjson.gz") || strcmp(name + 41, ".ndjson.gz") != 0 || name[20] != '-')
        return false;
    for (size_t i = 0; i < 41; i++)
        if (i != 20 && (name[i] < '0' || name[i] > '9'))
            return false;
    return true;
}

static bool parse_segment(const cJSON *item, const struct manifest *m, struct segment_info *s)
{
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(item, "file");
    int64_t bytes, cbytes, crc;
    if (!cJSON_IsString(file) || !segment_name_is_valid(file->valuestring) ||
        !int_member(item, "first_offset", 0, &s->first_offset) ||
        !int_member(item, "last_offset", s->first_offset, &s->last_offset) ||
        !int_member(item, "count", 1, &s->count) || !int_member(item, "bytes", 1, &bytes) ||
        !int_member(item, "compressed_bytes", 1, &cbytes) || !int_member(item, "crc32", 0, &crc) || crc > UINT32_MAX ||
        bytes > ARCHIVE_FILE_MAX * 4 || s->count > s->last_offset - s->first_offset + 1)
        return false;
    if (m->count > 0 && s->first_offset <= m->segments[m->count - 1].last_offset)
        return false; /* segments are listed by offset and never overlap */
    snprintf(s->file, sizeof s->file, "%s", file->valuestring);
    s->bytes = (uint64_t)bytes;
    s->compressed_bytes = (uint64_t)cbytes;
    s->crc32 = (uint32_t)crc;
    return true;
}

enum archive_result manifest_load(const char *root, const char *stream, struct manifest *m, char *err, size_t errlen)
{
    struct stream_dir d;
    char path[PATH_MAX];
    manifest_init(m, stream, 0);
    if (!stream_dir(root, stream, &d)) {
        snprintf(err, errlen, "archive path of stream %s too long", stream);
        return ARCHIVE_DAMAGED;
    }
    snprintf(path, sizeof path, "%s/%s", d.path, MANIFEST_FILE);
    size_t len;
    bool missing;
    char *text = read_whole(path, &len, &missing, err, errlen);
    if (!text)
        return missing ? ARCHIVE_MISSING : ARCHIVE_DAMAGED;
    cJSON *doc = json_parse(text, len);
    free(text);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "stream");
    const cJSON *segs = cJSON_GetObjectItemCaseSensitive(doc, "segments");
    int64_t format, through;
    bool ok = doc && int_member(doc, "format", 1, &format) && format == MANIFEST_FORMAT && cJSON_IsString(name) &&
              !strcmp(name->valuestring, stream) && int_member(doc, "incarnation", 0, &m->incarnation) &&
              int_member(doc, "archived_through", -1, &through) && cJSON_IsArray(segs);
    for (const cJSON *item = ok ? segs->child : NULL; item && ok; item = item->next) {
        struct segment_info s;
        ok = cJSON_IsObject(item) && parse_segment(item, m, &s);
        if (ok)
            manifest_add(m, &s);
    }
    ok = ok && m->archived_through == through;
    cJSON_Delete(doc);
    if (!ok) {
        snprintf(err, errlen, "%s: not a valid manifest of stream %s", path, stream);
        manifest_free(m);
        manifest_init(m, stream, 0);
        return ARCHIVE_DAMAGED;
    }
    return ARCHIVE_OK;
}

bool manifest_store(const char *root, const struct manifest *m, char *err, size_t errlen)
{
    struct stream_dir d;
    if (!stream_dir(root, m->stream, &d)) {
        snprintf(err, errlen, "archive path of stream %s too long", m->stream);
        return false;
    }
    if (!ensure_dir(root, d.path, err, errlen))
        return false;
    struct text t = {0};
    text_printf(&t, "{\"format\":%d,\"stream\":", MANIFEST_FORMAT);
    text_json_string(&t, m->stream);
    text_printf(&t, ",\"incarnation\":%" PRId64 ",\"archived_through\":%" PRId64 ",\"segments\":[", m->incarnation,
                m->archived_through);
    for (int i = 0; i < m->count; i++) {
        const struct segment_info *s = &m->segments[i];
        text_printf(&t,
                    "%s\n{\"file\":\"%s\",\"first_offset\":%" PRId64 ",\"last_offset\":%" PRId64 ",\"count\":%" PRId64
                    ",\"bytes\":%" PRIu64 ",\"compressed_bytes\":%" PRIu64 ",\"crc32\":%" PRIu32 "}",
                    i ? "," : "", s->file, s->first_offset, s->last_offset, s->count, s->bytes, s->compressed_bytes,
                    s->crc32);
    }
    text_cstr(&t, "]}\n");
    bool ok = write_durably(d.path, MANIFEST_FILE, t.data, t.len, err, errlen);
    text_free(&t);
    return ok;
}

bool segment_write(const char *root, const char *stream, const char *ndjson, size_t len, int64_t first, int64_t last,
                   int64_t count, struct segment_info *out, char *err, size_t errlen)
{
    struct stream_dir d;
    if (!stream_dir(root, stream, &d)) {
        snprintf(err, errlen, "archive path of stream %s too long", stream);
        return false;
    }
    if (!ensure_dir(root, d.path, err, errlen))
        return false;
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip member, so that `zcat` reads a segment too. */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        snprintf(err, errlen, "deflateInit2 failed");
        return false;
    }
    uLong cap = deflateBound(&z, (uLong)len);
    unsigned char *buf = xmalloc(cap);
    z.next_in = (Bytef *)(uintptr_t)ndjson;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t clen = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        snprintf(err, errlen, "deflate failed (%d)", rc);
        free(buf);
        return false;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->file, sizeof out->file, "%020" PRId64 "-%020" PRId64 ".ndjson.gz", first, last);
    out->first_offset = first;
    out->last_offset = last;
    out->count = count;
    out->bytes = len;
    out->compressed_bytes = clen;
    out->crc32 = (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)ndjson, (uInt)len);
    bool ok = write_durably(d.path, out->file, buf, clen, err, errlen);
    free(buf);
    return ok;
}

enum archive_result segment_read(const char *root, const char *stream, const struct segment_info *s, struct text *out,
                                 char *err, size_t errlen)
{
    struct stream_dir d;
    char path[PATH_MAX];
    out->len = 0;
    if (!stream_dir(root, stream, &d)) {
        snprintf(err, errlen, "archive path of stream %s too long", stream);
        return ARCHIVE_DAMAGED;
    }
    snprintf(path, sizeof path, "%s/%s", d.path, s->file);
    size_t clen;
    bool missing;
    char *comp = read_whole(path, &clen, &missing, err, errlen);
    if (!comp)
        return ARCHIVE_DAMAGED;
    enum archive_result result = ARCHIVE_DAMAGED;
    if (clen != s->compressed_bytes) {
        snprintf(err, errlen, "%s: %zu bytes, the manifest says %" PRIu64, path, clen, s->compressed_bytes);
        goto out;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        snprintf(err, errlen, "inflateInit2 failed");
        goto out;
    }
    out->len = 0;
    text_put(out, "", 0);
    if (out->cap < s->bytes + 1) {
        out->data = xrealloc(out->data, (size_t)s->bytes + 1);
        out->cap = (size_t)s->bytes + 1;
    }
    z.next_in = (Bytef *)comp;
    z.avail_in = (uInt)clen;
    z.next_out = (Bytef *)out->data;
    z.avail_out = (uInt)s->bytes;
    int rc = inflate(&z, Z_FINISH);
    size_t got = z.total_out;
    bool at_end = rc == Z_STREAM_END && z.avail_in == 0;
    inflateEnd(&z);
    if (!at_end || got != s->bytes) {
        snprintf(err, errlen, "%s: does not decompress to the %" PRIu64 " bytes the manifest says", path, s->bytes);
        goto out;
    }
    if ((uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)out->data, (uInt)got) != s->crc32) {
        snprintf(err, errlen, "%s: checksum mismatch", path);
        goto out;
    }
    out->len = got;
    out->data[got] = '\0';
    result = ARCHIVE_OK;
out:
    if (result != ARCHIVE_OK)
        out->len = 0;
    free(comp);
    return result;
}

void segment_remove_all(const char *root, const struct manifest *m)
{
    struct stream_dir d;
    if (!stream_dir(root, m->stream, &d))
        return;
    for (int i = 0; i < m->count; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", d.path, m->segments[i].file);
        unlink(path);
    }
}

bool segment_line_offset(const char *line, size_t len, int64_t *offset)
{
    static const char key[] = "\"offset\":";
    const char *end = line + len;
    const char *p = memmem(line, len, key, sizeof key - 1);
    if (!p)
        return false;
    p += sizeof key - 1;
    int64_t v = 0;
    const char *digits = p;
    while (p < end && *p >= '0' && *p <= '9' && p - digits < 18)
        v = v * 10 + (*p++ - '0');
    if (p == digits)
        return false;
    *offset = v;
    return true;
}
