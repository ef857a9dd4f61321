// One daemon per state_dir: two would both consume the same queues and
// deliver everything twice. An flock() on state_dir/gatewayd.lock, held for
// the life of the process and released by the kernel even after kill -9.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace gwd {

class StateDirLock {
public:
    // The lock, or nullptr with `error` naming the process that holds it.
    static std::unique_ptr<StateDirLock> acquire(const std::filesystem::path& state_dir, std::string& error);
    ~StateDirLock();
    StateDirLock(const StateDirLock&) = delete;
    StateDirLock& operator=(const StateDirLock&) = delete;

private:
    explicit StateDirLock(int fd) : fd_(fd) {}
    int fd_;
};

}  // namespace gwd
