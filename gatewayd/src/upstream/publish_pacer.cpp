#include "upstream/publish_pacer.h"

#include <algorithm>
#include <cmath>

namespace gwd {

namespace {
constexpr auto kRecovery = std::chrono::seconds(60);
constexpr double kMinRate = 1.0;
// A platform that floods us cannot grow the memory without bound: past
// this many entries, new ones join the newest.
constexpr size_t kMaxEvents = 4096;

}  // namespace

PublishPacer::PublishPacer(double rate_per_second) : configured_(rate_per_second), current_(rate_per_second) {}

int PublishPacer::allowance() const {
    if (current_ <= 0) return 0;
    return current_ >= 1.0 ? static_cast<int>(std::floor(current_)) : 1;
}

PublishPacer::Clock::duration PublishPacer::window() const {
    const double seconds = current_ >= 1.0 ? 1.0 : 1.0 / current_;
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

void PublishPacer::forget_old(Clock::time_point now) {
    const Clock::duration w = window();
    while (!sent_.empty() && sent_.front().at + w <= now) {
        sent_in_window_ -= sent_.front().cost;
        sent_.pop_front();
    }
    while (!received_.empty() && received_.front().at + 2 * w <= now) received_.pop_front();
}

int PublishPacer::own_allowance(Clock::time_point now) const {
    const int allowed = allowance();
    if (received_.empty()) return allowed;
    const Clock::duration w = window();
    int last = 0, before = 0;
    for (const Event& e : received_) {
        if (e.at + w > now)
            last += e.cost;
        else if (e.at + 2 * w > now)
            before += e.cost;
    }
    return std::max(std::max(1, allowed / 10), allowed - std::max(last, before));
}

// Quiet for a while after a quota refusal: double back toward the configured pace.
void PublishPacer::recover(Clock::time_point now) {
    if (current_ <= 0 || last_quota_ == Clock::time_point{} || now - last_quota_ < kRecovery) return;
    current_ *= 2;
    last_quota_ = now;
    if (configured_ > 0 && current_ >= configured_) current_ = configured_;
    if (configured_ == 0 && current_ > 1e6) {
        current_ = 0;  // back to unlimited
        last_quota_ = Clock::time_point{};
        sent_.clear();
        sent_in_window_ = 0;
        received_.clear();
    }
}

void PublishPacer::count_second(Clock::time_point now, int cost) {
    if (!counting_ || now - second_start_ >= std::chrono::seconds(1)) {
        last_second_ = counting_ ? in_second_ : 0;
        in_second_ = 0;
        second_start_ = now;
        counting_ = true;
    }
    in_second_ += cost;
}

void PublishPacer::record_sent(Clock::time_point now, int cost) {
    recover(now);
    count_second(now, cost);
    if (current_ <= 0) return;
    forget_old(now);
    if (sent_.size() >= kMaxEvents)
        sent_.back().cost += cost;
    else
        sent_.push_back({now, cost});
    sent_in_window_ += cost;
}

void PublishPacer::record_received(Clock::time_point now, int cost) {
    recover(now);
    if (current_ <= 0) return;
    forget_old(now);
    if (received_.size() >= kMaxEvents)
        received_.back().cost += cost;
    else
        received_.push_back({now, cost});
}

bool PublishPacer::try_take(Clock::time_point now, int cost) {
    recover(now);
    if (current_ > 0) {
        forget_old(now);
        if (sent_in_window_ + cost > own_allowance(now) && !(sent_in_window_ == 0 && cost > allowance())) return false;
    }
    record_sent(now, cost);
    return true;
}

PublishPacer::Clock::duration PublishPacer::wait(Clock::time_point now, int cost) const {
    if (current_ <= 0) return Clock::duration::zero();
    const Clock::duration w = window();
    const int allowed = own_allowance(now);
    // Ours still in the window at `now`, and when enough of them leave.
    int held = sent_in_window_;
    auto it = sent_.begin();
    while (it != sent_.end() && it->at + w <= now) held -= (it++)->cost;
    const bool oversized = cost > allowance();
    if (held + cost <= allowed || (held == 0 && oversized)) return Clock::duration::zero();
    for (; it != sent_.end(); ++it) {
        held -= it->cost;
        if (held + cost <= allowed || (held == 0 && oversized)) return it->at + w - now;
    }
    // Room depends on what the platform sent: look again when its oldest leaves.
    return received_.empty() ? w : std::max<Clock::duration>(Clock::duration(1), received_.front().at + 2 * w - now);
}

void PublishPacer::quota_exceeded(Clock::time_point now) {
    recover(now);
    const double observed = std::max(last_second_, in_second_);
    const double base = current_ > 0 ? current_ : std::max(observed, 2 * kMinRate);
    current_ = std::max(kMinRate, base / 2);
    last_quota_ = now;
    forget_old(now);
}

}  // namespace gwd
