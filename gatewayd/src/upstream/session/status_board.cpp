#include "upstream/session/status_board.h"

#include "mqtt/reason_codes.h"

namespace gwd {

StatusBoard::StatusBoard(const std::string& name, const std::string& url, const std::string& client_id,
                         const UpstreamStatus* carried) {
    status_.name = name;
    status_.url = url;
    status_.client_id = client_id;
    if (carried != nullptr) {
        // The outbox's totals carry on with the queue; these with the upstream.
        status_.attempts = carried->attempts;
        status_.sent = carried->sent;
        status_.dead_lettered = carried->dead_lettered;
        status_.dropped = carried->dropped;
        status_.commands = carried->commands;
        status_.responses = carried->responses;
        status_.refused_by_platform = carried->refused_by_platform;
    }
}

UpstreamStatus StatusBoard::snapshot(const Outbox& outbox) const {
    UpstreamStatus s;
    {
        std::lock_guard lock(mutex_);
        s = status_;
    }
    s.in_flight = in_flight_.load(std::memory_order_relaxed);
    s.outbox = outbox.stats();
    return s;
}

void StatusBoard::set_state(UpstreamState state, std::string stopped_reason) {
    std::lock_guard lock(mutex_);
    status_.state = state;
    status_.stopped_reason = std::move(stopped_reason);
    if (state != UpstreamState::online) status_.topic_aliases = 0;
}

void StatusBoard::set_backoff(std::chrono::system_clock::time_point next_attempt) {
    std::lock_guard lock(mutex_);
    status_.state = UpstreamState::backoff;
    status_.stopped_reason.clear();
    status_.next_attempt = next_attempt;
}

void StatusBoard::record_failure(const std::string& error, int reason, int mqtt_version) {
    std::lock_guard lock(mutex_);
    status_.last_error = error;
    if (reason >= 0) {
        status_.last_reason = reason;
        status_.last_reason_name =
            std::string(mqtt_version == 5 ? mqtt5_reason_name(reason) : mqtt311_return_code_name(reason));
    }
}

void StatusBoard::connect_sent(std::chrono::steady_clock::time_point at, const std::string& url) {
    std::lock_guard lock(mutex_);
    ++status_.attempts;
    status_.url = url;
    last_connect_ = at;
}

std::optional<std::chrono::steady_clock::time_point> StatusBoard::last_connect() const {
    std::lock_guard lock(mutex_);
    return last_connect_;
}

std::string StatusBoard::client_id() const {
    std::lock_guard lock(mutex_);
    return status_.client_id;
}

}  // namespace gwd
