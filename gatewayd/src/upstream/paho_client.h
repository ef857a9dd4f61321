// A thin C++ owner of one paho.mqtt.c MQTTAsync client, for one connection.
//
// Why the C API and not the C++ wrapper: paho.mqtt.cpp 1.2 allocates a token
// object, a shared message and a std::function per publish, and has no way to
// say which message a completion belongs to without them. Here a publish
// costs Paho's own copy and nothing else, and every completion arrives as
// (outbox id, reason code) through one interface. (Neither API can show the
// properties of a refused CONNACK: paho.mqtt.c 1.3.11 drops them, so a
// Server Reference arrives only with a server DISCONNECT.)
//
// Only paho_client.cpp includes Paho headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "upstream/transport.h"

namespace gwd {

class PahoClient final : public Transport {
public:
    PahoClient(ConnectSettings settings, TransportEvents& events, std::uint64_t generation);
    ~PahoClient() override;

    ConnectResult connect(const std::function<bool()>& abort) override;
    int publish(const OutgoingPublish& message, std::uint64_t id) override;
    SubscribeResult subscribe(const std::vector<std::string>& filters, int qos,
                              std::chrono::milliseconds timeout) override;
    void disconnect(std::chrono::milliseconds timeout) override;
    std::string error_text(int code) const override;
    bool connected() const;

    struct State;  // shared with Paho's threads; defined in the .cpp

private:
    void* handle_ = nullptr;  // MQTTAsync
    std::vector<unsigned char> alpn_wire_;
    State* state_ = nullptr;
};

// Makes PahoClients: the session's transport outside of tests.
TransportFactory paho_transport();

// Paho's name for an error code ("TCP/TLS connect failure").
std::string paho_error_text(int code);

}  // namespace gwd
