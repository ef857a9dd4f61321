// Drives polled plugins: one thread ("poll") calls each instance's poll() on
// its interval. A poll that overruns delays only the polls queued behind it;
// a late instance is not made to catch up with a burst. Instances come and
// go at any time (a reload); remove() waits for a poll in progress.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "plugin_host/sensor_instance.h"

namespace gwd {

class PollScheduler {
public:
    ~PollScheduler();
    void add(SensorInstance& instance);
    void remove(SensorInstance& instance);
    void stop();

private:
    using Clock = std::chrono::steady_clock;
    struct Item {
        SensorInstance* instance;
        Clock::time_point due;
    };
    void run();

    std::vector<Item> items_;
    SensorInstance* polling_ = nullptr;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace gwd
