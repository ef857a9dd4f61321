// `gatewayd status` talks to the running daemon over a Unix socket in its
// runtime directory. The protocol is one request line, "status text" or
// "status json", answered with the report, after which the daemon closes.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "common/log.h"

namespace gwd {

class StatusServer {
public:
    using Render = std::function<std::string(bool json)>;

    StatusServer(std::filesystem::path socket_path, Render render, Logger log);
    ~StatusServer();

    // Creates the directory and the socket (mode 0660; a stale socket of a
    // dead daemon is replaced). False, with `error`, when another gatewayd
    // answers on it or it cannot be created.
    bool start(std::string& error);
    void stop();

private:
    void run();

    std::filesystem::path path_;
    Render render_;
    Logger log_;
    int listen_fd_ = -1;
    bool owns_socket_ = false;
    int stop_pipe_[2] = {-1, -1};
    std::thread thread_;
};

// Asks the daemon listening on `socket_path`; false with `error` when none does.
bool query_status(const std::filesystem::path& socket_path, bool json, std::string& out, std::string& error);

}  // namespace gwd
