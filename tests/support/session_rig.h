// The pieces an upstream session's rooms work with, wired as the session
// wires them, around an in-memory outbox, a ManualTime and a FakeBroker:
// for unit tests of the rooms (no process, no broker, no sleep).
#pragma once

#include <memory>
#include <string>

#include "common/log.h"
#include "fake_transport.h"
#include "manual_time.h"
#include "outbox/memory_outbox.h"
#include "upstream/profiles/mqtt_profile.h"
#include "upstream/session/delivery.h"
#include "upstream/session/publish_pump.h"
#include "upstream/session/status_board.h"

namespace gwd::test {

inline UpstreamConfig rig_upstream() {
    UpstreamConfig u;
    u.name = "cloud";
    u.url = "tcp://127.0.0.1:1883";
    u.client_id = "gw-01";
    u.topic = "telemetry/{gateway}/{sensor}";
    u.dead_letter_topic = "deadletter/{gateway}/{sensor}";
    return u;
}

// Events nobody listens to: room tests hand completions to the rooms themselves.
class IgnoredEvents final : public TransportEvents {
public:
    void on_publish_done(std::uint64_t, std::uint64_t, bool, int, int) override {}
    void on_connection_lost(std::uint64_t, const std::string&, int, const std::optional<std::string>&) override {}
    void on_message(std::uint64_t, std::string, std::string, std::optional<std::string>,
                    std::optional<std::string>) override {}
};

struct SessionRig {
    explicit SessionRig(UpstreamConfig upstream = rig_upstream()) : config(std::move(upstream)) {}

    UpstreamConfig config;
    MemoryOutbox outbox{1 << 20, OverflowPolicy::drop_oldest};
    ManualTime time;
    PublishPacer pacer{config.max_publish_rate};
    StatusBoard status{config.name, config.url, config.client_id, nullptr};
    std::shared_ptr<MemorySink> sink = std::make_shared<MemorySink>();
    Logger log{sink, LogLevel::debug};
    Delivery delivery{{config, outbox, pacer, status, log, time, {}}};
    MqttUplinkCodec codec{config, "gw-01", {{"field", "simulated"}}};
    std::shared_ptr<FakeBroker> broker = std::make_shared<FakeBroker>();
    IgnoredEvents events;
    std::unique_ptr<Transport> transport = fake_transport(broker)(ConnectSettings{}, events, 1);

    PublishPump pump(ConnectionLimits limits) {
        return PublishPump({config, outbox, codec, pacer, delivery, status, time}, limits, *transport);
    }

    // A reading from sensor `sensor` of [[sensor]] "field", accepted now.
    void queue(const std::string& payload, const std::string& sensor = "temp") {
        auto m = std::make_shared<Message>();
        m->sensor = sensor;
        m->instance = "field";
        m->payload = payload;
        m->content_type = "text/plain";
        m->utf8 = true;
        m->timestamp_ms = time.wall_ms();
        m->accepted_ms = time.wall_ms();
        outbox.append(std::move(m));
    }

    static PublishCompletion ack(std::uint64_t id) { return {1, id, true, 0, 0}; }
    static PublishCompletion refusal(std::uint64_t id, int reason) { return {1, id, false, reason, 0}; }
    UpstreamStatus snapshot() const { return status.snapshot(outbox); }
};

inline ConnectionLimits window_of(size_t n) {
    ConnectionLimits l;
    l.window = n;
    return l;
}

}  // namespace gwd::test
