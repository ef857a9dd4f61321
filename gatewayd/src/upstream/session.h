// One upstream connection: connects with Paho (automatic reconnect off: we
// decide), publishes what the outbox holds with at most `window` outstanding
// publishes (never more than the broker's Receive Maximum), removes entries
// only when acknowledged, and reconnects with backoff when the connection
// drops. Its own thread, named "up-<name>".
#pragma once

#include <chrono>
#include <memory>

#include "common/log.h"
#include "config/config.h"
#include "outbox/outbox.h"
#include "upstream/profiles/uplink.h"
#include "upstream/upstream_status.h"

namespace gwd {

class UpstreamSession {
public:
    UpstreamSession(UpstreamConfig config, Outbox& outbox, std::unique_ptr<UplinkCodec> codec, Logger log);
    ~UpstreamSession();
    UpstreamSession(const UpstreamSession&) = delete;
    UpstreamSession& operator=(const UpstreamSession&) = delete;

    void start();

    // Publishes what is queued until the outbox is empty or `deadline`
    // passes, then disconnects and joins the thread.
    void stop(std::chrono::steady_clock::time_point deadline);

    UpstreamStatus status() const;
    const std::string& name() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gwd
