/*
 * misbehaving: a polled plugin for containment tests. Each poll() emits one
 * reading "tick" with payload "<sensor> <n>". Options make it misbehave the
 * ways a real plugin can:
 *
 *   hang_in   "create" | "start" | "poll" | "stop" | "destroy" | "command":
 *             that call never returns (it sleeps forever)
 *   crash_in  "start" | "poll" | "thread": a segmentation fault there
 *             ("thread": on a thread of the plugin's own, after start)
 *   throw_in  not for C; see the host's own tests
 *   huge_emit emit from its own thread a reading whose payload_len is 2^40
 *             (the buffer is 16 bytes); logs what emit() returned
 *   emit_size emit from its own thread one reading of this many bytes
 *             (a real buffer), then log "emitted N bytes: status S"
 *   forge_log log a line with a newline, a fake log line and ANSI escapes
 *   hang_after polls that return before the one that hangs (hang_in = "poll")
 */
#include <gatewayd/plugin.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct misbehaving {
    const gwd_host_api *host;
    gwd_context *ctx;
    const char *hang_in;
    const char *crash_in;
    int huge_emit;
    int64_t emit_size;
    int forge_log;
    int64_t hang_after;
    int64_t polls;
    pthread_t thread;
    int started;
};

static const gwd_option_spec options[] = {
    {"hang_in", GWD_OPTION_STRING, 0, "the call that never returns", NULL, {0}},
    {"crash_in", GWD_OPTION_STRING, 0, "where to crash: start, poll or thread", NULL, {0}},
    {"huge_emit", GWD_OPTION_BOOL, 0, "emit a reading of 2^40 bytes from its own thread", NULL, {0}},
    {"emit_size", GWD_OPTION_INT, 0, "emit one reading of this many bytes from its own thread", NULL, {0}},
    {"forge_log", GWD_OPTION_BOOL, 0, "log a line that tries to forge another", NULL, {0}},
    {"hang_after", GWD_OPTION_INT, 0, "polls that return before the one that hangs", NULL, {0}},
    {NULL, 0, 0, NULL, NULL, {0}},
};

static int is(const char *option, const char *call)
{
    return option != NULL && strcmp(option, call) == 0;
}

static void hang(void)
{
    for (;;)
        sleep(1);
}

static int *volatile nowhere = NULL;

static void crash(void)
{
    /* A volatile global the compiler cannot see through: a write through a
     * pointer it knows is NULL is undefined behaviour, and GCC at -O1 with
     * the sanitizer flags deleted the whole branch that called crash(). */
    *nowhere = 42;
}

static int create(const gwd_host_api *host, gwd_context *ctx, void **instance)
{
    struct misbehaving *m = calloc(1, sizeof *m);
    m->host = host;
    m->ctx = ctx;
    host->option_string(ctx, "hang_in", &m->hang_in);
    host->option_string(ctx, "crash_in", &m->crash_in);
    host->option_bool(ctx, "huge_emit", &m->huge_emit);
    host->option_int(ctx, "emit_size", &m->emit_size);
    host->option_bool(ctx, "forge_log", &m->forge_log);
    host->option_int(ctx, "hang_after", &m->hang_after);
    if (is(m->hang_in, "create")) hang();
    *instance = m;
    return GWD_OK;
}

static void *run(void *arg)
{
    struct misbehaving *m = arg;
    if (is(m->crash_in, "thread")) {
        usleep(100000);
        crash();
    }
    if (m->huge_emit) {
        static const char small[16] = "not 1 TiB of it";
        gwd_reading r;
        memset(&r, 0, sizeof r);
        r.sensor = "huge";
        r.payload = small;
        r.payload_len = (size_t)1 << 40;
        const int rc = m->host->emit(m->ctx, &r);
        gwd_logf(m->host, m->ctx, GWD_LOG_NOTICE, "huge emit returned %d", rc);
    }
    if (m->emit_size > 0) {
        char *big = malloc((size_t)m->emit_size);
        if (big != NULL) {
            memset(big, 'x', (size_t)m->emit_size);
            gwd_reading r;
            memset(&r, 0, sizeof r);
            r.sensor = "big";
            r.payload = big;
            r.payload_len = (size_t)m->emit_size;
            const int rc = m->host->emit(m->ctx, &r);
            free(big);
            gwd_logf(m->host, m->ctx, GWD_LOG_NOTICE, "emitted %lld bytes: status %d", (long long)m->emit_size, rc);
        }
    }
    return NULL;
}

static int start(void *instance)
{
    struct misbehaving *m = instance;
    if (is(m->hang_in, "start")) hang();
    if (is(m->crash_in, "start")) crash();
    if (m->forge_log) {
        m->host->log(m->ctx, GWD_LOG_NOTICE,
                     "innocent\n2026-01-01T00:00:00.000Z error gatewayd: forged line \x1b[31mred\x1b[0m");
    }
    if (is(m->crash_in, "thread") || m->huge_emit || m->emit_size > 0) {
        if (pthread_create(&m->thread, NULL, run, m) != 0) return GWD_ERR_FAILED;
        m->started = 1;
    }
    return GWD_OK;
}

static int poll(void *instance)
{
    struct misbehaving *m = instance;
    if (is(m->crash_in, "poll")) crash();
    if (is(m->hang_in, "poll") && m->polls >= m->hang_after) hang();
    char payload[300];
    snprintf(payload, sizeof payload, "%s %lld", m->host->sensor_name(m->ctx), (long long)m->polls++);
    gwd_reading r;
    memset(&r, 0, sizeof r);
    r.sensor = "tick";
    r.payload = payload;
    r.payload_len = strlen(payload);
    return m->host->emit(m->ctx, &r) == GWD_OK ? GWD_OK : GWD_ERR_FAILED;
}

static void stop(void *instance)
{
    struct misbehaving *m = instance;
    if (is(m->hang_in, "stop")) hang();
    if (m->started) pthread_join(m->thread, NULL);
    m->started = 0;
}

static void destroy(void *instance)
{
    struct misbehaving *m = instance;
    if (is(m->hang_in, "destroy")) hang();
    free(m);
}

static int command(void *instance, const gwd_command *c, gwd_command_reply *reply)
{
    struct misbehaving *m = instance;
    (void)c;
    (void)reply;
    if (is(m->hang_in, "command")) hang();
    return GWD_OK;
}

static const gwd_plugin descriptor = {
    .abi_version = GWD_PLUGIN_ABI_VERSION,
    .flags = GWD_PLUGIN_POLLED,
    .name = "misbehaving",
    .version = "1.0.0",
    .description = "a plugin that hangs, crashes or floods on request, for containment tests",
    .options = options,
    .create = create,
    .start = start,
    .poll = poll,
    .stop = stop,
    .destroy = destroy,
    .command = command,
};

GWD_PLUGIN_EXPORT const gwd_plugin *gwd_plugin_entry(void)
{
    return &descriptor;
}
