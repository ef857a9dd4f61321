// The cloud-platform parts of an [[upstream]]: the defaults each profile
// brings (MQTT version, publish rate, payload limit, topic), the console
// fields of [upstream.huawei], [upstream.onenet] or [upstream.aws], the
// [[upstream.map]] entries that turn readings into platform entities, and
// the platform's limits, checked where the user sees them (--check-config).
#pragma once

#include <string>

#include "config/config.h"
#include "config/table_reader.h"

namespace gwd {

// Sets the profile's defaults on `u`, before the upstream's own keys are read.
void apply_profile_defaults(UpstreamConfig& u, const Config& config);

// Reads the profile's table and map entries and checks the platform's
// limits; errors go to the reader's diagnostics.
void read_platform_settings(TableReader& r, const std::string& label, UpstreamConfig& u, const Config& config);

}  // namespace gwd
