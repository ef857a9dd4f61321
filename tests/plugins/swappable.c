/* swappable: a polled plugin built in several versions, for the hot-swap
 * tests. Each poll emits one reading "swap" with the payload
 * "<label> <version> <n>". Compile-time variants:
 *   SWAP_VERSION   the version string ("1.0.0", "2.0.0")
 *   SWAP_VARIANT   0: works; 1: declares no options (so a sensor with
 *                  `label` is refused); 2: start() fails; 3: built for an
 *                  ABI this gatewayd does not know; 4: poll() crashes
 *                  (a null write) on its first call
 * Payloads end with the process id (readings of one run of the daemon can
 * be told from the next one's) and the wall-clock time of the poll in ms. */
#include <gatewayd/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SWAP_VERSION
#define SWAP_VERSION "1.0.0"
#endif
#ifndef SWAP_VARIANT
#define SWAP_VARIANT 0
#endif

struct swappable {
    const gwd_host_api *host;
    gwd_context *ctx;
    const char *label;
    long long polls;
};

#if SWAP_VARIANT == 1
static const gwd_option_spec options[] = {
    {NULL, 0, 0, NULL, NULL, {0}},
};
#else
static const gwd_option_spec options[] = {
    {"label", GWD_OPTION_STRING, 0, "first word of every payload", "\"s\"", {0}},
    {NULL, 0, 0, NULL, NULL, {0}},
};
#endif

static int create(const gwd_host_api *host, gwd_context *ctx, void **instance)
{
    struct swappable *s = calloc(1, sizeof *s);
    if (s == NULL) return GWD_ERR_NO_MEMORY;
    s->host = host;
    s->ctx = ctx;
    s->label = "s";
#if SWAP_VARIANT != 1
    host->option_string(ctx, "label", &s->label);
#endif
    *instance = s;
    return GWD_OK;
}

static int start(void *instance)
{
    struct swappable *s = instance;
#if SWAP_VARIANT == 2
    gwd_logf(s->host, s->ctx, GWD_LOG_ERROR, "version %s cannot start (on purpose)", SWAP_VERSION);
    return GWD_ERR_FAILED;
#else
    (void)s;
    return GWD_OK;
#endif
}

#if SWAP_VARIANT == 4
/* Volatile: the compiler may not delete a write it cannot see is to NULL. */
static int *volatile nowhere = NULL;
#endif

static int poll(void *instance)
{
    struct swappable *s = instance;
#if SWAP_VARIANT == 4
    *nowhere = 42;
#endif
    char payload[300];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(payload, sizeof payload, "%s %s %lld %ld %lld", s->label, SWAP_VERSION, s->polls++, (long)getpid(),
             (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    gwd_reading r = {0};
    r.sensor = "swap";
    r.payload = payload;
    r.payload_len = strlen(payload);
    return s->host->emit(s->ctx, &r) == GWD_OK ? GWD_OK : GWD_ERR_FAILED;
}

static void destroy(void *instance)
{
    free(instance);
}

static const gwd_plugin descriptor = {
#if SWAP_VARIANT == 3
    .abi_version = 99,
#else
    .abi_version = GWD_PLUGIN_ABI_VERSION,
#endif
    .flags = GWD_PLUGIN_POLLED,
    .name = "swappable",
    .version = SWAP_VERSION,
    .description = "a polled plugin in several versions, for the hot-swap tests",
    .options = options,
    .create = create,
    .start = start,
    .poll = poll,
    .destroy = destroy,
};

GWD_PLUGIN_EXPORT const gwd_plugin *gwd_plugin_entry(void)
{
    return &descriptor;
}
