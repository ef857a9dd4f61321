#include "service/watchdog.h"

#include <pthread.h>
#include <systemd/sd-daemon.h>

#include "common/liveness.h"

namespace gwd::service {

std::chrono::microseconds watchdog_interval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds(0);
    return std::chrono::microseconds(usec);
}

WatchdogPinger::WatchdogPinger(std::chrono::microseconds interval, Logger log)
    : interval_(interval), log_(std::move(log)) {
    thread_ = std::thread([this] { run(); });
}

WatchdogPinger::~WatchdogPinger() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void WatchdogPinger::run() {
    pthread_setname_np(pthread_self(), "watchdog");
    std::unique_lock lock(mutex_);
    bool complained = false;
    while (!cv_.wait_for(lock, interval_ / 2, [&] { return stop_; })) {
        const std::vector<std::string> stalled = process_liveness().stalled();
        if (stalled.empty()) {
            sd_notify(0, "WATCHDOG=1");
            if (complained) log_.notice("every watched thread moves again; telling systemd's watchdog so");
            complained = false;
            continue;
        }
        if (complained) continue;
        complained = true;
        std::string names;
        for (const auto& n : stalled) names += (names.empty() ? "" : ", ") + n;
        log_.error("not alive: " + names + " made no progress for " +
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(interval_ / 2).count()) +
                   "ms; no watchdog ping, so systemd restarts gatewayd unless it moves again");
    }
}

}  // namespace gwd::service
