// A real mosquitto on a free loopback port, configured as the tests need it
// (set_tcp_nodelay, no queue limit), stopped when the object goes away.
#pragma once

#include <memory>
#include <string>

#include "process.h"
#include "temp_dir.h"

namespace gwd::test {

class Mosquitto {
public:
    // `extra` is appended to the listener's configuration (after the
    // listener line, where per-listener options such as max_topic_alias act).
    explicit Mosquitto(std::string extra = {}, int port = 0);
    ~Mosquitto();

    int port() const { return port_; }
    std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
    const TempDir& dir() const { return dir_; }

    void start();
    void stop();  // SIGTERM and wait
    void kill();  // SIGKILL: no goodbye, no persistence written
    // SIGSTOP / SIGCONT: the broker reads, answers and forwards nothing while
    // paused, but its sockets stay open (what clients send waits unread).
    void pause();
    void resume();
    void reload();  // SIGHUP: re-reads password and ACL files
    std::string log() const;

private:
    TempDir dir_;
    std::string extra_;
    int port_;
    std::unique_ptr<ChildProcess> process_;
    bool paused_ = false;
};

// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_loopback_port();

// True once 127.0.0.1:port accepts connections.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

}  // namespace gwd::test
