#include "upstream/publish_pacer.h"

#include <algorithm>

namespace gwd {

namespace {
constexpr auto kRecovery = std::chrono::seconds(60);
constexpr double kMinRate = 1.0;
}  // namespace

PublishPacer::PublishPacer(double rate_per_second) : configured_(rate_per_second), current_(rate_per_second) {}

void PublishPacer::refill(Clock::time_point now) {
    if (!started_) {
        started_ = true;
        last_refill_ = now;
        second_start_ = now;
        tokens_ = current_ > 0 ? std::min(current_, 1.0) : 0;
        return;
    }
    // Quiet for a while after a quota refusal: double back toward the configured pace.
    if (current_ > 0 && last_quota_ != Clock::time_point{} && now - last_quota_ >= kRecovery) {
        current_ *= 2;
        last_quota_ = now;
        if (configured_ > 0 && current_ >= configured_) current_ = configured_;
        if (configured_ == 0 && current_ > 1e6) {
            current_ = 0;  // back to unlimited
            last_quota_ = Clock::time_point{};
        }
    }
    if (current_ > 0) {
        const double elapsed = std::chrono::duration<double>(now - last_refill_).count();
        // A bucket of one second's worth: bursts stay short.
        tokens_ = std::min(tokens_ + elapsed * current_, std::max(current_, 1.0));
    }
    last_refill_ = now;
    if (now - second_start_ >= std::chrono::seconds(1)) {
        last_second_ = in_second_;
        in_second_ = 0;
        second_start_ = now;
    }
}

bool PublishPacer::try_take(Clock::time_point now) {
    refill(now);
    if (current_ > 0) {
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
    }
    in_second_ += 1;
    return true;
}

PublishPacer::Clock::duration PublishPacer::wait(Clock::time_point now) const {
    if (current_ <= 0 || tokens_ >= 1.0) return Clock::duration::zero();
    const double missing = 1.0 - tokens_;
    const auto since = std::chrono::duration<double>(now - last_refill_).count();
    const double seconds = std::max(0.0, missing / current_ - since);
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

void PublishPacer::quota_exceeded(Clock::time_point now) {
    refill(now);
    const double observed = std::max(last_second_, in_second_);
    const double base = current_ > 0 ? current_ : std::max(observed, 2 * kMinRate);
    current_ = std::max(kMinRate, base / 2);
    tokens_ = std::min(tokens_, 1.0);
    last_quota_ = now;
}

}  // namespace gwd
