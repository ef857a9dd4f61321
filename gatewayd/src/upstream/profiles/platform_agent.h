// The downlink half of a cloud profile, and the stateful parts of its uplink
// (the AWS Device Shadow, OneNET's post/reply). An agent is pure: the session
// calls it on its own thread with what happened and the time, and carries
// out what it asks for in its Output (publishes, commands for plugins, log
// lines). Agents never block and never touch the network, so every platform
// exchange is unit-tested without a broker.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/command.h"
#include "common/log.h"
#include "common/message.h"
#include "upstream/profiles/uplink.h"

namespace gwd {

using WallTime = std::chrono::system_clock::time_point;

// A PUBLISH the platform sent us.
struct InboundPublish {
    InboundPublish(std::string topic_ = {}, std::string payload_ = {}, std::optional<std::string> response_topic_ = {},
                   std::optional<std::string> correlation_data_ = {})
        : topic(std::move(topic_)),
          payload(std::move(payload_)),
          response_topic(std::move(response_topic_)),
          correlation_data(std::move(correlation_data_)) {}

    std::string topic;
    std::string payload;
    std::optional<std::string> response_topic;    // MQTT v5
    std::optional<std::string> correlation_data;  // MQTT v5
};

class PlatformAgent {
public:
    struct Output {
        std::vector<PublishRequest> publishes;  // responses and reports; not readings, not queued
        struct Dispatch {
            std::uint64_t ticket;
            Command command;
        };
        std::vector<Dispatch> commands;  // for plugins; answer with on_command_done(ticket, ...)
        struct Refusal {
            std::shared_ptr<const Message> message;
            std::string reason;
        };
        std::vector<Refusal> refused;  // delivered readings the platform then refused
        std::vector<std::pair<LogLevel, std::string>> log;

        void say(LogLevel level, std::string line) { log.emplace_back(level, std::move(line)); }
    };

    virtual ~PlatformAgent() = default;

    // Topic filters to subscribe to after every CONNACK.
    virtual std::vector<std::string> subscriptions() const = 0;
    virtual void on_online(WallTime now, Output& out) { (void)now, (void)out; }
    virtual void on_offline() {}
    // The [[sensor]]s that run now (running or degraded): before on_online,
    // and again whenever the set may have changed.
    virtual void on_sensors(const std::set<std::string>& running, WallTime now, Output& out) {
        (void)running, (void)now, (void)out;
    }
    // The upstream stops for good (not a reload that replaces it): last
    // words, sent while the connection allows.
    virtual void on_stop(WallTime now, Output& out) { (void)now, (void)out; }
    // What an agent hands to the one replacing it at a reload: the platform
    // entities it reported online, which the new one may no longer map.
    virtual std::vector<std::string> online_entities() const { return {}; }
    virtual void inherit_online_entities(std::vector<std::string> entities) { (void)entities; }
    // Whether the platform counts the PUBLISHes it sends the device in the
    // connection's publish rate (AWS IoT Core: "inbound and outbound").
    virtual bool inbound_counts_toward_rate() const { return false; }
    // A reading was acknowledged by the broker, in the publish that travelled
    // under outbox id `id` (a batch's first reading's id, for all its readings).
    virtual void on_delivered(std::uint64_t id, const std::shared_ptr<const Message>& message, WallTime now,
                              Output& out) {
        (void)id, (void)message, (void)now, (void)out;
    }
    virtual void on_inbound(const InboundPublish& publish, WallTime now, Output& out) = 0;
    virtual void on_command_done(std::uint64_t ticket, const CommandOutcome& outcome, WallTime now, Output& out) = 0;
    // When the agent wants on_tick() next; nullopt: not before something else happens.
    virtual std::optional<WallTime> next_tick() const { return std::nullopt; }
    virtual void on_tick(WallTime now, Output& out) { (void)now, (void)out; }
};

}  // namespace gwd
