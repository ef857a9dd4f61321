// An upstream session's status as `gatewayd status`, the log and sd_notify
// see it: written by the session's thread, read by any. One lock, held only
// to copy or bump a field.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "outbox/outbox.h"
#include "upstream/upstream_status.h"

namespace gwd {

class StatusBoard {
public:
    StatusBoard(const std::string& name, const std::string& url, const std::string& client_id,
                const UpstreamStatus* carried);

    // A copy, with the outbox's own figures.
    UpstreamStatus snapshot(const Outbox& outbox) const;

    // Changes fields under the lock; `change` must not block.
    template <typename Change>
    void update(Change&& change) {
        std::lock_guard lock(mutex_);
        change(status_);
    }

    void set_state(UpstreamState state, std::string stopped_reason = {});
    void set_backoff(std::chrono::system_clock::time_point next_attempt);
    // The last failure, with its reason code's name in `mqtt_version`'s words.
    void record_failure(const std::string& error, int reason, int mqtt_version);

    // The pump's window, written without the lock at every publish.
    void set_in_flight(int n) { in_flight_.store(n, std::memory_order_relaxed); }

    void connect_sent(std::chrono::steady_clock::time_point at, const std::string& url);
    std::optional<std::chrono::steady_clock::time_point> last_connect() const;
    // The client id the session connects with now (a reload may change it).
    std::string client_id() const;

private:
    mutable std::mutex mutex_;
    UpstreamStatus status_;
    std::optional<std::chrono::steady_clock::time_point> last_connect_;
    std::atomic<int> in_flight_{0};
};

}  // namespace gwd
