/* Unit tests for src/core/segment.c, the cold archive's files: segments read
 * back byte for byte, manifests round-trip, damage of any kind is reported as
 * such (never read as events), and no stream name reaches outside the
 * archive directory. Each test works in a directory of its own under /tmp. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/core/json.h"
#include "src/core/segment.h"

static const char lines[] = "{\"id\":\"x\",\"stream\":\"s\",\"offset\":7,\"type\":\"A\"}\n"
                            "{\"id\":\"y\",\"stream\":\"s\",\"offset\":8,\"type\":\"B\"}\n";

static char root[64];

static void make_root(void)
{
    snprintf(root, sizeof root, "/tmp/streamq-segment-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void remove_root(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

/* The path of the only file named `suffix` under root/s-*; asserts there is one. */
static void find_file(const char *suffix, char *out, size_t size)
{
    int found = 0;
    DIR *r = opendir(root);
    ck_assert_ptr_nonnull(r);
    for (struct dirent *s; (s = readdir(r));) {
        if (s->d_name[0] == '.')
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", root, s->d_name);
        DIR *d = opendir(sub);
        ck_assert_ptr_nonnull(d);
        for (struct dirent *f; (f = readdir(d));) {
            size_t n = strlen(f->d_name), k = strlen(suffix);
            if (n >= k && !strcmp(f->d_name + n - k, suffix)) {
                snprintf(out, size, "%s/%s", sub, f->d_name);
                found++;
            }
        }
        closedir(d);
    }
    closedir(r);
    ck_assert_int_eq(found, 1);
}

static struct segment_info write_one(const char *stream)
{
    struct segment_info s;
    char err[512];
    ck_assert_msg(segment_write(root, stream, lines, strlen(lines), 7, 8, 2, &s, err, sizeof err), "%s", err);
    return s;
}

START_TEST(segment_reads_back_byte_for_byte)
{
    make_root();
    struct segment_info s = write_one("orders");
    ck_assert_int_eq(s.first_offset, 7);
    ck_assert_int_eq(s.last_offset, 8);
    ck_assert_int_eq(s.count, 2);
    ck_assert_uint_eq(s.bytes, strlen(lines));
    ck_assert_uint_gt(s.compressed_bytes, 0);
    struct text t = {0};
    char err[512];
    ck_assert_int_eq(segment_read(root, "orders", &s, &t, err, sizeof err), ARCHIVE_OK);
    ck_assert_uint_eq(t.len, strlen(lines));
    ck_assert_str_eq(t.data, lines);
    int64_t offset;
    ck_assert(segment_line_offset(t.data, t.len, &offset));
    ck_assert_int_eq(offset, 7);
    ck_assert(!segment_line_offset("{\"id\":1}", 8, &offset));
    text_free(&t);
    remove_root();
}
END_TEST

START_TEST(manifest_round_trips)
{
    make_root();
    struct manifest m, back;
    char err[512];
    ck_assert_int_eq(manifest_load(root, "orders", &back, err, sizeof err), ARCHIVE_MISSING);
    ck_assert_int_eq(back.archived_through, -1);
    manifest_free(&back);

    manifest_init(&m, "orders", 1234567);
    struct segment_info a = write_one("orders");
    manifest_add(&m, &a);
    struct segment_info b = a;
    snprintf(b.file, sizeof b.file, "%020d-%020d.ndjson.gz", 20, 29);
    b.first_offset = 20;
    b.last_offset = 29;
    b.count = 10;
    manifest_add(&m, &b);
    ck_assert(manifest_store(root, &m, err, sizeof err));
    ck_assert_int_eq(manifest_load(root, "orders", &back, err, sizeof err), ARCHIVE_OK);
    ck_assert_int_eq(back.incarnation, 1234567);
    ck_assert_int_eq(back.archived_through, 29);
    ck_assert_int_eq(back.count, 2);
    ck_assert_str_eq(back.segments[1].file, b.file);
    ck_assert_uint_eq(back.segments[0].crc32, a.crc32);
    ck_assert_int_eq(manifest_find(&back, 0), 0);
    ck_assert_int_eq(manifest_find(&back, 8), 0);
    ck_assert_int_eq(manifest_find(&back, 9), 1);
    ck_assert_int_eq(manifest_find(&back, 30), 2);
    /* Another stream's manifest is another file. */
    struct manifest other;
    ck_assert_int_eq(manifest_load(root, "orders2", &other, err, sizeof err), ARCHIVE_MISSING);
    manifest_free(&other);
    manifest_free(&back);
    manifest_free(&m);
    remove_root();
}
END_TEST

