#include "plugin_host/frame_channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace gwd {

FrameChannel::~FrameChannel() {
    if (fd_ >= 0) ::close(fd_);
}

bool FrameChannel::broken() const {
    std::lock_guard lock(mutex_);
    return broken_;
}

bool FrameChannel::send(std::string_view bytes, Clock::time_point deadline) {
    std::lock_guard lock(mutex_);
    if (broken_) return false;
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            const auto now = Clock::now();
            if (now >= deadline) break;
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
            pollfd p{fd_, POLLOUT, 0};
            ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
            continue;
        }
        break;
    }
    if (done < bytes.size()) broken_ = true;
    return !broken_;
}

}  // namespace gwd
