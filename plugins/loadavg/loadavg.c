/* loadavg: the system's load average as a sensor reading.
 *
 * A complete gatewayd plugin in one file, and the example a new plugin
 * starts from (README.md walks through it). Every `interval` the host calls
 * the poll callback, which reads /proc/loadavg and emits one reading: the 1,
 * 5 or 15-minute average as text, with its content type and a user property
 * saying which average it is. */
#include <gatewayd/plugin.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The options a [[sensor]] may set in [sensor.options]. The host refuses a
 * sensor whose options do not match (an unknown key, a wrong type) before
 * create runs, and the option getters return these defaults. */
static const gwd_option_spec options[] = {
    {"file", GWD_OPTION_STRING, 0, "the file to read, in the format of /proc/loadavg", "\"/proc/loadavg\"", {0}},
    {"reading", GWD_OPTION_STRING, 0, "the reading's name ({sensor} in topic templates)", "\"loadavg\"", {0}},
    {"window", GWD_OPTION_INT, 0, "which average, in minutes: 1, 5 or 15", "1", {0}},
    {NULL, 0, 0, NULL, NULL, {0}},
};

struct loadavg {
    const gwd_host_api *host;
    gwd_context *ctx;
    const char *file; /* option strings stay valid until destroy */
    const char *reading;
    int field;         /* 0, 1 or 2: which of the file's first three numbers */
    char window[8];    /* "1m", "5m", "15m" */
    char problem[300]; /* what went wrong at the last poll; "" when it worked */
};

static int loadavg_create(const gwd_host_api *host, gwd_context *ctx, void **instance)
{
    int64_t window = 1;
    const char *file = NULL, *reading = NULL;
    /* Every option has a default, so these only fail on a broken host. */
    if (host->option_int(ctx, "window", &window) != GWD_OK || host->option_string(ctx, "file", &file) != GWD_OK ||
        host->option_string(ctx, "reading", &reading) != GWD_OK) {
        gwd_logf(host, ctx, GWD_LOG_ERROR, "the host gave no value for an option with a default");
        return GWD_ERR_FAILED;
    }
    if (window != 1 && window != 5 && window != 15) {
        gwd_logf(host, ctx, GWD_LOG_ERROR, "window = %lld: it must be 1, 5 or 15 (minutes)", (long long)window);
        return GWD_ERR_INVALID;
    }
    struct loadavg *s = calloc(1, sizeof *s);
    if (s == NULL) return GWD_ERR_NO_MEMORY;
    s->host = host;
    s->ctx = ctx;
    s->file = file;
    s->reading = reading;
    s->field = window == 1 ? 0 : window == 5 ? 1 : 2;
    snprintf(s->window, sizeof s->window, "%lldm", (long long)window);
    *instance = s;
    return GWD_OK;
}

/* Says what went wrong (or that it works again) once, not at every poll:
 * in the log, and in `gatewayd status` (set_problem, ABI 4) as "degraded". */
static void loadavg_report(struct loadavg *s, const char *problem)
{
    if (strcmp(s->problem, problem) == 0) return;
    if (problem[0] != '\0')
        gwd_logf(s->host, s->ctx, GWD_LOG_WARNING, "%s", problem);
    else
        gwd_logf(s->host, s->ctx, GWD_LOG_NOTICE, "%s can be read again", s->file);
    snprintf(s->problem, sizeof s->problem, "%s", problem);
    if (s->host->abi_version >= 4) s->host->set_problem(s->ctx, problem[0] != '\0' ? problem : NULL);
}

/* Called from the sensor's own poll thread, once per interval. */
static int loadavg_poll(void *instance)
{
    struct loadavg *s = instance;
    char problem[300];
    FILE *f = fopen(s->file, "r");
    if (f == NULL) {
        char why[128] = "unknown error";
        strerror_r(errno, why, sizeof why); /* thread-safe: other sensors poll at the same time */
        snprintf(problem, sizeof problem, "cannot read %s: %s", s->file, why);
        loadavg_report(s, problem);
        return GWD_ERR_FAILED;
    }
    char values[3][32];
    const int got = fscanf(f, "%31s %31s %31s", values[0], values[1], values[2]);
    fclose(f);
    char *end = NULL;
    if (got == 3) strtod(values[s->field], &end);
    if (got != 3 || end == values[s->field] || *end != '\0') {
        snprintf(problem, sizeof problem, "%s does not start with three numbers", s->file);
        loadavg_report(s, problem);
        return GWD_ERR_FAILED;
    }
    loadavg_report(s, "");

    const gwd_property properties[] = {{"window", s->window}};
    gwd_reading r;
    memset(&r, 0, sizeof r); /* reserved fields must be zero */
    r.sensor = s->reading;
    r.payload = values[s->field];
    r.payload_len = strlen(values[s->field]);
    r.content_type = "text/plain";
    r.properties = properties;
    r.property_count = 1;
    /* The host copies the reading before emit returns. A refused reading is
     * logged and counted by the host; GWD_ERR_STOPPED only means a stop came. */
    const int rc = s->host->emit(s->ctx, &r);
    return rc == GWD_OK || rc == GWD_ERR_STOPPED ? GWD_OK : rc;
}

static void loadavg_destroy(void *instance)
{
    free(instance);
}

static const gwd_plugin descriptor = {
    .abi_version = GWD_PLUGIN_ABI_VERSION,
    .flags = GWD_PLUGIN_POLLED,
    .name = "loadavg", /* the file is loadavg.so: plugin = "loadavg" */
    .version = "1.0.0",
    .description = "the system load average (/proc/loadavg) as a reading",
    .options = options,
    .create = loadavg_create,
    .poll = loadavg_poll,
    .destroy = loadavg_destroy,
};

/* The one symbol the host looks up. */
GWD_PLUGIN_EXPORT const gwd_plugin *gwd_plugin_entry(void)
{
    return &descriptor;
}
