// Paces publishes: a token bucket at `rate` per second (0: unlimited), and
// a temporary slow-down when the broker answers PUBACK 0x97 "Quota
// exceeded": the rate halves, then grows back after a quiet minute. Pure:
// the clock is an argument.
#pragma once

#include <chrono>

namespace gwd {

class PublishPacer {
public:
    using Clock = std::chrono::steady_clock;

    explicit PublishPacer(double rate_per_second = 0);

    // True when a publish may go now (and takes its token).
    bool try_take(Clock::time_point now);
    // How long until the next token; zero when one is available.
    Clock::duration wait(Clock::time_point now) const;

    // The broker refused a publish for quota: halve the pace.
    void quota_exceeded(Clock::time_point now);

    double current_rate() const { return current_; }  // 0: unlimited

private:
    void refill(Clock::time_point now);

    double configured_;
    double current_;
    double tokens_ = 0;
    Clock::time_point last_refill_{};
    Clock::time_point last_quota_{};
    bool started_ = false;
    // Publishes in the current second, to learn the pace we were going at
    // when the first 0x97 came.
    Clock::time_point second_start_{};
    double in_second_ = 0;
    double last_second_ = 0;
};

}  // namespace gwd
