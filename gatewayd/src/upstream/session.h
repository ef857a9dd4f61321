// One upstream connection, supervised. Its thread ("up-<name>") connects
// through Paho with automatic reconnect off; the ConnectionSupervisor decides
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
#include <string>

#include "common/log.h"
#include "config/config.h"
#include "outbox/outbox.h"
#include "upstream/profiles/credentials.h"
#include "upstream/profiles/uplink.h"
#include "upstream/upstream_status.h"

namespace gwd {

class UpstreamSession {
public:
    UpstreamSession(UpstreamConfig config, Outbox& outbox, std::unique_ptr<UplinkCodec> codec,
                    std::unique_ptr<CredentialSource> credentials, Logger log);
    ~UpstreamSession();
    UpstreamSession(const UpstreamSession&) = delete;
    UpstreamSession& operator=(const UpstreamSession&) = delete;

    void start();

    // Publishes what is queued until the outbox is empty or `deadline`
    // passes, then disconnects and joins the thread.
    void stop(std::chrono::steady_clock::time_point deadline);

    // A credential file changed or the configuration was reloaded: a stopped
    // (parked) upstream tries again at once. No effect otherwise.
    void rearm(const std::string& why);

    UpstreamStatus status() const;
    const std::string& name() const;
    const UpstreamConfig& config() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gwd
