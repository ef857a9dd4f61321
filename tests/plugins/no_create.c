/* A descriptor without its required create function. */
#include <gatewayd/plugin.h>

static const gwd_plugin descriptor = {
    .abi_version = GWD_PLUGIN_ABI_VERSION,
    .name = "no_create",
    .version = "0",
};

GWD_PLUGIN_EXPORT const gwd_plugin *gwd_plugin_entry(void)
{
    return &descriptor;
}
