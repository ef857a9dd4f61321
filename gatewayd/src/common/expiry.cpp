#include "common/expiry.h"

#include <algorithm>
#include <limits>

namespace gwd {

std::int64_t earlier_deadline(std::int64_t a, std::int64_t b) {
    if (a == 0) return b;
    if (b == 0) return a;
    return std::min(a, b);
}

std::int64_t deadline_after(std::int64_t accepted_ms, std::optional<std::chrono::milliseconds> lifetime) {
    if (!lifetime || lifetime->count() <= 0) return 0;
    const std::int64_t max = std::numeric_limits<std::int64_t>::max();
    if (accepted_ms > max - lifetime->count()) return max;
    return accepted_ms + lifetime->count();
}

ExpiryVerdict check_expiry(std::int64_t expires_at_ms, std::int64_t now_ms) {
    ExpiryVerdict v;
    if (expires_at_ms == 0) return v;
    if (now_ms >= expires_at_ms) {
        v.expired = true;
        return v;
    }
    const std::uint64_t left_ms = static_cast<std::uint64_t>(expires_at_ms - now_ms);
    const std::uint64_t seconds = (left_ms + 999) / 1000;
    v.remaining_s =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(seconds, std::numeric_limits<std::uint32_t>::max()));
    return v;
}

}  // namespace gwd
