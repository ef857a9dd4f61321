// A real aedes (npm, MQTT 3.1.1 only) on a free loopback port: a broker that
// is not mosquitto. scripts/install-deps.sh installs it under
// tests/support/node; stopped when the object goes away.
#pragma once

#include <memory>
#include <string>

#include "process.h"
#include "temp_dir.h"

namespace gwd::test {

class Aedes {
public:
    Aedes();
    ~Aedes();
    int port() const { return port_; }
    std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
    std::string log() const;

private:
    TempDir dir_;
    int port_;
    std::unique_ptr<ChildProcess> process_;
};

}  // namespace gwd::test