static void overwrite(const char *path, const char *contents, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(contents, 1, len, f), len);
    fclose(f);
}

START_TEST(damage_is_reported_not_read)
{
    make_root();
    struct segment_info s = write_one("orders");
    char path[1024], err[512];
    find_file(".ndjson.gz", path, sizeof path);
    struct text t = {0};

    /* One byte flipped in the compressed data. */
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, (long)s.compressed_bytes / 2, SEEK_SET);
    int c = fgetc(f);
    fseek(f, (long)s.compressed_bytes / 2, SEEK_SET);
    fputc(c ^ 0x55, f);
    fclose(f);
    ck_assert_int_eq(segment_read(root, "orders", &s, &t, err, sizeof err), ARCHIVE_DAMAGED);
    ck_assert_uint_eq(t.len, 0);
    ck_assert_ptr_nonnull(strstr(err, s.file));

    /* The manifest's checksum disagrees with a file that is whole. */
    struct segment_info wrong = write_one("orders");
    wrong.crc32 ^= 1;
    ck_assert_int_eq(segment_read(root, "orders", &wrong, &t, err, sizeof err), ARCHIVE_DAMAGED);
    ck_assert_ptr_nonnull(strstr(err, "checksum"));

    /* Truncated, then gone. */
    overwrite(path, "\x1f\x8b", 2);
    ck_assert_int_eq(segment_read(root, "orders", &s, &t, err, sizeof err), ARCHIVE_DAMAGED);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(segment_read(root, "orders", &s, &t, err, sizeof err), ARCHIVE_DAMAGED);

    /* Manifests: garbage, another stream's, a file name that leaves the directory. */
    struct manifest m;
    manifest_init(&m, "orders", 1);
    manifest_add(&m, &s);
    ck_assert(manifest_store(root, &m, err, sizeof err));
    manifest_free(&m);
    char mpath[1024];
    find_file("manifest.json", mpath, sizeof mpath);
    static const char *const bad[] = {
        "not json",
        "{\"format\":1,\"stream\":\"other\",\"incarnation\":1,\"archived_through\":-1,\"segments\":[]}",
        "{\"format\":1,\"stream\":\"orders\",\"incarnation\":1,\"archived_through\":8,\"segments\":[{\"file\":"
        "\"../../etc/passwd\",\"first_offset\":7,\"last_offset\":8,\"count\":2,\"bytes\":9,\"compressed_bytes\":9,"
        "\"crc32\":1}]}",
        "{\"format\":1,\"stream\":\"orders\",\"incarnation\":1,\"archived_through\":5,\"segments\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        overwrite(mpath, bad[i], strlen(bad[i]));
        ck_assert_msg(manifest_load(root, "orders", &m, err, sizeof err) == ARCHIVE_DAMAGED, "manifest %zu", i);
        ck_assert_int_eq(m.count, 0);
        manifest_free(&m);
    }
    text_free(&t);
    remove_root();
}
END_TEST

START_TEST(stream_names_stay_inside_the_archive)
{
    make_root();
    static const char *const names[] = {"..", ".hidden", "a:b", "..:..", "x.y-z_1"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        (void)write_one(names[i]);
    int dirs = 0;
    DIR *r = opendir(root);
    ck_assert_ptr_nonnull(r);
    for (struct dirent *s; (s = readdir(r));) {
        if (!strcmp(s->d_name, ".") || !strcmp(s->d_name, ".."))
            continue;
        ck_assert_uint_eq(strlen(s->d_name), 2 + 64);
        ck_assert_int_eq(strncmp(s->d_name, "s-", 2), 0);
        ck_assert_uint_eq(strspn(s->d_name + 2, "0123456789abcdef"), 64);
        dirs++;
    }
    closedir(r);
    ck_assert_int_eq(dirs, 5);
    remove_root();
}
END_TEST

int main(void)
{
    json_init();
    Suite *s = suite_create("segment");
    TCase *tc = tcase_create("segment");
    tcase_add_test(tc, segment_reads_back_byte_for_byte);
    tcase_add_test(tc, manifest_round_trips);
    tcase_add_test(tc, damage_is_reported_not_read);
    tcase_add_test(tc, stream_names_stay_inside_the_archive);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
