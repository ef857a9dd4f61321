/* A plugin as built against the ABI 4 header: its option specs have the
 * shorter ABI 1-4 layout (no default, no reserved tail). The host must read
 * them with that stride, and the plugin sees no defaults. */
#include <gatewayd/plugin.h>

#include <stdlib.h>

struct option_spec_abi4 {
    const char *name;
    int type;
    int required;
    const char *help;
};

static const struct option_spec_abi4 options[] = {
    {"first", GWD_OPTION_INT, 0, "an integer"},
    {"second", GWD_OPTION_STRING, 1, "a string"},
    {"third", GWD_OPTION_BOOL, 0, "a bool"},
    {NULL, 0, 0, NULL},
};

static int create(const gwd_host_api *host, gwd_context *ctx, void **instance)
{
    (void)host;
    (void)ctx;
    *instance = NULL;
    return GWD_OK;
}

static void destroy(void *instance)
{
    (void)instance;
}

static const gwd_plugin descriptor = {
    .abi_version = 4,
    .name = "abi4_options",
    .version = "0",
    .options = (const gwd_option_spec *)options,
    .create = create,
    .destroy = destroy,
};

GWD_PLUGIN_EXPORT const gwd_plugin *gwd_plugin_entry(void)
{
    return &descriptor;
}
