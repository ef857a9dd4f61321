// Tells when files change, with inotify. It watches the directories that
// hold the files, not the files themselves: editors and package managers
// replace a file by renaming a new one over it, which a watch on the old
// inode would never see. Its own thread ("watch") calls `on_change`.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/log.h"

namespace gwd {

class FileWatcher {
public:
    using OnChange = std::function<void(const std::filesystem::path& file)>;

    FileWatcher(OnChange on_change, Logger log);
    ~FileWatcher();

    // Replaces the set of watched files.
    void watch(const std::set<std::filesystem::path>& files);
    void stop();

private:
    void run();

    OnChange on_change_;
    Logger log_;
    int inotify_fd_ = -1;
    int stop_pipe_[2] = {-1, -1};
    std::mutex mutex_;
    std::map<int, std::filesystem::path> directories_;  // watch descriptor -> directory
    std::set<std::filesystem::path> files_;             // absolute paths
    std::thread thread_;
};

}  // namespace gwd
