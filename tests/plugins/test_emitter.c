/*
 * test_emitter: a push plugin for tests. From its own thread it emits `count`
 * readings named `sensor` with `payload`, `content_type` and `properties`
 * ("key=value" strings), as fast as emit() takes them; with `malformed` it
 * first emits every kind of malformed reading the host must refuse. Each
 * reading's payload may carry its sequence number: "{seq}" in the payload is
 * replaced by 0, 1, 2, ... and "{now}" by CLOCK_MONOTONIC in nanoseconds at the
 * emit (what bench_mqtt's subscriber measures latency from). `rate` paces the
 * stream at that many readings per second, each due at start + seq / rate.
 *
 * With `acks` every reading carries an ack_context and the plugin counts
 * the host's stored() calls; stop() waits up to 5 s for the outstanding ones
 * and logs "acks: N stored, M dropped, K outstanding". `expiry` gives each
 * reading a message expiry of its own.
 *
 * "{pid}" in the payload becomes the process id: with isolation = "process"
 * it tells the plugin processes apart. With `crash_every` N the process
 * gets SIGSEGV right after its N-th accepted reading (raised, so that a
 * sanitizer build does not stop at the bad store first).
 *
 * With `gate_file` the test decides how far the stream may go: reading
 * {seq} is emitted only once the file holds a number greater than seq (the
 * file is read again every 2 ms while the emitter waits). A test places a
 * fault at an exact point of the stream this way, whatever the machine's speed.
 */
#include <gatewayd/plugin.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct emitter {
    const gwd_host_api *host;
    gwd_context *ctx;
    int64_t count;
    const char *sensor;
    const char *payload;
    const char *content_type;
    gwd_property properties[16];
    char property_text[16][256];
    size_t property_count;
    int malformed;
    int64_t start_delay_ms;
    int64_t first_payload_size;
    int64_t every_ms;
    int64_t rate;
    int acks;
    int set_reserved;
    int64_t expiry_ms;
    const char *gate_file;
    int64_t crash_every;
    atomic_llong emitted_with_ack, stored_ok, stored_dropped;
    pthread_t thread;
    atomic_int stopping;
    int started;
};

static const gwd_option_spec options[] = {
    {"count", GWD_OPTION_INT, 0, "readings to emit", "1", {0}},
    {"sensor", GWD_OPTION_STRING, 0, "reading name (default the sensor name)", NULL, {0}},
    {"payload",
     GWD_OPTION_STRING,
     0,
     "payload; {seq} becomes the sequence number, {now} the monotonic clock in ns",
     NULL,
     {0}},
    {"content_type", GWD_OPTION_STRING, 0, "declared content type", NULL, {0}},
    {"properties", GWD_OPTION_STRING_LIST, 0, "user properties as \"key=value\"", NULL, {0}},
    {"malformed", GWD_OPTION_BOOL, 0, "emit malformed readings first", NULL, {0}},
    {"start_delay", GWD_OPTION_DURATION, 0, "wait this long before emitting", NULL, {0}},
    {"fail_create", GWD_OPTION_BOOL, 0, "make create() fail", NULL, {0}},
    {"first_payload_size", GWD_OPTION_INT, 0, "pad the first reading's payload to this many bytes", NULL, {0}},
    {"every", GWD_OPTION_DURATION, 0, "wait this long between readings (default: none)", NULL, {0}},
    {"rate",
     GWD_OPTION_INT,
     0,
     "readings per second, each due at start + seq / rate (0: as fast as emit takes them)",
     "0",
     {0}},
    {"acks", GWD_OPTION_BOOL, 0, "ask for stored() callbacks and count them", NULL, {0}},
    {"expiry", GWD_OPTION_DURATION, 0, "each reading's own message expiry", NULL, {0}},
    {"gate_file", GWD_OPTION_STRING, 0, "emit reading {seq} only once this file holds a number above seq", NULL, {0}},
    {"set_reserved", GWD_OPTION_BOOL, 0, "fill a reserved field of every reading", "false", {0}},
    {"crash_every", GWD_OPTION_INT, 0, "crash right after this many accepted readings", "0", {0}},
    {NULL, 0, 0, NULL, NULL, {0}},
};

