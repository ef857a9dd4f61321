// Decides, after every failed CONNECT or lost connection, what the upstream
// does next: retry after how long, where, with which features, or stop
// ("park") until its credentials change. Pure: the clock and the random
// source are arguments, so every sequence is unit-tested. The upstream
// sessions use it, and so does mqtt_local for its local broker.
//
// - Authorization failures cost exactly one CONNECT. Time-derived
//   credentials (Huawei's hourly password, OneNET's token) are regenerated
//   and tried once more first: an expired token is not a revoked one.
// - A broker that needs another MQTT version parks the connection too.
// - Throttling waits at least `throttled_floor`.
// - Repeated takeovers of the client id (DISCONNECT 0x8E, or connections
//   dropped within seconds of connecting, as mosquitto does without 0x8E)
//   within `takeover_window` stop the upstream: another client uses its id.
//   A silent drop counts only once the CONNECT sent straight after it
//   succeeds; one refused at the TCP level clears the count: that broker
//   was down (killed, restarting), not shared with a twin. A drop with the
//   same message oldest in flight as at the drop before is that message's
//   doing (a publish the broker's ACL or policy answers by closing the
//   connection), not a twin's.
// - Topic aliases go off for good on 0x94 (and 0x81, 0x82); two silent drops
//   in a row right after aliases came into use suspend them until a
//   connection stays up (three such suspensions: off for good).
// - Everything else backs off exponentially with full jitter.
// - No two CONNECTs are closer than `min_connect_interval`.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "supervision/backoff.h"
#include "supervision/failure_classifier.h"

namespace gwd {

struct SupervisorSettings {
    BackoffConfig backoff;
    Duration throttled_floor{30000};
    Duration min_connect_interval{1000};
    bool follow_server_reference = false;
    std::optional<Duration> retry_after_auth_failure;  // none: stay stopped until re-armed
    std::optional<Duration> retry_after_incompatible;  // none: stay stopped until re-armed
    bool credentials_time_derived = false;
    int takeover_limit = 3;
    Duration takeover_window{120000};
    Duration young_connection{10000};       // a loss sooner than this after CONNACK (or alias use) is suspicious
    Duration conflict_retry_after{600000};  // a client-id conflict is retried after this long
    int redirect_limit = 5;                 // redirects in a row without a working connection
    // When the previous session of this upstream sent its last CONNECT (a
    // reload replaces sessions; the one-per-second rule spans them).
    std::optional<std::chrono::steady_clock::time_point> last_connect;
};

struct FailureEvent {
    Failure failure;
    bool connection_was_up = false;  // lost after CONNACK, rather than a refused or failed CONNECT
    Duration connection_age{0};
    std::optional<std::string> server_reference;
    // The oldest publish in flight at this drop was the oldest at the drop
    // before too: the message, not a twin, is the suspect.
    bool same_message_as_last_drop = false;
    // Topic aliases came into use on this connection shortly before it died.
    bool right_after_alias_use = false;
};

struct SupervisorDecision {
    enum class Kind { retry, park };
    Kind kind = Kind::retry;
    Classification classification;
    Duration delay{0};                       // before the next CONNECT (retry)
    bool regenerate_credentials = false;     // the retry uses freshly derived credentials
    std::optional<std::string> redirect_to;  // connect there next
    bool redirect_is_permanent = false;      // 0x9D "Server moved": stay there
    bool topic_aliases_off = false;          // from now on
    bool topic_aliases_suspended = false;    // until a connection stays up
    bool topic_aliases_back = false;         // a connection stayed up: they may be used again
    bool takeover_conflict = false;          // parked: another client uses the client id
    std::optional<Duration> retry_after;     // parked, but retry after this long
    bool slow_down = false;                  // the broker asked to send less (0x89, 0x96, 0x97)
};

class ConnectionSupervisor {
public:
    using Clock = std::chrono::steady_clock;

    ConnectionSupervisor(SupervisorSettings settings, std::function<double()> uniform01);

    // How long to wait before a CONNECT at `now`, so that CONNECTs are at
    // least min_connect_interval apart.
    Duration connect_delay(Clock::time_point now) const;
    void on_connect_sent(Clock::time_point now);
    void on_connected(Clock::time_point now);
    SupervisorDecision on_failure(const FailureEvent& event, Clock::time_point now);

    // Credentials or configuration changed: forget the past and try again.
    void rearm();

    bool parked() const { return parked_; }
    std::optional<Clock::time_point> last_connect() const { return last_connect_; }
    bool topic_aliases_allowed() const { return !topic_aliases_off_ && !topic_aliases_suspended_; }
    int takeovers_in_window() const { return static_cast<int>(takeovers_.size()); }

private:
    Duration backoff_delay(Duration floor = Duration(0));
    void watch_topic_aliases(const FailureEvent& event, SupervisorDecision& d);
    bool record_takeover(Clock::time_point now);
    int takeovers_since(Clock::time_point now);

    SupervisorSettings settings_;
    std::function<double()> uniform01_;
    Backoff backoff_;
    std::optional<Clock::time_point> last_connect_;
    std::deque<Clock::time_point> takeovers_;
    std::optional<Clock::time_point> takeover_suspected_at_;  // a young silent drop, not yet confirmed
    bool fresh_credentials_tried_ = false;
    bool parked_ = false;
    bool topic_aliases_off_ = false;
    bool topic_aliases_suspended_ = false;
    int alias_drops_in_a_row_ = 0;
    int alias_suspensions_ = 0;
    int redirects_in_a_row_ = 0;
};

// Where a Server Reference points, as a URL with the scheme of `current`:
// "host", "host:port" and "[v6]:port" are understood; a list separated by
// spaces gives its first entry. nullopt when it names nothing usable.
std::optional<std::string> resolve_server_reference(const std::string& current_url, const std::string& reference);

}  // namespace gwd
