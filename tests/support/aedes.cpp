#include "aedes.h"

#include <signal.h>

#include <stdexcept>

#include "gatewayd_process.h"
#include "mosquitto.h"

namespace gwd::test {

Aedes::Aedes() : port_(free_loopback_port()) {
    const auto script = source_dir() / "tests" / "support" / "node" / "aedes_broker.mjs";
    if (!std::filesystem::exists(source_dir() / "tests" / "support" / "node" / "node_modules" / "aedes"))
        throw std::runtime_error("aedes is not installed: run scripts/install-deps.sh (npm ci in tests/support/node)");
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"node", script.string(), std::to_string(port_)},
                                              dir_.path() / "aedes.log");
    if (!wait_for_port(port_, std::chrono::seconds(20)))
        throw std::runtime_error("aedes did not start on port " + std::to_string(port_) + ": " + log());
}

Aedes::~Aedes() {
    if (!process_) return;
    process_->signal(SIGTERM);
    if (!process_->wait(std::chrono::seconds(5))) process_->signal(SIGKILL);
    process_->wait(std::chrono::seconds(5));
}

std::string Aedes::log() const { return read_file(dir_.path() / "aedes.log"); }

}  // namespace gwd::test