static int create(const gwd_host_api *host, gwd_context *ctx, void **instance)
{
    int fail = 0;
    host->option_bool(ctx, "fail_create", &fail);
    if (fail) {
        host->log(ctx, GWD_LOG_ERROR, "fail_create is set: refusing to start");
        return GWD_ERR_INVALID;
    }
    struct emitter *e = calloc(1, sizeof *e);
    e->host = host;
    e->ctx = ctx;
    host->option_int(ctx, "count", &e->count); /* declared default 1 */
    host->option_bool(ctx, "set_reserved", &e->set_reserved);
    e->sensor = host->sensor_name(ctx);
    host->option_string(ctx, "sensor", &e->sensor);
    e->payload = "23.4";
    host->option_string(ctx, "payload", &e->payload);
    host->option_string(ctx, "content_type", &e->content_type);
    host->option_bool(ctx, "malformed", &e->malformed);
    host->option_duration_ms(ctx, "start_delay", &e->start_delay_ms);
    host->option_int(ctx, "first_payload_size", &e->first_payload_size);
    host->option_duration_ms(ctx, "every", &e->every_ms);
    host->option_int(ctx, "rate", &e->rate);
    if (e->rate < 0) e->rate = 0;
    host->option_bool(ctx, "acks", &e->acks);
    host->option_duration_ms(ctx, "expiry", &e->expiry_ms);
    host->option_string(ctx, "gate_file", &e->gate_file);
    host->option_int(ctx, "crash_every", &e->crash_every);
    size_t n = host->option_list_size(ctx, "properties");
    for (size_t i = 0; i < n && i < 16; ++i) {
        const char *text = NULL;
        host->option_list_string(ctx, "properties", i, &text);
        strncpy(e->property_text[i], text, 255);
        char *eq = strchr(e->property_text[i], '=');
        if (eq == NULL) {
            host->log(ctx, GWD_LOG_ERROR, "properties entries must be key=value");
            free(e);
            return GWD_ERR_INVALID;
        }
        *eq = '\0';
        e->properties[i].key = e->property_text[i];
        e->properties[i].value = eq + 1;
        e->property_count = i + 1;
    }
    *instance = e;
    return GWD_OK;
}

static void emit_malformed(struct emitter *e)
{
    gwd_reading r;
    memset(&r, 0, sizeof r);
    e->host->emit(e->ctx, NULL); /* no reading at all */
    e->host->emit(e->ctx, &r);   /* no sensor name */
    r.sensor = "bad/+/name";     /* wildcard in the name */
    e->host->emit(e->ctx, &r);
    r.sensor = "ok";
    r.payload_len = 10; /* length without payload */
    e->host->emit(e->ctx, &r);
    r.payload_len = 0;
    gwd_property bad_utf8 = {"key", "\xff\xfe"};
    r.properties = &bad_utf8; /* invalid UTF-8 property */
    r.property_count = 1;
    e->host->emit(e->ctx, &r);
    gwd_property tab = {"key", "a\tb"};
    r.properties = &tab; /* control character in a property */
    e->host->emit(e->ctx, &r);
    r.properties = NULL; /* count without properties */
    e->host->emit(e->ctx, &r);
    r.property_count = 0;
    r.timestamp_ms = -5; /* negative time */
    e->host->emit(e->ctx, &r);
}

/* The number in the gate file, or 0 while it is missing or unreadable. */
static long long read_gate(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    long long gate = 0;
    if (fscanf(f, "%lld", &gate) != 1) gate = 0;
    fclose(f);
    return gate;
}

/* `text` with "{pid}" replaced by this process's id. */
static void expand_pid(const char *text, char *out, size_t size)
{
    const char *marker = strstr(text, "{pid}");
    if (marker == NULL) {
        snprintf(out, size, "%s", text);
        return;
    }
    snprintf(out, size, "%.*s%ld%s", (int)(marker - text), text, (long)getpid(), marker + 5);
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* `pattern` with "{seq}" and "{now}" replaced, into `out`. */
static void expand(const char *pattern, long long seq, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = pattern; *p != '\0' && used + 1 < size;) {
        int n;
        if (strncmp(p, "{seq}", 5) == 0) {
            n = snprintf(out + used, size - used, "%lld", seq);
            p += 5;
        } else if (strncmp(p, "{now}", 5) == 0) {
            n = snprintf(out + used, size - used, "%lld", (long long)monotonic_ns());
            p += 5;
        } else {
            out[used] = *p++;
            out[used + 1] = '\0';
            n = 1;
        }
        if (n < 0 || (size_t)n >= size - used) break;
        used += (size_t)n;
    }
}

