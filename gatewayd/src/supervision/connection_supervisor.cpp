#include "supervision/connection_supervisor.h"

#include <algorithm>

#include "common/text.h"
#include "mqtt/broker_url.h"

namespace gwd {

ConnectionSupervisor::ConnectionSupervisor(SupervisorSettings settings, std::function<double()> uniform01)
    : settings_(settings),
      uniform01_(uniform01),
      backoff_(settings.backoff, uniform01),
      last_connect_(settings.last_connect) {}

Duration ConnectionSupervisor::connect_delay(Clock::time_point now) const {
    if (!last_connect_) return Duration(0);
    const auto since = std::chrono::duration_cast<Duration>(now - *last_connect_);
    return since >= settings_.min_connect_interval ? Duration(0) : settings_.min_connect_interval - since;
}

void ConnectionSupervisor::on_connect_sent(Clock::time_point now) { last_connect_ = now; }

void ConnectionSupervisor::on_connected(Clock::time_point now) {
    backoff_.connected(now);
    // The broker that dropped us a moment ago took us straight back: it is
    // up and chose to end that connection, as it does on a takeover.
    if (takeover_suspected_at_) record_takeover(*takeover_suspected_at_);
    takeover_suspected_at_.reset();
    fresh_credentials_tried_ = false;
    redirects_in_a_row_ = 0;
}

Duration ConnectionSupervisor::backoff_delay(Duration floor) { return backoff_.next_delay(floor); }

int ConnectionSupervisor::takeovers_since(Clock::time_point now) {
    while (!takeovers_.empty() && now - takeovers_.front() > settings_.takeover_window) takeovers_.pop_front();
    return static_cast<int>(takeovers_.size());
}

bool ConnectionSupervisor::record_takeover(Clock::time_point now) {
    takeovers_.push_back(now);
    return takeovers_since(now) >= settings_.takeover_limit;
}

void ConnectionSupervisor::watch_topic_aliases(const FailureEvent& event, SupervisorDecision& d) {
    if (!event.connection_was_up) return;
    // A connection that stayed up: suspended aliases come back.
    if (event.connection_age >= settings_.young_connection && topic_aliases_suspended_) {
        topic_aliases_suspended_ = false;
        d.topic_aliases_back = !topic_aliases_off_;
    }
    // The same message oldest in flight as at the drop before explains this
    // one better than the aliases do (a message the broker refuses).
    if (event.same_message_as_last_drop) return;
    if (!event.right_after_alias_use || event.failure.code >= 0) {
        alias_drops_in_a_row_ = 0;
        return;
    }
    // Paho loses a DISCONNECT 0x94 when the broker closes the socket right
    // after it: two silent drops in a row right after alias use are taken
    // for one. One is not: a broker restart sends no reason either.
    if (++alias_drops_in_a_row_ < 2) return;
    alias_drops_in_a_row_ = 0;
    topic_aliases_suspended_ = true;
    d.topic_aliases_suspended = true;
    if (++alias_suspensions_ >= 3) {
        topic_aliases_off_ = true;
        d.topic_aliases_off = true;
    }
}

SupervisorDecision ConnectionSupervisor::on_failure(const FailureEvent& event, Clock::time_point now) {
    SupervisorDecision d;
    d.classification = classify_failure(event.failure);
    if (event.connection_was_up) backoff_.disconnected(now);
    // A suspected takeover is confirmed only by a CONNECT that succeeds.
    takeover_suspected_at_.reset();
    // A broker that refuses even the TCP connection was down, not shared
    // with a twin: the silent drops before it were outages, not takeovers.
    if (!event.connection_was_up && event.failure.source == FailureSource::transport) takeovers_.clear();
    watch_topic_aliases(event, d);

    auto park = [&](std::optional<Duration> retry_after) {
        parked_ = true;
        d.kind = SupervisorDecision::Kind::park;
        d.retry_after = retry_after;
        return d;
    };

    switch (d.classification.action) {
        case FailureAction::stop:
            if (settings_.credentials_time_derived && !fresh_credentials_tried_) {
                fresh_credentials_tried_ = true;
                d.regenerate_credentials = true;
                d.delay = Duration(0);
                return d;
            }
            return park(settings_.retry_after_auth_failure);

        case FailureAction::stop_incompatible: return park(settings_.retry_after_incompatible);

        case FailureAction::retry_after_floor: {
            const int code = event.failure.code;
            d.slow_down = event.failure.mqtt_version == 5 && (code == 0x89 || code == 0x96 || code == 0x97);
            d.delay = backoff_delay(settings_.throttled_floor);
            return d;
        }

        case FailureAction::follow_reference:
            if (settings_.follow_server_reference && event.server_reference &&
                ++redirects_in_a_row_ <= settings_.redirect_limit) {
                d.redirect_to = event.server_reference;
                d.redirect_is_permanent = event.failure.code == 0x9D;
                d.delay = Duration(0);
                return d;
            }
            d.delay = backoff_delay();
            return d;

        case FailureAction::retry_counting_takeovers:
            if (record_takeover(now)) {
                d.takeover_conflict = true;
                return park(settings_.retry_after_auth_failure.value_or(settings_.conflict_retry_after));
            }
            d.delay = backoff_delay();
            return d;

        case FailureAction::retry_without_topic_aliases:
            topic_aliases_off_ = true;
            d.topic_aliases_off = true;
            d.delay = backoff_delay();
            return d;

        case FailureAction::retry_within_packet_limit:
        case FailureAction::retry:
            // Brokers that close the old socket on a takeover send no 0x8E
            // (mosquitto does not); a killed broker sends nothing either. A
            // connection that dies young with no reason given is a suspected
            // takeover: the next CONNECT goes out at once, and if the broker
            // answers it, it was up and dropped us on purpose. If nobody
            // listens, it was an outage. A drop with the same message
            // oldest in flight as the drop before is that message's doing.
            if (event.connection_was_up && event.failure.source == FailureSource::transport &&
                event.connection_age < settings_.young_connection && !event.same_message_as_last_drop) {
                if (takeovers_since(now) + 1 >= settings_.takeover_limit) {
                    record_takeover(now);
                    d.classification.failure_class = FailureClass::conflict;
                    d.takeover_conflict = true;
                    return park(settings_.retry_after_auth_failure.value_or(settings_.conflict_retry_after));
                }
                takeover_suspected_at_ = now;
                d.delay = Duration(0);
                return d;
            }
            d.delay = backoff_delay();
            return d;
    }
    d.delay = backoff_delay();
    return d;
}

void ConnectionSupervisor::rearm() {
    parked_ = false;
    topic_aliases_off_ = false;
    topic_aliases_suspended_ = false;
    alias_drops_in_a_row_ = 0;
    alias_suspensions_ = 0;
    takeovers_.clear();
    takeover_suspected_at_.reset();
    fresh_credentials_tried_ = false;
    redirects_in_a_row_ = 0;
    backoff_ = Backoff(settings_.backoff, uniform01_);
}

std::optional<std::string> resolve_server_reference(const std::string& current_url, const std::string& reference) {
    std::string_view ref = trim(reference);
    ref = ref.substr(0, ref.find(' '));  // a list: its first entry
    if (ref.empty()) return std::nullopt;
    std::string error;
    const auto current = mqtt::parse_broker_url(current_url, error);
    if (!current) return std::nullopt;
    auto target = mqtt::parse_host_port(ref, current->port, error);
    if (!target) return std::nullopt;
    target->tls = current->tls;
    return target->str();
}

}  // namespace gwd
