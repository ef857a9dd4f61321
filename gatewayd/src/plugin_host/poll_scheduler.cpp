#include "plugin_host/poll_scheduler.h"

#include <pthread.h>

#include <algorithm>

namespace gwd {

PollScheduler::~PollScheduler() { stop(); }

void PollScheduler::add(SensorInstance& instance) { items_.push_back({&instance, Clock::now()}); }

void PollScheduler::start() {
    if (items_.empty()) return;
    thread_ = std::thread([this] { run(); });
}

void PollScheduler::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void PollScheduler::run() {
    pthread_setname_np(pthread_self(), "poll");
    while (true) {
        auto next = std::min_element(items_.begin(), items_.end(),
                                     [](const Item& a, const Item& b) { return a.due < b.due; });
        {
            std::unique_lock lock(mutex_);
            if (cv_.wait_until(lock, next->due, [this] { return stopping_; })) return;
        }
        next->instance->poll();
        const auto interval = next->instance->interval();
        next->due += interval;
        const auto now = Clock::now();
        if (next->due < now) next->due = now + interval;
    }
}

}  // namespace gwd
