#include "mosquitto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace gwd::test {

int free_loopback_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        throw std::runtime_error("cannot bind a loopback port");
    }
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

bool wait_for_port(int port, std::chrono::milliseconds timeout) {
    return eventually(
        [port] {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            addr.sin_port = htons(static_cast<uint16_t>(port));
            bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
            close(fd);
            return ok;
        },
        timeout);
}

Mosquitto::Mosquitto(std::string extra, int port) : extra_(std::move(extra)), port_(port) {
    if (port_ == 0) port_ = free_loopback_port();
    start();
}

Mosquitto::~Mosquitto() { stop(); }

void Mosquitto::start() {
    // `user root` keeps a root-run broker from dropping privileges, so it can
    // read the files this test wrote (ignored when not run as root).
    std::string config =
        "user root\n"
        "log_dest stderr\n"
        "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
        "connection_messages true\n"
        "per_listener_settings false\n"
        "listener " +
        std::to_string(port_) +
        " 127.0.0.1\n"
        "allow_anonymous true\n"
        "set_tcp_nodelay true\n"
        "max_queued_messages 0\n" +
        extra_ + "\n";
    if (extra_.find("allow_anonymous") != std::string::npos) {
        config.erase(config.find("allow_anonymous true\n"), std::string("allow_anonymous true\n").size());
    }
    auto conf = dir_.write("mosquitto.conf", config);
    for (int attempt = 0; attempt < 3; ++attempt) {
        process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"mosquitto", "-c", conf.string()},
                                                  dir_.path() / "mosquitto.log");
        if (wait_for_port(port_, std::chrono::seconds(5))) return;
        process_.reset();
    }
    throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_) + ": " + log());
}

void Mosquitto::stop() {
    if (!process_) return;
    resume();  // a paused broker would not see the SIGTERM
    process_->signal(SIGTERM);
    if (!process_->wait(std::chrono::seconds(5))) process_->signal(SIGKILL);
    process_->wait(std::chrono::seconds(5));
    process_.reset();
}

void Mosquitto::kill() {
    if (!process_) return;
    process_->signal(SIGKILL);
    process_->wait(std::chrono::seconds(5));
    process_.reset();
    paused_ = false;
}

void Mosquitto::pause() {
    if (!process_ || paused_) return;
    process_->signal(SIGSTOP);
    paused_ = true;
}

void Mosquitto::resume() {
    if (!process_ || !paused_) return;
    process_->signal(SIGCONT);
    paused_ = false;
}

void Mosquitto::reload() {
    if (!process_) return;
    process_->signal(SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // mosquitto re-reads its files
}

std::string Mosquitto::log() const { return read_file(dir_.path() / "mosquitto.log"); }

}  // namespace gwd::test
