// Which threads still move, for systemd's watchdog: WATCHDOG=1 is sent only
// when every enrolled thread went round its loop since the last look. A
// thread enrolls, beats on every round (its waits are sliced so that an idle
// thread beats too), and is excused while it is inside plugin code: a plugin
// that hangs is contained and reported as stuck (plugin_host), it must not
// get the whole service killed. What remains is our own code wedged (a
// deadlock, a lost wake-up), which only a restart cures.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gwd {

class Heartbeat {
public:
    explicit Heartbeat(std::string name) : name_(std::move(name)) {}
    void beat() { count_.fetch_add(1, std::memory_order_relaxed); }

    // While one lives, the thread is waiting on something it may wait for
    // without bound (a plugin call); it beats when it ends.
    class Excuse {
    public:
        explicit Excuse(Heartbeat* heart) : heart_(heart) {
            if (heart_) heart_->excused_.fetch_add(1, std::memory_order_relaxed);
        }
        ~Excuse() {
            if (!heart_) return;
            heart_->beat();
            heart_->excused_.fetch_sub(1, std::memory_order_relaxed);
        }
        Excuse(const Excuse&) = delete;
        Excuse& operator=(const Excuse&) = delete;

    private:
        Heartbeat* heart_;
    };

    const std::string& name() const { return name_; }
    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    bool excused() const { return excused_.load(std::memory_order_relaxed) > 0; }

private:
    std::string name_;
    std::atomic<std::uint64_t> count_{0};
    std::atomic<int> excused_{0};
};

class Liveness {
public:
    // A thread's heartbeat; the thread keeps it for as long as it runs.
    std::shared_ptr<Heartbeat> enroll(std::string name);
    // The threads that neither beat since the last call nor are excused;
    // empty: all alive. Threads whose heartbeat was released are forgotten.
    std::vector<std::string> stalled();

private:
    struct Entry {
        std::weak_ptr<Heartbeat> heart;
        std::uint64_t last_count;
    };
    std::mutex mutex_;
    std::vector<Entry> entries_;
};

// The daemon's one registry: the threads the watchdog watches enroll here.
Liveness& process_liveness();

}  // namespace gwd
