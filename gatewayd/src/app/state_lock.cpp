#include "app/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include "common/error_text.h"

namespace gwd {

std::unique_ptr<StateDirLock> StateDirLock::acquire(const std::filesystem::path& state_dir, std::string& error) {
    const auto path = state_dir / "gatewayd.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = "cannot open " + path.string() + ": " + gwd::error_text(errno);
        return nullptr;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char holder[32] = {};
        const ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        std::string pid = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "";
        while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
        error = "another gatewayd" + (pid.empty() ? std::string() : " (pid " + pid + ")") + " already uses state_dir " +
                state_dir.string() + "; two daemons on one state_dir would send every queued reading twice";
        ::close(fd);
        return nullptr;
    }
    const std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd, 0) == 0) {
        [[maybe_unused]] const ssize_t written = pwrite(fd, pid.data(), pid.size(), 0);
    }
    return std::unique_ptr<StateDirLock>(new StateDirLock(fd));
}

StateDirLock::~StateDirLock() { ::close(fd_); }

}  // namespace gwd
