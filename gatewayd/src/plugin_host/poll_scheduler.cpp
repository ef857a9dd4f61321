#include "plugin_host/poll_scheduler.h"

#include <pthread.h>

#include <algorithm>

namespace gwd {

PollScheduler::~PollScheduler() { stop(); }

void PollScheduler::add(SensorInstance& instance) {
    {
        std::lock_guard lock(mutex_);
        items_.push_back({&instance, Clock::now()});
        if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { run(); });
    }
    cv_.notify_all();
}

void PollScheduler::remove(SensorInstance& instance) {
    std::unique_lock lock(mutex_);
    std::erase_if(items_, [&](const Item& item) { return item.instance == &instance; });
    cv_.wait(lock, [&] { return polling_ != &instance; });
    cv_.notify_all();
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
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (items_.empty()) {
            cv_.wait(lock);
            continue;
        }
        auto next = std::min_element(items_.begin(), items_.end(),
                                     [](const Item& a, const Item& b) { return a.due < b.due; });
        const auto due = next->due;
        if (Clock::now() < due) {
            // Woken early by add/remove/stop: look again.
            cv_.wait_until(lock, due);
            continue;
        }
        SensorInstance* instance = next->instance;
        polling_ = instance;
        lock.unlock();
        instance->poll();
        lock.lock();
        polling_ = nullptr;
        cv_.notify_all();
        // The item may have moved or gone while we polled without the lock.
        auto it = std::find_if(items_.begin(), items_.end(), [&](const Item& item) { return item.instance == instance; });
        if (it == items_.end()) continue;
        const auto interval = instance->interval();
        it->due += interval;
        const auto now = Clock::now();
        if (it->due < now) it->due = now + interval;
    }
}

}  // namespace gwd
