#include "app/file_watcher.h"

#include <map>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include "common/error_text.h"

namespace gwd {

FileWatcher::FileWatcher(OnChange on_change, Logger log) : on_change_(std::move(on_change)), log_(std::move(log)) {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
        log_.warning(std::string("cannot watch credential and plugin files (inotify: ") + gwd::error_text(errno) +
                     "); a stopped upstream then re-arms, and a replaced plugin is loaded, only on SIGHUP");
        return;
    }
    if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) return;
    thread_ = std::thread([this] { run(); });
}

FileWatcher::~FileWatcher() { stop(); }

void FileWatcher::stop() {
    if (thread_.joinable()) {
        const char byte = 1;
        [[maybe_unused]] ssize_t n = ::write(stop_pipe_[1], &byte, 1);
        thread_.join();
    }
    for (int* fd : {&inotify_fd_, &stop_pipe_[0], &stop_pipe_[1]}) {
        if (*fd >= 0) ::close(*fd);
        *fd = -1;
    }
}

void FileWatcher::watch(const std::set<std::filesystem::path>& files) {
    std::lock_guard lock(mutex_);
    if (inotify_fd_ < 0) return;
    files_.clear();
    std::set<std::filesystem::path> dirs;
    for (const auto& f : files) {
        const auto absolute = std::filesystem::absolute(f).lexically_normal();
        files_.insert(absolute);
        dirs.insert(absolute.parent_path());
    }
    // Directories watched already keep their watch (adding one again
    // returns it): removing and re-adding would drop what happens between.
    std::map<int, std::filesystem::path> next;
    for (const auto& dir : dirs) {
        const int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(),
                                           IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM);
        if (wd < 0) {
            log_.warning("cannot watch " + dir.string() + ": " + gwd::error_text(errno));
            continue;
        }
        next[wd] = dir;
    }
    for (const auto& [wd, dir] : directories_)
        if (next.count(wd) == 0) ::inotify_rm_watch(inotify_fd_, wd);
    directories_ = std::move(next);
}

void FileWatcher::run() {
    pthread_setname_np(pthread_self(), "watch");
    alignas(inotify_event) char buffer[16 * 1024];
    while (true) {
        pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents != 0) return;
        const ssize_t n = ::read(inotify_fd_, buffer, sizeof buffer);
        if (n <= 0) continue;
        std::set<std::filesystem::path> changed;
        {
            std::lock_guard lock(mutex_);
            for (ssize_t offset = 0; offset < n;) {
                const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
                offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
                auto dir = directories_.find(event->wd);
                if (dir == directories_.end() || event->len == 0) continue;
                const auto file = dir->second / event->name;
                if (files_.count(file) != 0) changed.insert(file);
            }
        }
        for (const auto& file : changed) on_change_(file);
    }
}

}  // namespace gwd
