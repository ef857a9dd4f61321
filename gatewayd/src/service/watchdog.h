// systemd's watchdog (WatchdogSec=): a thread that sends WATCHDOG=1 every
// half interval, but only when every thread enrolled in process_liveness()
// moved since its last look. A thread that stopped moving is named in the
// log once; systemd then kills the service (WatchdogSignal) and, with
// Restart=on-failure, starts it again. Nothing runs outside systemd or
// without WatchdogSec=.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/log.h"

namespace gwd::service {

// WatchdogSec= as systemd passed it to this process (WATCHDOG_USEC, for this
// PID), or zero when there is none.
std::chrono::microseconds watchdog_interval();

class WatchdogPinger {
public:
    WatchdogPinger(std::chrono::microseconds interval, Logger log);
    ~WatchdogPinger();
    WatchdogPinger(const WatchdogPinger&) = delete;
    WatchdogPinger& operator=(const WatchdogPinger&) = delete;

private:
    void run();

    std::chrono::microseconds interval_;
    Logger log_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace gwd::service
