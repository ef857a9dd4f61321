// One upstream connection, supervised. Its thread ("up-<name>") connects
// through a Transport (Paho) with automatic reconnect off; the ConnectionSupervisor decides
// after each failure whether to retry, when, where, or to stop until the
// credentials change. Online, it publishes what the outbox holds with at most
// `window` publishes outstanding (never more than the broker's Receive
// Maximum), honours what CONNACK announced (Maximum QoS, Retain Available,
// Maximum Packet Size, Topic Alias Maximum, Server Keep Alive, Assigned Client
// Identifier), and removes an entry only when the broker acknowledged it. A
// PUBACK refusal sends that one message to the dead-letter topic and holds up
// nothing behind it; 0x97 "Quota exceeded" slows publishing down.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/log.h"
#include "config/config.h"
#include "outbox/outbox.h"
#include "upstream/profiles/profile_factory.h"
#include "upstream/transport.h"
#include "upstream/upstream_status.h"

namespace gwd {

// What a session hands to the one that replaces it (a reload restarts an
// upstream whose settings changed): its counters carry on, and so does the
// one-CONNECT-per-second rule, from its last CONNECT.
struct UpstreamHandover {
    std::optional<std::chrono::steady_clock::time_point> last_connect;
    UpstreamStatus totals;
    std::vector<std::string> online_entities;  // what the platform was told is online (Huawei sub-devices)
};

class UpstreamSession {
public:
    // `router` hands platform commands to plugins; null: every command is
    // answered "unsupported". It must outlive the session. `transport`
    // makes the MQTT client of each connection (the daemon: Paho; tests: a fake).
    UpstreamSession(UpstreamConfig config, Outbox& outbox, Profile profile, CommandRouter* router, Logger log,
                    TransportFactory transport, std::optional<UpstreamHandover> handover = std::nullopt);
    ~UpstreamSession();
    UpstreamSession(const UpstreamSession&) = delete;
    UpstreamSession& operator=(const UpstreamSession&) = delete;

    void start();

    // Publishes what is queued until the outbox is empty or `deadline`
    // passes, then disconnects and joins the thread. `queue_handed_over`: the
    // outbox lives on with a successor session (a reload), so nothing is lost.
    void stop(std::chrono::steady_clock::time_point deadline, bool queue_handed_over = false);

    // A credential file changed or the configuration was reloaded: a stopped
    // (parked) upstream tries again at once. With `only_if_credentials_changed`
    // (a file event) it does so only if the files' content differs from what
    // the refused CONNECT used. No effect on an upstream that is not stopped.
    void rearm(const std::string& why, bool only_if_credentials_changed = false);

    UpstreamHandover handover() const;

    // The [[sensor]]s that run now (running or degraded); a platform may be
    // told about the devices they own (Huawei sub-device status).
    void sensors_running(std::set<std::string> instances);

    UpstreamStatus status() const;
    const std::string& name() const;
    const UpstreamConfig& config() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gwd
