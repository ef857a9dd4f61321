/* A shared object that is not a gatewayd plugin: no entry symbol. */
#include <gatewayd/plugin.h>

GWD_PLUGIN_EXPORT int some_other_function(void)
{
    return 42;
}
