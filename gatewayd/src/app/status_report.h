// What `gatewayd status` prints, as text for people and JSON for scripts.
// Pure: built from snapshots, the clock is an argument.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "plugin_host/plugin_host.h"
#include "plugin_host/sensor_instance.h"
#include "upstream/upstream_status.h"

namespace gwd {

struct DaemonStatus {
    std::string version;
    std::string gateway_id;
    std::chrono::system_clock::time_point started{};
    std::vector<UpstreamStatus> upstreams;
    std::vector<SensorStatus> sensors;
    std::vector<PluginFileStatus> plugins;
};

std::string status_text(const DaemonStatus& status, std::chrono::system_clock::time_point now);
std::string status_json(const DaemonStatus& status, std::chrono::system_clock::time_point now);

// One line per upstream, for sd_notify STATUS= and the journal.
std::string status_summary(const DaemonStatus& status);

std::string_view sensor_state_name(SensorState state);

// "2026-11-22T09:15:00Z"
std::string iso8601(std::chrono::system_clock::time_point t);

}  // namespace gwd
