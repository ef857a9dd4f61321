// Paces publishes so that no window of one second holds more than the
// allowed number (a sliding window, not a token bucket: a full bucket plus
// a second of refill would let twice the rate through in one second, and
// AWS IoT Core discards what goes over its 100/s). Rates under 1/s get a
// window of 1/rate seconds holding one publish.
//
// Where the platform counts the PUBLISHes it sends us too (AWS: "inbound
// and outbound"), they are recorded, and our own publishes leave room for
// as many as came in the busier of the last two windows: while the platform
// sends at a steady pace, the two together stay within the rate. Our own
// keep at least a tenth of it, however much comes in.
//
// A broker's PUBACK 0x97 "Quota exceeded" halves the pace, which grows back
// after a quiet minute. Pure: the clock is an argument.
#pragma once

#include <chrono>
#include <deque>

namespace gwd {

class PublishPacer {
public:
    using Clock = std::chrono::steady_clock;

    explicit PublishPacer(double rate_per_second = 0);

    // True when a publish costing `cost` may go now (and records it). A cost
    // above the whole allowance goes when no publish of ours is in the window.
    bool try_take(Clock::time_point now, int cost = 1);
    // Records a publish of ours that went regardless.
    void record_sent(Clock::time_point now, int cost = 1);
    // Records a PUBLISH the platform sent us.
    void record_received(Clock::time_point now, int cost = 1);
    // How long until a publish costing `cost` may go; zero when it may now.
    Clock::duration wait(Clock::time_point now, int cost = 1) const;

    // The broker refused a publish for quota: halve the pace.
    void quota_exceeded(Clock::time_point now);

    double current_rate() const { return current_; }  // 0: unlimited
    // Publishes allowed in one window at the current rate; 0: unlimited.
    int allowance() const;

private:
    struct Event {
        Clock::time_point at;
        int cost;
    };
    Clock::duration window() const;
    void forget_old(Clock::time_point now);
    void recover(Clock::time_point now);
    void count_second(Clock::time_point now, int cost);
    // What our own publishes may use of the window at `now`.
    int own_allowance(Clock::time_point now) const;

    double configured_;
    double current_;
    std::deque<Event> sent_;      // ours, within the last window, oldest first
    int sent_in_window_ = 0;      // their total cost
    std::deque<Event> received_;  // the platform's, within the last two windows
    Clock::time_point last_quota_{};
    // Publishes in the current second, to learn the pace we were going at
    // when the first 0x97 came (unlimited pacers keep no window).
    Clock::time_point second_start_{};
    bool counting_ = false;
    double in_second_ = 0;
    double last_second_ = 0;
};

}  // namespace gwd
