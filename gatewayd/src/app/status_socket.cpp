#include "app/status_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include "common/error_text.h"

namespace gwd {

namespace {

bool make_address(const std::filesystem::path& path, sockaddr_un& addr, std::string& error) {
    std::memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    const std::string s = path.string();
    if (s.size() >= sizeof addr.sun_path) {
        error = "the socket path " + s + " is longer than " + std::to_string(sizeof addr.sun_path - 1) + " bytes";
        return false;
    }
    std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
    return true;
}

// Writes everything, or gives up on an error (the client went away).
void write_all(int fd, const std::string& data) {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
        ssize_t n = ::send(fd, p, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        p += n;
        left -= static_cast<size_t>(n);
    }
}

// A request is one short line ("status json"); anything longer is not one.
constexpr size_t kMaxRequestLine = 256;
// The daemon answers from memory at once; a silent one is stuck.
constexpr int kAnswerTimeoutMs = 5000;

// Reads one line of at most kMaxRequestLine bytes, waiting at most `timeout_ms`.
std::string read_line(int fd, int timeout_ms) {
    std::string line;
    while (line.size() < kMaxRequestLine) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) break;
        char c;
        ssize_t n = ::recv(fd, &c, 1, 0);
        if (n <= 0 || c == '\n') break;
        line += c;
    }
    return line;
}

}  // namespace

StatusServer::StatusServer(std::filesystem::path socket_path, Render render, Logger log)
    : path_(std::move(socket_path)), render_(std::move(render)), log_(std::move(log)) {}

StatusServer::~StatusServer() { stop(); }

bool StatusServer::start(std::string& error) {
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    if (ec) {
        error = "cannot create the runtime directory " + path_.parent_path().string() + ": " + ec.message();
        return false;
    }
    sockaddr_un addr{};
    if (!make_address(path_, addr, error)) return false;
    if (std::filesystem::exists(path_, ec)) {
        std::string ignored, answer;
        if (query_status(path_, false, answer, ignored)) {
            error = "another gatewayd already answers on " + path_.string() +
                    "; give each instance its own [gateway] runtime_dir";
            return false;
        }
        ::unlink(path_.c_str());  // left behind by a daemon that died
    }
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) {
        error = std::string("cannot create the status socket: ") + gwd::error_text(errno);
        return false;
    }
    // Bind with a restrictive umask so the socket is never world-accessible.
    const mode_t old_mask = ::umask(0117);
    const int bound = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::umask(old_mask);
    if (bound != 0 || ::listen(listen_fd_, 8) != 0) {
        error = "cannot listen on " + path_.string() + ": " + gwd::error_text(errno);
        ::close(listen_fd_);
        listen_fd_ = -1;
        return false;
    }
    if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
        error = std::string("cannot create a pipe: ") + gwd::error_text(errno);
        return false;
    }
    owns_socket_ = true;
    thread_ = std::thread([this] { run(); });
    return true;
}

void StatusServer::stop() {
    if (thread_.joinable()) {
        const char byte = 1;
        [[maybe_unused]] ssize_t n = ::write(stop_pipe_[1], &byte, 1);
        thread_.join();
    }
    for (int* fd : {&listen_fd_, &stop_pipe_[0], &stop_pipe_[1]}) {
        if (*fd >= 0) ::close(*fd);
        *fd = -1;
    }
    // Only our own socket: a daemon that failed to start must not remove
    // the socket of the one already running.
    if (owns_socket_) {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
        owns_socket_ = false;
    }
}

void StatusServer::run() {
    pthread_setname_np(pthread_self(), "status");
    while (true) {
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents != 0) return;
        if ((fds[0].revents & POLLIN) == 0) continue;
        const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        // One short exchange per client; a silent client gets a second.
        const std::string request = read_line(client, 1000);
        if (request == "status json")
            write_all(client, render_(true));
        else if (request == "status text" || request == "status")
            write_all(client, render_(false));
        else
            write_all(client, "error: unknown request; send \"status text\" or \"status json\"\n");
        ::close(client);
    }
}

bool query_status(const std::filesystem::path& socket_path, bool json, std::string& out, std::string& error) {
    sockaddr_un addr{};
    if (!make_address(socket_path, addr, error)) return false;
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = gwd::error_text(errno);
        return false;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        error = std::string(gwd::error_text(errno));
        ::close(fd);
        return false;
    }
    write_all(fd, json ? "status json\n" : "status text\n");
    char buffer[4096];
    while (true) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, kAnswerTimeoutMs) <= 0) {
            error = "the daemon did not answer within " + std::to_string(kAnswerTimeoutMs / 1000) + "s";
            ::close(fd);
            return false;
        }
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return true;
}

}  // namespace gwd
