/* Text or JSON log lines on stderr; see log.h. */
#include "src/core/log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "src/core/text.h"
#include "src/core/util.h"

static enum log_format log_fmt = LOG_FORMAT_TEXT;
static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* A buffer of whole lines is written when it holds this much, so a busy thread
 * makes one write(2) per ~100 access lines instead of one per request. */
#define LOG_BUFFER_FLUSH_AT (16 * 1024)
#define LOG_FLUSH_INTERVAL_MS 100

/* One per thread that logs. `lock` is taken by its thread to add a line and by
 * log_flush(); it is never contended for long, as nothing waits while holding it
 * except the write of the buffer itself. */
struct log_buffer {
    pthread_mutex_t lock;
    struct text lines; /* whole lines, each ending in '\n' */
    struct log_buffer *prev, *next;
};

static pthread_mutex_t buffers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_buffer *buffers;
/* Held around every write to stderr, so that a buffer of lines goes out whole
 * even when the kernel splits it (pipes beyond PIPE_BUF, partial writes). */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t buffer_key;
static _Thread_local struct log_buffer *mine;

static void write_all(const char *data, size_t len)
{
    pthread_mutex_lock(&write_lock);
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* nowhere to report it */
        data += n;
        len -= (size_t)n;
    }
    pthread_mutex_unlock(&write_lock);
}

/* Called with b->lock held. */
static void write_out_locked(struct log_buffer *b)
{
    if (b->lines.len == 0)
        return;
    write_all(b->lines.data, b->lines.len);
    b->lines.len = 0;
}

/* A thread's buffer is written and released when the thread ends, so that the
 * lines of a finished thread are never left behind. */
static void buffer_release(void *arg)
{
    struct log_buffer *b = arg;
    pthread_mutex_lock(&buffers_lock);
    if (b->prev)
        b->prev->next = b->next;
    else
        buffers = b->next;
    if (b->next)
        b->next->prev = b->prev;
    pthread_mutex_unlock(&buffers_lock);
    pthread_mutex_lock(&b->lock);
    write_out_locked(b);
    pthread_mutex_unlock(&b->lock);
    pthread_mutex_destroy(&b->lock);
    text_free(&b->lines);
    free(b);
    mine = NULL;
}

static void key_create(void)
{
    pthread_key_create(&buffer_key, buffer_release);
}

static struct log_buffer *my_buffer(void)
{
    if (mine)
        return mine;
    pthread_once(&key_once, key_create);
    struct log_buffer *b = xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
    pthread_mutex_lock(&buffers_lock);
    b->next = buffers;
    if (buffers)
        buffers->prev = b;
    buffers = b;
    pthread_mutex_unlock(&buffers_lock);
    pthread_setspecific(buffer_key, b);
    mine = b;
    return b;
}

void log_flush(void)
{
    pthread_mutex_lock(&buffers_lock);
    for (struct log_buffer *b = buffers; b; b = b->next) {
        pthread_mutex_lock(&b->lock);
        write_out_locked(b);
        pthread_mutex_unlock(&b->lock);
    }
    pthread_mutex_unlock(&buffers_lock);
}

void log_init(enum log_format format, enum log_level level)
{
    static bool registered;
    log_fmt = format;
    log_min = level;
    /* Whatever ends the process through exit() still writes what is buffered. */
    if (!registered)
        registered = atexit(log_flush) == 0;
}

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stopping;
} flusher = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&flusher.lock);
    while (!flusher.stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += LOG_FLUSH_INTERVAL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&flusher.wake, &flusher.lock, &until);
        pthread_mutex_unlock(&flusher.lock);
        log_flush();
        pthread_mutex_lock(&flusher.lock);
    }
    pthread_mutex_unlock(&flusher.lock);
    return NULL;
}

