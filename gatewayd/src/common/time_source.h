// The time as a component sees it, injected: the daemon passes the real
// clocks (system_time()), unit tests a ManualTime they move by hand, so
// logic that waits, paces or expires runs in tests without a sleep.
#pragma once

#include <chrono>
#include <cstdint>

namespace gwd {

// Milliseconds since the Unix epoch, from the real-time clock (what crash
// and swap records and reading expiry are dated by).
std::int64_t system_now_ms();

class TimeSource {
public:
    using Steady = std::chrono::steady_clock;
    using Wall = std::chrono::system_clock;

    virtual ~TimeSource() = default;
    // For intervals, deadlines and pacing.
    virtual Steady::time_point now() const = 0;
    // For what the outside world dates: expiry of readings, tokens, platform timestamps.
    virtual Wall::time_point wall() const = 0;

    std::int64_t wall_ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(wall().time_since_epoch()).count();
    }
};

// The real clocks. Stateless, so sharing it is no shared state.
const TimeSource& system_time();

}  // namespace gwd
