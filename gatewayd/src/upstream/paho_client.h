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

#include "common/message.h"

namespace gwd {

struct PahoConnectSettings {
    std::string url;  // tcp://host:port or ssl://host:port
    std::string client_id;
    int mqtt_version = 5;
    int keep_alive_s = 60;
    int connect_timeout_s = 10;
    bool clean_start = true;
    std::uint32_t session_expiry_s = 0;
    std::optional<std::string> username;
    std::optional<std::string> password;
    bool tls = false;
    std::string ca_file, cert_file, key_file;  // empty when unset
    bool tls_verify = true;
    std::string alpn;  // one ALPN protocol name; empty: none
    int max_inflight = 64;
};

// Publishes beyond the window that a connection may have outstanding for
// its own traffic (command responses, shadow reports).
inline constexpr int kControlSlots = 32;

// What the broker said in CONNACK (MQTT v5 properties; defaults per the spec
// when a property is absent).
struct ConnackInfo {
    bool session_present = false;
    int receive_maximum = 65535;
    int topic_alias_maximum = 0;
    std::uint32_t maximum_packet_size = 0;  // 0: no limit announced
    int maximum_qos = 2;
    bool retain_available = true;
    std::optional<int> server_keep_alive;
    std::optional<std::string> assigned_client_id;
    std::optional<std::string> server_reference;
    std::optional<std::string> reason_string;
};

struct ConnectResult {
    bool ok = false;
    int reason = -1;        // CONNACK reason (v5) or return code (3.1.1) when refused
    int paho_code = 0;      // Paho's error code otherwise
    std::string message;    // Paho's text
    std::string tls_error;  // OpenSSL's text, when TLS failed
    bool timed_out = false;
    bool aborted = false;
    ConnackInfo connack;    // on success (a refusal's properties are dropped by Paho 1.3.11)
};

// Callbacks from Paho's threads. Keep them short: they take one lock and return.
class PahoEvents {
public:
    virtual ~PahoEvents() = default;
    // The publish of outbox entry `id` completed: `ok`, or refused with a
    // PUBACK `reason` >= 0x80, or failed with Paho's `paho_code`.
    virtual void on_publish_done(std::uint64_t generation, std::uint64_t id, bool ok, int reason, int paho_code) = 0;
    // The connection ended: a server DISCONNECT (`reason` >= 0, maybe with a
    // Server Reference) or a plain loss (`reason` = -1).
    virtual void on_connection_lost(std::uint64_t generation, const std::string& cause, int reason,
                                    const std::optional<std::string>& server_reference) = 0;
    // A PUBLISH from the broker on one of our subscriptions.
    virtual void on_message(std::uint64_t generation, std::string topic, std::string payload,
                            std::optional<std::string> response_topic, std::optional<std::string> correlation_data) = 0;
};

struct SubscribeResult {
    bool ok = false;
    std::vector<int> granted;  // per filter: granted QoS, or a reason code >= 0x80
    std::string error;
};

struct OutgoingPublish {
    const std::string* topic;    // empty with a topic alias already sent
    const std::string* payload;
    int qos = 1;
    bool retain = false;
    // MQTT v5 only:
    const std::string* content_type = nullptr;
    int payload_format = -1;     // -1: absent
    int topic_alias = 0;         // 0: none
    std::uint32_t message_expiry_s = 0;  // 0: none
    const UserProperties* properties = nullptr;
    const std::string* response_topic = nullptr;
    const std::string* correlation_data = nullptr;
};

class PahoClient {
public:
    PahoClient(PahoConnectSettings settings, PahoEvents& events, std::uint64_t generation);
    ~PahoClient();
    PahoClient(const PahoClient&) = delete;
    PahoClient& operator=(const PahoClient&) = delete;

    // Connects, waiting at most connect_timeout + 2 s; `abort` is polled every
    // 100 ms so a stop request does not sit out a slow handshake.
    ConnectResult connect(const std::function<bool()>& abort);

    // Queues the publish of outbox entry `id`; returns 0, or Paho's error
    // code. At most max_inflight publishes may be outstanding.
    int publish(const OutgoingPublish& message, std::uint64_t id);

    // Subscribes to `filters` at `qos` and waits for the SUBACK.
    SubscribeResult subscribe(const std::vector<std::string>& filters, int qos, std::chrono::milliseconds timeout);

    // Sends DISCONNECT and waits up to `timeout` for it to go out.
    void disconnect(std::chrono::milliseconds timeout);
    bool connected() const;

    std::uint64_t generation() const { return generation_; }
    const PahoConnectSettings& settings() const { return settings_; }
    PahoEvents& events() { return events_; }

    struct State;  // shared with Paho's threads; defined in the .cpp

private:
    PahoConnectSettings settings_;
    PahoEvents& events_;
    std::uint64_t generation_;
    void* handle_ = nullptr;  // MQTTAsync
    std::vector<unsigned char> alpn_wire_;
    State* state_ = nullptr;
};

// Paho's name for an error code ("TCP/TLS connect failure").
std::string paho_error_text(int code);

}  // namespace gwd
