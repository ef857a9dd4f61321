// What an upstream session needs from an MQTT client, for one connection:
// connect, publish, subscribe, disconnect, and the events back
// (TransportEvents). PahoClient is the real one; tests/support's
// FakeTransport stands in for it in unit tests, so the session's logic runs
// without a broker, a process or a sleep.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/message.h"

namespace gwd {

struct ConnectSettings {
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
    int client_code = 0;    // the client's error code otherwise
    std::string message;    // the client's text
    std::string tls_error;  // OpenSSL's text, when TLS failed
    bool timed_out = false;
    bool aborted = false;
    ConnackInfo connack;  // on success (a refusal's properties are dropped by Paho 1.3.11)
};

// Callbacks from the client's threads. Keep them short: they take one lock and return.
class TransportEvents {
public:
    virtual ~TransportEvents() = default;
    // The publish of outbox entry `id` completed: `ok`, or refused with a
    // PUBACK `reason` >= 0x80, or failed with the client's `client_code`.
    virtual void on_publish_done(std::uint64_t generation, std::uint64_t id, bool ok, int reason, int client_code) = 0;
    // The connection ended: a server DISCONNECT (`reason` >= 0, maybe with a
    // Server Reference) or a plain loss (`reason` = -1).
    virtual void on_connection_lost(std::uint64_t generation, const std::string& cause, int reason,
                                    const std::optional<std::string>& server_reference) = 0;
    // A PUBLISH from the broker on one of our subscriptions.
    virtual void on_message(std::uint64_t generation, std::string topic, std::string payload,
                            std::optional<std::string> response_topic, std::optional<std::string> correlation_data) = 0;
};

// How one publish ended, as on_publish_done() reported it.
struct PublishCompletion {
    std::uint64_t generation = 0;
    std::uint64_t id = 0;
    bool ok = false;
    int reason = -1;      // a PUBACK refusal (>= 0x80)
    int client_code = 0;  // the client's error when there was no answer
    // The broker answered (acknowledged or refused); else the publish failed
    // on our side and the connection is not sound.
    bool answered() const { return ok || reason >= 0x80; }
};

struct SubscribeResult {
    bool ok = false;
    std::vector<int> granted;  // per filter: granted QoS, or a reason code >= 0x80
    std::string error;
};

struct OutgoingPublish {
    const std::string* topic;  // empty with a topic alias already sent
    const std::string* payload;
    int qos = 1;
    bool retain = false;
    // MQTT v5 only:
    const std::string* content_type = nullptr;
    int payload_format = -1;             // -1: absent
    int topic_alias = 0;                 // 0: none
    std::uint32_t message_expiry_s = 0;  // 0: none
    const UserProperties* properties = nullptr;
    const std::string* response_topic = nullptr;
    const std::string* correlation_data = nullptr;
};

class Transport {
public:
    Transport(ConnectSettings settings, TransportEvents& events, std::uint64_t generation)
        : settings_(std::move(settings)), events_(events), generation_(generation) {}
    virtual ~Transport() = default;
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // Connects, waiting at most connect_timeout + 2 s; `abort` is polled
    // often, so a stop request does not sit out a slow handshake.
    virtual ConnectResult connect(const std::function<bool()>& abort) = 0;
    // Queues the publish of outbox entry `id`; returns 0, or the client's
    // error code. At most max_inflight publishes may be outstanding.
    virtual int publish(const OutgoingPublish& message, std::uint64_t id) = 0;
    // Subscribes to `filters` at `qos` and waits for the SUBACK.
    virtual SubscribeResult subscribe(const std::vector<std::string>& filters, int qos,
                                      std::chrono::milliseconds timeout) = 0;
    // Sends DISCONNECT and waits up to `timeout` for it to go out.
    virtual void disconnect(std::chrono::milliseconds timeout) = 0;
    // The client's words for one of its error codes ("TCP/TLS connect failure").
    virtual std::string error_text(int code) const = 0;

    std::uint64_t generation() const { return generation_; }
    const ConnectSettings& settings() const { return settings_; }
    TransportEvents& events() { return events_; }

private:
    ConnectSettings settings_;
    TransportEvents& events_;
    std::uint64_t generation_;
};

// Makes the client for one connection; `generation` tags its events, so a
// late event of a connection that is gone is told apart. May throw.
using TransportFactory = std::function<std::unique_ptr<Transport>(ConnectSettings settings, TransportEvents& events,
                                                                  std::uint64_t generation)>;

}  // namespace gwd
