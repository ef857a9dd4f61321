#include "supervision/backoff.h"

#include <algorithm>

namespace gwd {

Backoff::Backoff(BackoffConfig config, std::function<double()> uniform01)
    : config_(config), uniform01_(std::move(uniform01)) {}

Duration Backoff::ceiling() const {
    // Doubling stops well before overflow: 2^20 * initial exceeds any sane max.
    const int exponent = std::min(failures_, 20);
    const auto grown = config_.initial * (std::int64_t{1} << exponent);
    return std::min(grown, config_.max);
}

Duration Backoff::next_delay(Duration floor) {
    const Duration cap = ceiling();
    ++failures_;
    const double r = std::clamp(uniform01_(), 0.0, 1.0);
    const auto jittered = Duration(static_cast<std::int64_t>(r * static_cast<double>(cap.count())));
    return std::max(jittered, floor);
}

void Backoff::connected(Clock::time_point now) {
    up_ = true;
    up_since_ = now;
}

void Backoff::disconnected(Clock::time_point now) {
    if (up_ && now - up_since_ >= config_.stable_after) failures_ = 0;
    up_ = false;
}

}  // namespace gwd
