// What --check-config asks of a plugin beyond its option specs: create() and
// destroy() of one sensor, never start(), so the plugin refuses what specs
// cannot say (two readings of one name, a register that does not fit) before
// the daemon runs. Only for plugins built for ABI 6, whose create() promises
// to read and check its options and nothing else.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "config/diagnostics.h"
#include "plugin_host/plugin_library.h"

namespace gwd {

// Adds one diagnostic per error line the plugin logged from a refusing
// create(); a line that begins with an option key ("devices[1].order: ...")
// is placed at that option's line in the file.
void check_sensor_create(const SensorConfig& sensor, const std::string& gateway_id,
                         const std::shared_ptr<PluginLibrary>& library, Duration timeout, Diagnostics& diags);

}  // namespace gwd