bool log_flusher_start(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_destroy(&flusher.wake);
    pthread_cond_init(&flusher.wake, &attr);
    pthread_condattr_destroy(&attr);
    /* The flusher takes no signals: they belong to whoever waits for them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    flusher.stopping = false;
    flusher.running = pthread_create(&flusher.thread, NULL, flusher_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return flusher.running;
}

void log_flusher_stop(void)
{
    if (flusher.running) {
        pthread_mutex_lock(&flusher.lock);
        flusher.stopping = true;
        pthread_cond_signal(&flusher.wake);
        pthread_mutex_unlock(&flusher.lock);
        pthread_join(flusher.thread, NULL);
        flusher.running = false;
    }
    log_flush();
}

static void put_time(struct text *line)
{
    char ts[RFC3339_LEN + 1];
    text_put(line, ts, rfc3339_format(wall_usec(), ts));
}

/* "%.3f" of duration_us / 1000.0, without the floating-point formatter: the
 * value has exactly three decimals, so the digits are those of the integer. */
static void put_millis(struct text *line, int64_t duration_us)
{
    if (duration_us < 0) {
        text_printf(line, "%.3f", (double)duration_us / 1000.0);
        return;
    }
    char frac[4] = {(char)('0' + duration_us / 100 % 10), (char)('0' + duration_us / 10 % 10),
                    (char)('0' + duration_us % 10), '\0'};
    text_int(line, duration_us / 1000);
    text_put(line, ".", 1);
    text_put(line, frac, 3);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < log_min)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* After this thread's buffered lines, so that a thread's lines keep their order;
     * written at once, as a warning or an error may be the last thing said. */
    struct log_buffer *b = my_buffer();
    pthread_mutex_lock(&b->lock);
    struct text *line = &b->lines;
    if (log_fmt == LOG_FORMAT_JSON) {
        text_cstr(line, "{\"ts\":");
        text_json_time(line, wall_usec());
        text_printf(line, ",\"level\":\"%s\",\"msg\":", level_names[level]);
        text_json_string(line, msg);
        text_put(line, "}", 1);
    } else {
        put_time(line);
        text_printf(line, " %s %s", level_names[level], msg);
    }
    text_put(line, "\n", 1);
    write_out_locked(b);
    pthread_mutex_unlock(&b->lock);
}

void log_request(const char *request_id, const char *method, const char *route, int status, int64_t duration_us,
                 const char *who)
{
    if (LOG_INFO < log_min)
        return;
    struct log_buffer *b = my_buffer();
    pthread_mutex_lock(&b->lock);
    struct text *line = &b->lines;
    if (log_fmt == LOG_FORMAT_JSON) {
        text_cstr(line, "{\"ts\":");
        text_json_time(line, wall_usec());
        text_cstr(line, ",\"level\":\"info\",\"request_id\":");
        text_json_string(line, request_id);
        text_cstr(line, ",\"method\":");
        text_json_string(line, method);
        text_cstr(line, ",\"route\":");
        text_json_string(line, route);
        text_cstr(line, ",\"status\":");
        text_int(line, status);
        text_cstr(line, ",\"duration_ms\":");
        put_millis(line, duration_us);
        if (who) {
            text_cstr(line, ",\"token\":");
            text_json_string(line, who);
        }
        text_put(line, "}\n", 2);
    } else {
        put_time(line);
        text_cstr(line, " info ");
        text_cstr(line, request_id);
        text_put(line, " ", 1);
        text_cstr(line, method);
        text_put(line, " ", 1);
        text_cstr(line, route);
        text_put(line, " ", 1);
        text_int(line, status);
        text_put(line, " ", 1);
        put_millis(line, duration_us);
        text_put(line, "ms", 2);
        if (who) {
            text_cstr(line, " token=");
            text_cstr(line, who);
        }
        text_put(line, "\n", 1);
    }
    if (b->lines.len >= LOG_BUFFER_FLUSH_AT)
        write_out_locked(b);
    pthread_mutex_unlock(&b->lock);
}
