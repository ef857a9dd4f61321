// Whether two configurations of a sensor or an upstream ask for the same
// thing, ignoring where in the file they were written (and, for upstreams,
// the queue bounds, which apply live). A reload restarts only what changed.
#pragma once

#include <filesystem>

#include "config/config.h"

namespace gwd {

bool same_option_values(const OptionValue& a, const OptionValue& b);
bool same_settings(const SensorConfig& a, const SensorConfig& b);
bool same_settings(const UpstreamConfig& a, const UpstreamConfig& b);

// Where the status socket lives: [gateway] runtime_dir, else systemd's
// $RUNTIME_DIRECTORY, else /run/gatewayd.
std::filesystem::path runtime_dir_of(const GatewayConfig& gateway);
std::filesystem::path status_socket_path(const GatewayConfig& gateway);

}  // namespace gwd
