// Plays systemd's side of the notify protocol (sd_notify): a datagram
// socket whose path goes to the daemon as NOTIFY_SOCKET; what it says
// (READY=1, WATCHDOG=1, RELOADING=1, STOPPING=1, STATUS=...) is kept with
// the time it came.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gwd::test {

class NotifySocket {
public:
    using Clock = std::chrono::steady_clock;
    struct Message {
        Clock::time_point at;
        std::string text;
    };

    explicit NotifySocket(std::filesystem::path path);
    ~NotifySocket();
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    // "NOTIFY_SOCKET=<path>", for the child's environment.
    std::string env() const { return "NOTIFY_SOCKET=" + path_.string(); }
    std::vector<Message> messages() const;
    // Messages holding the line `line` (e.g. "WATCHDOG=1") that came at or after `since`.
    size_t count(const std::string& line, Clock::time_point since = {}) const;

private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<Message> messages_;
    std::thread thread_;
};

}  // namespace gwd::test
