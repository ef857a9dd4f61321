// The session's side of a platform agent (AWS shadow, Huawei and OneNET
// downlink): subscribes to the platform's request topics after CONNACK,
// hands the agent what happened (requests, command answers, sensors coming
// and going, the time), and carries out what it asks: commands to plugins
// through the router, responses and reports as publishes of our own (ids
// with kControlIdBit, at most kControlSlots unanswered, at the pacer's pace,
// at most kMaxControlBacklog waiting), refusals to Delivery. For profile
// "mqtt" there is no agent and every call here is a no-op.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/command.h"
#include "common/liveness.h"
#include "common/log.h"
#include "common/time_source.h"
#include "config/config.h"
#include "upstream/profiles/platform_agent.h"
#include "upstream/publish_pacer.h"
#include "upstream/session/delivery.h"
#include "upstream/session/status_board.h"
#include "upstream/transport.h"

namespace gwd {

// Publishes of our own (responses, shadow reports) carry ids with this bit,
// so their acknowledgements are never mistaken for a queued reading's.
inline constexpr std::uint64_t kControlIdBit = 1ull << 63;
// Responses waiting for a free control slot, at most.
inline constexpr size_t kMaxControlBacklog = 1000;

class PlatformLink {
public:
    struct Context {
        const UpstreamConfig& config;
        PublishPacer& pacer;
        Delivery& delivery;
        StatusBoard& status;
        Logger& log;
        const TimeSource& time;
        CommandRouter* router;  // null: every command is answered "unsupported"
        // Where a plugin's answer to a command goes; may be called from any
        // thread, also after the session is gone.
        std::function<void(std::uint64_t ticket, CommandOutcome outcome)> answer;
    };
    // `agent` may be null (profile "mqtt").
    PlatformLink(Context context, std::unique_ptr<PlatformAgent> agent);

    bool active() const { return agent_ != nullptr; }
    PlatformAgent* agent() const { return agent_.get(); }
    PlatformAgent::Output& output() { return output_; }

    // After CONNACK: the platform's request topics (waiting for the SUBACK,
    // bounded by connect_timeout; `heart` is excused meanwhile), then the
    // agent's start (the AWS shadow get).
    void start(Transport& transport, const std::set<std::string>& sensors, Heartbeat* heart);

    // What happened since the last call; `sensors` when they changed,
    // `saying_goodbye` once, when gatewayd stops for good.
    struct Events {
        std::vector<InboundPublish> inbound;
        std::vector<std::pair<std::uint64_t, CommandOutcome>> answers;
        std::optional<std::set<std::string>> sensors;
        bool saying_goodbye = false;
    };
    void handle(const Events& events);
    // Does what the agent asked for.
    void carry_out(Transport& transport);
    // A reading was delivered (the agent may await it: OneNET's post/reply).
    void delivered(std::uint64_t id, const std::shared_ptr<const Message>& message);
    // One of our own publishes ended.
    void control_done(const PublishCompletion& c);

    // Nothing of ours waiting or unanswered.
    bool idle() const { return backlog_.empty() && in_flight_ == 0; }
    // How long until the next response may go; nullopt when none waits for the pace.
    std::optional<TimeSource::Steady::duration> control_wait() const;
    std::optional<WallTime> next_tick() const { return agent_ ? agent_->next_tick() : std::nullopt; }

    // The connection is gone: the agent hears it, our unanswered publishes
    // and what waited for one are forgotten (the agent sends what is true
    // on the next connection).
    void connection_ended();

    std::vector<std::string> online_entities() const;
    void inherit_online_entities(std::vector<std::string> entities);

private:
    Context c_;
    std::unique_ptr<PlatformAgent> agent_;
    PlatformAgent::Output output_;  // what the agent asked for, not yet carried out
    std::deque<PublishRequest> backlog_;
    int in_flight_ = 0;
    std::uint64_t counter_ = 0;
};

}  // namespace gwd
