/* A plugin built for an ABI revision this gatewayd does not know. */
#include <gatewayd/plugin.h>

#include <stdlib.h>

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
    .abi_version = 99,
    .name = "wrong_abi",
    .version = "0",
    .create = create,
    .destroy = destroy,
};

GWD_PLUGIN_EXPORT const gwd_plugin *gwd_plugin_entry(void)
{
    return &descriptor;
}
