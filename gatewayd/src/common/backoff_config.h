// Durations as the daemon counts them, and the reconnect delays an
// [upstream.backoff] table sets. Plain values, shared by the configuration
// and the connection supervisor (which mqtt_local links too).
#pragma once

#include <chrono>

namespace gwd {

using Duration = std::chrono::milliseconds;

struct BackoffConfig {
    Duration initial{1000};
    Duration max{120000};
    Duration stable_after{30000};
    Duration throttled_floor{30000};  // at least this long after "server busy", "quota exceeded", ...
    bool operator==(const BackoffConfig&) const = default;
};

}  // namespace gwd
