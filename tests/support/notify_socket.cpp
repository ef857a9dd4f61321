#include "notify_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

namespace gwd::test {

NotifySocket::NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string p = path_.string();
    if (fd_ < 0 || p.size() >= sizeof addr.sun_path) throw std::runtime_error("notify socket: cannot create " + p);
    std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
    ::unlink(p.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("notify socket: cannot bind " + p + ": " + std::strerror(errno));
    thread_ = std::thread([this] {
        char buffer[4096];
        while (!stop_.load()) {
            pollfd pfd{fd_, POLLIN, 0};
            if (::poll(&pfd, 1, 100) <= 0) continue;
            const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0) continue;
            std::lock_guard lock(mutex_);
            messages_.push_back({Clock::now(), std::string(buffer, static_cast<size_t>(n))});
        }
    });
}

NotifySocket::~NotifySocket() {
    stop_.store(true);
    thread_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
}

std::vector<NotifySocket::Message> NotifySocket::messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
}

size_t NotifySocket::count(const std::string& line, Clock::time_point since) const {
    size_t n = 0;
    for (const Message& m : messages()) {
        if (m.at < since) continue;
        std::istringstream lines(m.text);
        for (std::string l; std::getline(lines, l);) {
            if (l == line) {
                ++n;
                break;
            }
        }
    }
    return n;
}

}  // namespace gwd::test
