#include "upstream/session/platform_link.h"

#include <utility>

#include "mqtt/reason_codes.h"

namespace gwd {

PlatformLink::PlatformLink(Context context, std::unique_ptr<PlatformAgent> agent)
    : c_(std::move(context)), agent_(std::move(agent)) {}

void PlatformLink::start(Transport& transport, const std::set<std::string>& sensors, Heartbeat* heart) {
    if (!agent_) return;
    const std::vector<std::string> filters = agent_->subscriptions();
    if (!filters.empty()) {
        const SubscribeResult r = [&] {
            Heartbeat::Excuse excuse(heart);  // bounded by connect_timeout
            return transport.subscribe(filters, 1, c_.config.connect_timeout);
        }();
        if (!r.ok) {
            c_.log.warning("subscribing to the platform's request topics failed (" +
                           (r.error.empty() ? std::string("refused") : r.error) +
                           "); commands will not arrive on this connection");
        } else {
            for (size_t i = 0; i < filters.size() && i < r.granted.size(); ++i) {
                if (r.granted[i] >= 0x80)
                    c_.log.warning("the broker refused the subscription to " + filters[i] + ": " +
                                   describe_reason(5, r.granted[i]));
            }
        }
    }
    agent_->on_sensors(sensors, c_.time.wall(), output_);
    agent_->on_online(c_.time.wall(), output_);
    carry_out(transport);
}

void PlatformLink::handle(const Events& events) {
    if (!agent_) return;
    const auto now = c_.time.wall();
    if (!events.inbound.empty() && agent_->inbound_counts_toward_rate())
        c_.pacer.record_received(c_.time.now(), static_cast<int>(events.inbound.size()));
    if (events.sensors) agent_->on_sensors(*events.sensors, now, output_);
    if (events.saying_goodbye) agent_->on_stop(now, output_);
    for (const InboundPublish& in : events.inbound) agent_->on_inbound(in, now, output_);
    for (const auto& [ticket, outcome] : events.answers) agent_->on_command_done(ticket, outcome, now, output_);
    if (auto tick = agent_->next_tick(); tick && *tick <= now) agent_->on_tick(now, output_);
}

void PlatformLink::carry_out(Transport& transport) {
    PlatformAgent::Output out;
    std::swap(out, output_);
    for (auto& [level, line] : out.log) c_.log.log(level, line);
    for (auto& dispatch : out.commands) {
        c_.status.update([](UpstreamStatus& s) { ++s.commands; });
        c_.log.info("platform command '" + dispatch.command.name + "' for sensor '" + dispatch.command.sensor +
                    "' -> [[sensor]] '" + dispatch.command.instance + "'");
        if (!c_.router) {
            c_.answer(dispatch.ticket,
                      CommandOutcome::failure(CommandOutcome::Status::unsupported, "this gatewayd takes no commands"));
            continue;
        }
        c_.router->dispatch(std::move(dispatch.command),
                            [answer = c_.answer, ticket = dispatch.ticket](CommandOutcome outcome) {
                                answer(ticket, std::move(outcome));
                            });
    }
    for (auto& refusal : out.refused) c_.delivery.refused_after_delivery(refusal.message, refusal.reason);
    for (auto& request : out.publishes) {
        if (backlog_.size() >= kMaxControlBacklog) {
            c_.log.warning("too many responses waiting to be sent; dropped one for " + request.topic);
            continue;
        }
        backlog_.push_back(std::move(request));
    }
    while (!backlog_.empty() && in_flight_ < kControlSlots) {
        PublishRequest& r = backlog_.front();
        if (!c_.pacer.try_take(c_.time.now(), r.rate_cost)) break;  // the session wakes when the pace allows
        OutgoingPublish message;
        message.topic = &r.topic;
        message.payload = &r.payload_bytes();
        message.qos = r.qos;
        if (c_.config.mqtt_version == 5) {
            message.content_type = r.content_type_text();
            if (r.payload_format) message.payload_format = *r.payload_format;
            if (r.correlation_data) message.correlation_data = &*r.correlation_data;
            if (!r.properties.empty()) message.properties = &r.properties;
        }
        const int rc = transport.publish(message, kControlIdBit | ++counter_);
        if (rc != 0) {
            c_.log.warning("could not send " + r.topic + ": " + transport.error_text(rc));
        } else {
            ++in_flight_;  // the client completes QoS 0 publishes too, once written
            c_.status.update([](UpstreamStatus& s) { ++s.responses; });
        }
        backlog_.pop_front();
    }
}

void PlatformLink::delivered(std::uint64_t id, const std::shared_ptr<const Message>& message) {
    if (agent_) agent_->on_delivered(id, message, c_.time.wall(), output_);
}

void PlatformLink::control_done(const PublishCompletion& c) {
    if (in_flight_ > 0) --in_flight_;
    if (!c.ok && c.reason >= 0x80) {
        c_.log.warning("the broker refused a response or report: " + describe_reason(5, c.reason));
    }
}

std::optional<TimeSource::Steady::duration> PlatformLink::control_wait() const {
    if (backlog_.empty() || in_flight_ >= kControlSlots) return std::nullopt;
    return c_.pacer.wait(c_.time.now(), backlog_.front().rate_cost);
}

void PlatformLink::connection_ended() {
    if (agent_) agent_->on_offline();
    in_flight_ = 0;
    backlog_.clear();
}

std::vector<std::string> PlatformLink::online_entities() const {
    return agent_ ? agent_->online_entities() : std::vector<std::string>{};
}

void PlatformLink::inherit_online_entities(std::vector<std::string> entities) {
    if (agent_) agent_->inherit_online_entities(std::move(entities));
}

}  // namespace gwd
