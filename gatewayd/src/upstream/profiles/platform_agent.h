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
#include <string>
#include <vector>

#include "common/log.h"
#include "common/message.h"
#include "common/command.h"
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
    // Reading `id` was acknowledged by the broker.
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