/* Sleeps until reading `seq` is due at `rate` per second from `start_ns`. */
static void wait_due(const struct emitter *e, int64_t start_ns, int64_t seq)
{
    const int64_t due = start_ns + seq * 1000000000 / e->rate;
    struct timespec ts = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
    while (!e->stopping && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static void *run(void *arg)
{
    struct emitter *e = arg;
    for (int64_t waited = 0; waited < e->start_delay_ms && !e->stopping; waited += 10)
        usleep(10000);
    if (e->malformed) emit_malformed(e);
    if (e->first_payload_size > 0 && !e->stopping) {
        char *big = malloc((size_t)e->first_payload_size);
        memset(big, 'x', (size_t)e->first_payload_size);
        gwd_reading r;
        memset(&r, 0, sizeof r);
        r.sensor = e->sensor;
        r.payload = big;
        r.payload_len = (size_t)e->first_payload_size;
        e->host->emit(e->ctx, &r);
        free(big);
    }
    char pattern[512];
    expand_pid(e->payload, pattern, sizeof pattern);
    char payload[512];
    int64_t accepted = 0;
    long long gate = 0;
    const int64_t start_ns = monotonic_ns();
    for (int64_t i = 0; i < e->count && !e->stopping; ++i) {
        while (e->gate_file != NULL && i >= gate && !e->stopping) {
            gate = read_gate(e->gate_file);
            if (i >= gate) usleep(2000);
        }
        if (e->rate > 0) wait_due(e, start_ns, i);
        if (e->stopping) break;
        expand(pattern, (long long)i, payload, sizeof payload);
        gwd_reading r;
        memset(&r, 0, sizeof r);
        r.sensor = e->sensor;
        r.payload = payload;
        r.payload_len = strlen(payload);
        r.content_type = e->content_type;
        r.properties = e->properties;
        r.property_count = e->property_count;
        r.message_expiry_s = (uintptr_t)(e->expiry_ms / 1000);
        if (e->acks) r.ack_context = (void *)(uintptr_t)(i + 1);
        if (e->set_reserved) r.reserved[5] = payload;
        const int rc = e->host->emit(e->ctx, &r);
        if (rc == GWD_OK && e->acks) e->emitted_with_ack++;
        if (rc == GWD_ERR_STOPPED) break;
        if (rc == GWD_OK && e->crash_every > 0 && ++accepted == e->crash_every) raise(SIGSEGV);
        for (int64_t waited = 0; waited < e->every_ms && !e->stopping; waited += 10)
            usleep(10000);
    }
    gwd_logf(e->host, e->ctx, GWD_LOG_INFO, "test_emitter finished emitting");
    return NULL;
}

static int start(void *instance)
{
    struct emitter *e = instance;
    if (pthread_create(&e->thread, NULL, run, e) != 0) return GWD_ERR_FAILED;
    e->started = 1;
    return GWD_OK;
}

static void stored(void *instance, void *ack_context, int status)
{
    struct emitter *e = instance;
    (void)ack_context;
    if (status == GWD_OK)
        e->stored_ok++;
    else
        e->stored_dropped++;
}

static void stop(void *instance)
{
    struct emitter *e = instance;
    e->stopping = 1;
    if (e->started) pthread_join(e->thread, NULL);
    e->started = 0;
    if (e->acks) {
        for (int i = 0; i < 500 && e->stored_ok + e->stored_dropped < e->emitted_with_ack; ++i)
            usleep(10000);
        gwd_logf(e->host, e->ctx, GWD_LOG_NOTICE, "acks: %lld stored, %lld dropped, %lld outstanding",
                 (long long)e->stored_ok, (long long)e->stored_dropped,
                 (long long)(e->emitted_with_ack - e->stored_ok - e->stored_dropped));
    }
}

static void destroy(void *instance)
{
    free(instance);
}

static const gwd_plugin descriptor = {
    .abi_version = GWD_PLUGIN_ABI_VERSION,
    .name = "test_emitter",
    .version = "1.0.0",
    .description = "emits configured readings for tests",
    .options = options,
    .create = create,
    .start = start,
    .stop = stop,
    .destroy = destroy,
    .stored = stored,
};

GWD_PLUGIN_EXPORT const gwd_plugin *gwd_plugin_entry(void)
{
    return &descriptor;
}
