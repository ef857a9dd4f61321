// Message expiry arithmetic (MQTT 5.0, 3.3.2.3.3 Message Expiry Interval).
// Deadlines are wall-clock milliseconds; 0 means "never". Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace gwd {

// The earlier of two deadlines, where 0 is "never".
std::int64_t earlier_deadline(std::int64_t a, std::int64_t b);

// accepted_ms + lifetime, or 0 when there is no lifetime. A zero or negative
// lifetime means "never" too: MQTT v5 has no interval of zero.
std::int64_t deadline_after(std::int64_t accepted_ms, std::optional<std::chrono::milliseconds> lifetime);

struct ExpiryVerdict {
    bool expired = false;
    // The Message Expiry Interval to publish with, rounded up to whole
    // seconds so the message never dies early; 0 when it has no deadline.
    std::uint32_t remaining_s = 0;
};

ExpiryVerdict check_expiry(std::int64_t expires_at_ms, std::int64_t now_ms);

}  // namespace gwd
