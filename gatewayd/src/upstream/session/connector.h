// How and when an upstream session connects: the settings of each CONNECT
// (credentials derived at that moment, a redirect's target, an assigned
// client id, a learned keep alive), what CONNACK allowed, and after every
// failure what the ConnectionSupervisor decided: retry after a jittered
// backoff, follow a Server Reference, try fresh credentials once, or stop
// ("park") until the credentials change, SIGHUP or retry_after_auth_failure.
// Says each in the log once (repeats at most a line a minute) and in the
// status board. No waiting here: it returns how long the session waits.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/log.h"
#include "common/time_source.h"
#include "config/config.h"
#include "supervision/connection_supervisor.h"
#include "upstream/profiles/credentials.h"
#include "upstream/publish_pacer.h"
#include "upstream/session/publish_pump.h"
#include "upstream/session/status_board.h"
#include "upstream/transport.h"

namespace gwd {

class Connector {
public:
    using Steady = TimeSource::Steady;

    struct Context {
        const UpstreamConfig& config;
        PublishPacer& pacer;
        StatusBoard& status;
        Logger& log;
        const TimeSource& time;
    };
    // `last_connect`: when the session this one replaces sent its last
    // CONNECT (the one-per-second rule spans a reload). `uniform01`: the
    // jitter's random source.
    Connector(Context context, std::unique_ptr<CredentialSource> credentials,
              std::optional<Steady::time_point> last_connect, std::function<double()> uniform01);

    // ---- stopped ("parked") until something changes
    bool parked() const { return supervisor_.parked(); }
    // When a parked upstream tries again by itself (retry_after_auth_failure).
    std::optional<Steady::time_point> parked_retry_at() const { return parked_retry_at_; }
    // A re-arm (`why`: a credential file changed, a reload) or, with `why`
    // empty, the timed retry. True when the upstream tries again (logged);
    // false when it stays stopped (the same credentials, or woken early).
    bool try_rearm(const std::string& why, bool only_if_credentials_changed);

    // ---- before a CONNECT
    // How long to wait so that CONNECTs stay a second apart.
    Duration connect_spacing() const { return supervisor_.connect_delay(c_.time.now()); }
    // The settings of the next CONNECT; nullopt when its credentials cannot
    // be made (logged and in status): then wait local_problem_delay().
    std::optional<ConnectSettings> next_connect();
    Duration local_problem_delay();
    // The CONNECT goes out now.
    void connect_sent();

    // ---- after CONNACK
    // What this connection may do; logs the "connected to" line.
    ConnectionLimits connected(const ConnackInfo& connack, const ConnectSettings& settings);
    // MQTT 5 says the client must use the Server Keep Alive; Paho cannot
    // change it on a live connection, so a shorter one costs one reconnect.
    bool keep_alive_too_long(const ConnackInfo& connack);
    // When a time-limited password token must be replaced (a reconnect).
    std::optional<Steady::time_point> renew_at() const;

    // ---- after a failure
    struct Next {
        bool parked = false;
        Duration wait{0};  // before the loop goes on (the spacing is waited for before the CONNECT)
    };
    Next connect_failed(const ConnectResult& result, int failures_in_a_row);
    struct Loss {
        std::string cause;
        int reason = -1;  // a server DISCONNECT's reason; -1: none
        std::optional<std::string> server_reference;
        Steady::time_point connected_at;
        std::optional<Steady::time_point> first_alias_use;
        std::optional<std::uint64_t> oldest_unanswered;
    };
    Next connection_lost(const Loss& loss, int failures_in_a_row);

    const std::string& target_url() const { return target_url_; }
    // How a stopped upstream gets going again, for its log line.
    std::string rearm_hint() const;

private:
    int answered_in(int connack_code) const;
    std::string describe_connect_failure(const ConnectResult& r) const;
    Next after_failure(const FailureEvent& event, const std::string& error, int failures_in_a_row);
    std::size_t credential_fingerprint() const;

    Context c_;
    std::unique_ptr<CredentialSource> credentials_;
    ConnectionSupervisor supervisor_;
    std::string target_url_;
    bool redirect_is_temporary_ = false;
    std::optional<std::string> assigned_client_id_;
    std::optional<int> learned_keep_alive_s_;
    std::optional<Steady::time_point> parked_retry_at_;
    std::optional<std::chrono::system_clock::time_point> credentials_expire_at_;
    std::size_t failed_fingerprint_ = 0;             // credential files as they were at the last CONNECT
    std::optional<std::uint64_t> last_drop_oldest_;  // oldest unanswered at the last lost connection
    bool warned_qos_ = false;
    bool warned_retain_ = false;
    Steady::time_point last_failure_line_{};  // repeated connection failures: a line a minute
    std::uint64_t failures_unlogged_ = 0;
};

}  // namespace gwd
