// A snapshot of one upstream for logs, sd_notify STATUS= and `gatewayd status`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "outbox/outbox.h"

namespace gwd {

enum class UpstreamState { idle, connecting, online, backoff, stopped };

std::string_view upstream_state_name(UpstreamState state);

struct UpstreamStatus {
    std::string name;
    std::string url;        // where it connects now (after a redirect: there)
    std::string client_id;  // as sent, or as assigned by the broker
    UpstreamState state = UpstreamState::idle;
    std::string stopped_reason;                            // state stopped: why, and what to check
    std::uint64_t attempts = 0;                            // CONNECTs sent since start
    int last_reason = -1;                                  // last CONNACK/DISCONNECT/PUBACK refusal code; -1 when none
    std::string last_reason_name;                          // "Not authorized"
    std::string last_error;                                // the last failure, as logged
    std::chrono::system_clock::time_point next_attempt{};  // state backoff (or a timed retry when stopped)
    std::chrono::system_clock::time_point online_since{};  // state online
    int window = 0;                                        // outstanding publishes allowed
    int in_flight = 0;                                     // publishes sent and not yet acknowledged
    int topic_aliases = 0;                                 // aliases in use on this connection
    double publish_rate_limit = 0;                         // publishes/s; 0 unlimited
    std::uint64_t sent = 0;                                // acknowledged by the broker
    std::uint64_t dead_lettered = 0;        // refused by the broker (or too large) and sent to the dead-letter topic
    std::uint64_t dropped = 0;              // refused and not deliverable anywhere
    std::uint64_t commands = 0;             // platform commands and requests handed to plugins
    std::uint64_t responses = 0;            // responses and reports published (not readings)
    std::uint64_t refused_by_platform = 0;  // delivered, then refused in the platform's reply (OneNET)
    OutboxStats outbox;
};

}  // namespace gwd
