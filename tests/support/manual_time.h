// A TimeSource that moves only when the test says so.
#pragma once

#include <mutex>

#include "common/time_source.h"

namespace gwd::test {

class ManualTime final : public TimeSource {
public:
    ManualTime()
        : steady_(Steady::time_point(std::chrono::hours(1000))),
          wall_(std::chrono::sys_days{std::chrono::year{2026} / 12 / 2}) {}
    Steady::time_point now() const override {
        std::lock_guard lock(mutex_);
        return steady_;
    }
    Wall::time_point wall() const override {
        std::lock_guard lock(mutex_);
        return wall_;
    }
    void advance(std::chrono::milliseconds d) {
        std::lock_guard lock(mutex_);
        steady_ += d;
        wall_ += d;
    }

private:
    mutable std::mutex mutex_;
    Steady::time_point steady_;
    Wall::time_point wall_;
};

}  // namespace gwd::test
