/* loadavg: the system's load average as a sensor reading.
 *
 * A complete gatewayd plugin in one file, and the example a new plugin
 * starts from (README.md walks through it). Every `interval` the host calls
 * poll(), which reads /proc/loadavg and emits one reading: the 1, 5 or
 * 15-minute average as text, with its content type and a user property
 * saying which average it is. */
#include <gatewayd/plugin.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The options a [[sensor]] may set in [sensor.options]. The host refuses a
 * sensor whose options do not match (an unknown key, a wrong type) before
 * create() runs, and the option getters return these defaults. */
static const gwd_option_spec options[] = {
    {"file", GWD_OPTION_STRING, 0, "the file to read, in the format of /proc/loadavg", "\"/proc/loadavg\"", {0}},
    {"reading", GWD_OPTION_STRING, 0, "the reading's name ({sensor} in topic templates)", "\"loadavg\"", {0}},
    {"window", GWD_OPTION_INT, 0, "which average, in minutes: 1, 5 or 15", "1", {0}},
    {NULL, 0, 0, NULL, NULL, {0}},
};

struct loadavg {
    const gwd_host_api *host;
    gwd_context *ctx;
    const char *file;    /* option strings stay valid until destroy() */
    const char *reading;
    int field;           /* 0, 1 or 2: which of the file's first three numbers */
    char window[8];      /* "1m", "5m", "15m" */
};

static int create(const gwd_host_api *host, gwd_context *ctx, void **instance)
{
    int64_t window = 1;
    host->option_int(ctx, "window", &window);
    if (window != 1 && window != 5 && window != 15) {
        gwd_logf(host, ctx, GWD_LOG_ERROR, "window = %lld: it must be 1, 5 or 15 (minutes)", (long long)window);
        return GWD_ERR_INVALID;
    }
    struct loadavg *s = calloc(1, sizeof *s);
    if (s == NULL) return GWD_ERR_NO_MEMORY;
    s->host = host;
    s->ctx = ctx;
    host->option_string(ctx, "file", &s->file);
    host->option_string(ctx, "reading", &s->reading);
    s->field = window == 1 ? 0 : window == 5 ? 1 : 2;
    snprintf(s->window, sizeof s->window, "%lldm", (long long)window);
    *instance = s;
    return GWD_OK;
}

static int start(void *instance)
{
    (void)instance; /* nothing to open: poll() reads the file each time */
    return GWD_OK;
}

/* Called from the sensor's own poll thread, once per interval. */
static int poll(void *instance)
{
    struct loadavg *s = instance;
    FILE *f = fopen(s->file, "r");
    if (f == NULL) {
        /* set_problem() (ABI 4) shows the sensor as degraded in status. */
        char why[300];
        snprintf(why, sizeof why, "cannot read %s: %s", s->file, strerror(errno));
        if (s->host->abi_version >= 4) s->host->set_problem(s->ctx, why);
        return GWD_ERR_FAILED;
    }
    char values[3][32];
    const int got = fscanf(f, "%31s %31s %31s", values[0], values[1], values[2]);
    fclose(f);
    if (got != 3) {
        if (s->host->abi_version >= 4) s->host->set_problem(s->ctx, "the file does not start with three numbers");
        return GWD_ERR_FAILED;
    }
    if (s->host->abi_version >= 4) s->host->set_problem(s->ctx, NULL);

    const gwd_property properties[] = {{"window", s->window}};
    gwd_reading r;
    memset(&r, 0, sizeof r); /* reserved fields must be zero */
    r.sensor = s->reading;
    r.payload = values[s->field];
    r.payload_len = strlen(values[s->field]);
    r.content_type = "text/plain";
    r.properties = properties;
    r.property_count = 1;
    /* The host copies the reading before emit() returns. */
    const int rc = s->host->emit(s->ctx, &r);
    return rc == GWD_OK || rc == GWD_ERR_STOPPED ? GWD_OK : rc;
}

static void destroy(void *instance)
{
    free(instance);
}

static const gwd_plugin descriptor = {
    .abi_version = GWD_PLUGIN_ABI_VERSION,
    .flags = GWD_PLUGIN_POLLED,
    .name = "loadavg",
    .version = "1.0.0",
    .description = "the system load average (/proc/loadavg) as a reading",
    .options = options,
    .create = create,
    .start = start,
    .poll = poll,
    .destroy = destroy,
};

/* The one symbol the host looks up. */
GWD_PLUGIN_EXPORT const gwd_plugin *gwd_plugin_entry(void)
{
    return &descriptor;
}
