// A scripted MQTT broker stub on a loopback port, for the reason codes
// mosquitto 2.0.11 never sends (0x86, 0x8A, 0x8C, 0x89, 0x97, 0x9C/0x9D with
// a Server Reference, DISCONNECT 0x8E, ...). It speaks just enough MQTT 5 and
// 3.1.1: CONNECT/CONNACK, PUBLISH/PUBACK, PINGREQ/PINGRESP, DISCONNECT, and
// answers each CONNECT and PUBLISH as the test's script says. It records
// every connection and publish (topic aliases resolved) for assertions.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "mqtt/wire.h"

namespace gwd::test {

using StubProperty = gwd::mqtt::Property;

struct StubConnack {
    int reason = 0;  // 0 accepts
    std::vector<StubProperty> properties;
    // After a successful CONNACK: send DISCONNECT with this reason (and
    // properties) right away, as a broker taking the session over would.
    std::optional<int> then_disconnect;
    std::vector<StubProperty> disconnect_properties;
};

struct StubPublish {
    int connection = 0;   // 1-based, in accept order
    std::string topic;    // resolved through the topic alias
    int topic_alias = 0;  // 0 when none was sent
    bool topic_was_empty = false;
    std::string payload;
    int qos = 0;
    std::optional<std::string> content_type;
    std::vector<std::pair<std::string, std::string>> user_properties;
};

// A message the stub sends to a client once it subscribed (for clients
// under test that subscribe, such as mqtt_local).
struct StubOutgoing {
    std::string topic;
    std::string payload;
    int qos = 1;
    std::vector<std::pair<std::string, std::string>> user_properties;  // v5
};

struct StubPubAction {
    enum class Kind { acknowledge, disconnect, close };  // close: drop the socket, no DISCONNECT
    Kind kind = Kind::acknowledge;
    int reason = 0;  // PUBACK or DISCONNECT reason code
};

class MqttStubBroker {
public:
    struct Script {
        std::function<StubConnack(int connection, const std::string& client_id)> on_connect;
        std::function<StubPubAction(int connection, const StubPublish& publish)> on_publish;
        // Answered with a SUBACK granting what was asked, then these go out.
        std::function<std::vector<StubOutgoing>(int connection)> on_subscribe;
    };

    explicit MqttStubBroker(Script script);
    ~MqttStubBroker();

    int port() const { return port_; }
    std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

    int connections() const { return connections_.load(); }
    std::vector<std::string> client_ids() const;
    std::vector<StubPublish> publishes() const;
    // Packet ids of the PUBACKs clients sent for StubOutgoing messages.
    std::vector<int> pubacks() const;

    bool wait_for_connections(int n, std::chrono::milliseconds timeout) const;
    bool wait_for_publishes(size_t n, std::chrono::milliseconds timeout) const;

private:
    void accept_loop();
    void serve(int fd, int connection);

    Script script_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> connections_{0};
    mutable std::mutex mutex_;
    std::vector<std::string> client_ids_;
    std::vector<StubPublish> publishes_;
    std::vector<int> pubacks_;
    std::vector<int> client_fds_;
    std::vector<std::thread> threads_;
    std::thread acceptor_;
};

// Property identifiers the scripts use.
namespace prop {
constexpr auto reason_string = gwd::mqtt::kReasonString;
constexpr auto server_reference = gwd::mqtt::kServerReference;
constexpr auto receive_maximum = gwd::mqtt::kReceiveMaximum;
constexpr auto topic_alias_maximum = gwd::mqtt::kTopicAliasMaximum;
constexpr auto maximum_packet_size = gwd::mqtt::kMaximumPacketSize;
constexpr auto server_keep_alive = gwd::mqtt::kServerKeepAlive;
constexpr auto assigned_client_identifier = gwd::mqtt::kAssignedClientId;
constexpr auto maximum_qos = gwd::mqtt::kMaximumQos;
}  // namespace prop

}  // namespace gwd::test
