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
    UpstreamState state = UpstreamState::idle;
    std::uint64_t attempts = 0;        // CONNECTs sent since start
    int last_reason = -1;              // last CONNACK/DISCONNECT code; -1 when none
    std::string last_error;            // the last failure, as logged
    std::chrono::system_clock::time_point next_attempt{};  // in backoff
    int window = 0;                    // outstanding publishes allowed
    std::uint64_t sent = 0;            // acknowledged by the broker
    std::uint64_t rejected = 0;        // refused by the broker (PUBACK >= 0x80)
    std::uint64_t not_routed = 0;      // messages this upstream does not carry
    OutboxStats outbox;
};

}  // namespace gwd
