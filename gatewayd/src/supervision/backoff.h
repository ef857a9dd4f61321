// Reconnect delays: exponential with full jitter (AWS architecture blog,
// "Exponential Backoff And Jitter"), reset once a connection stayed up for
// `stable_after`. Pure: the random source and the times are arguments.
#pragma once

#include <chrono>
#include <functional>

#include "common/backoff_config.h"

namespace gwd {

class Backoff {
public:
    using Clock = std::chrono::steady_clock;

    // `uniform01` returns numbers in [0, 1).
    Backoff(BackoffConfig config, std::function<double()> uniform01);

    // The delay before the next attempt after one more failure:
    // uniform in [0, min(max, initial * 2^failures)), at least `floor`.
    Duration next_delay(Duration floor = Duration(0));

    // A connection came up at `now`.
    void connected(Clock::time_point now);
    // It went down at `now`; if it was up at least stable_after, the
    // failure count starts again from zero.
    void disconnected(Clock::time_point now);

    int failures() const { return failures_; }
    // Success by other means (an answer, not a connection): start again.
    void reset() { failures_ = 0; }
    // The upper bound the next delay will be drawn under.
    Duration ceiling() const;

private:
    BackoffConfig config_;
    std::function<double()> uniform01_;
    int failures_ = 0;
    Clock::time_point up_since_{};
    bool up_ = false;
};

}  // namespace gwd
