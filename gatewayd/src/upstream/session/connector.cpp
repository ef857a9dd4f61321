#include "upstream/session/connector.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

#include "common/text.h"
#include "common/units.h"
#include "mqtt/reason_codes.h"
#include "upstream/profiles/platform_credentials.h"

namespace gwd {

namespace {

const Duration kYoungConnection = SupervisorSettings{}.young_connection;

// Before this year the clock was never set: this code did not exist yet.
constexpr int kFirstPlausibleYear = 2024;

// The box has no real-time clock and NTP has not run yet: certificates
// cannot be judged.
bool clock_unset(std::chrono::system_clock::time_point wall) {
    const std::time_t now = std::chrono::system_clock::to_time_t(wall);
    struct tm tm {};
    gmtime_r(&now, &tm);
    return tm.tm_year + 1900 < kFirstPlausibleYear;
}

int whole_seconds(Duration d) { return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(d).count()); }

}  // namespace

Connector::Connector(Context context, std::unique_ptr<CredentialSource> credentials,
                     std::optional<Steady::time_point> last_connect, std::function<double()> uniform01)
    : c_(context),
      credentials_(std::move(credentials)),
      supervisor_(
          [&] {
              SupervisorSettings s;
              s.last_connect = last_connect;
              s.backoff = c_.config.backoff;
              s.throttled_floor = c_.config.backoff.throttled_floor;
              s.follow_server_reference = c_.config.follow_server_reference;
              s.retry_after_auth_failure = c_.config.retry_after_auth_failure;
              s.credentials_time_derived = credentials_->time_derived();
              return s;
          }(),
          std::move(uniform01)),
      target_url_(c_.config.url) {}

bool Connector::try_rearm(const std::string& reason, bool only_if_credentials_changed) {
    std::string why = reason;
    if (!why.empty() && only_if_credentials_changed && credential_fingerprint() == failed_fingerprint_) {
        // touch, chmod, or a rewrite with the same content: the same
        // credentials would be refused again, at the broker's expense.
        c_.log.info(why + ", but the credentials read the same; still stopped");
        return false;
    }
    if (why.empty()) {
        if (!parked_retry_at_ || c_.time.now() < *parked_retry_at_) return false;  // woken early
        why = "retry_after_auth_failure (" + format_duration(*c_.config.retry_after_auth_failure) + ") has passed";
    }
    supervisor_.rearm();
    parked_retry_at_.reset();
    c_.log.notice("trying again: " + why);
    return true;
}

std::optional<ConnectSettings> Connector::next_connect() {
    std::string error;
    auto credentials = credentials_->at(c_.time.wall(), error);
    if (!credentials) {
        c_.status.record_failure(error, -1, c_.config.mqtt_version);
        c_.log.warning("cannot connect: " + error);
        return std::nullopt;
    }
    ConnectSettings s;
    s.url = target_url_;
    s.client_id = assigned_client_id_.value_or(credentials->client_id);
    s.mqtt_version = c_.config.mqtt_version;
    s.keep_alive_s = learned_keep_alive_s_.value_or(whole_seconds(c_.config.keep_alive));
    s.connect_timeout_s = whole_seconds(c_.config.connect_timeout);
    s.clean_start = c_.config.clean_start;
    s.session_expiry_s =
        static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(c_.config.session_expiry).count());
    s.username = credentials->username;
    s.password = credentials->password;
    s.tls = target_url_.rfind("ssl://", 0) == 0;
    if (c_.config.ca_file) s.ca_file = c_.config.ca_file->string();
    if (c_.config.cert_file) s.cert_file = c_.config.cert_file->string();
    if (c_.config.key_file) s.key_file = c_.config.key_file->string();
    s.tls_verify = c_.config.tls_verify;
    s.alpn = c_.config.alpn;
    s.max_inflight = c_.config.max_inflight;
    credentials_expire_at_ = credentials->expires_at;
    c_.status.update([&](UpstreamStatus& status) { status.client_id = s.client_id; });
    return s;
}

Duration Connector::local_problem_delay() {
    FailureEvent event;  // a transport-like failure: costs the broker nothing, backs off all the same
    const SupervisorDecision d = supervisor_.on_failure(event, c_.time.now());
    c_.status.set_backoff(c_.time.wall() + d.delay);
    return d.delay;
}

void Connector::connect_sent() {
    const auto now = c_.time.now();
    supervisor_.on_connect_sent(now);
    failed_fingerprint_ = credential_fingerprint();
    c_.status.connect_sent(now, target_url_);
}

ConnectionLimits Connector::connected(const ConnackInfo& c, const ConnectSettings& s) {
    supervisor_.on_connected(c_.time.now());
    const bool v5 = c_.config.mqtt_version == 5;
    ConnectionLimits limits;
    limits.window = static_cast<size_t>(c_.config.max_inflight);
    if (v5 && c.receive_maximum > 0 && static_cast<size_t>(c.receive_maximum) < limits.window)
        limits.window = static_cast<size_t>(c.receive_maximum);
    limits.qos = c_.config.qos;
    if (v5 && c.maximum_qos < limits.qos) {
        limits.qos = c.maximum_qos;
        if (!warned_qos_)
            c_.log.warning("the broker allows QoS " + std::to_string(c.maximum_qos) + " only; publishing at that QoS");
        warned_qos_ = true;
    }
    limits.retain = !v5 || c.retain_available;
    if (c_.config.retain && !limits.retain && !warned_retain_) {
        c_.log.warning("the broker does not support retained messages; publishing without the retain flag");
        warned_retain_ = true;
    }
    limits.maximum_packet_size = v5 ? c.maximum_packet_size : 0;
    const bool aliases = v5 && c_.config.topic_alias && supervisor_.topic_aliases_allowed();
    limits.topic_alias_maximum = aliases ? c.topic_alias_maximum : 0;
    if (v5 && c.assigned_client_id && !assigned_client_id_) {
        assigned_client_id_ = c.assigned_client_id;
        c_.log.info("the broker assigned client id '" + *c.assigned_client_id + "'");
    }
    c_.status.update([&](UpstreamStatus& status) {
        status.window = static_cast<int>(limits.window);
        if (assigned_client_id_) status.client_id = *assigned_client_id_;
    });
    std::string line = "connected to " + s.url + " as '" + s.client_id + "' (MQTT " + (v5 ? "5" : "3.1.1") +
                       ", up to " + std::to_string(limits.window) + " publishes in flight";
    if (aliases) line += ", " + std::to_string(c.topic_alias_maximum) + " topic aliases";
    if (limits.maximum_packet_size > 0)
        line += ", packets up to " + std::to_string(limits.maximum_packet_size) + " bytes";
    c_.log.notice(line + ")");
    return limits;
}

bool Connector::keep_alive_too_long(const ConnackInfo& c) {
    if (c_.config.mqtt_version != 5 || !c.server_keep_alive) return false;
    const int current = learned_keep_alive_s_.value_or(whole_seconds(c_.config.keep_alive));
    if (*c.server_keep_alive == current) return false;
    learned_keep_alive_s_ = *c.server_keep_alive;
    if (*c.server_keep_alive > current && current != 0) return false;  // pinging more often is harmless
    c_.log.notice("the broker asks for a keep alive of " + std::to_string(*c.server_keep_alive) +
                  "s; reconnecting with it");
    return true;
}

std::optional<Connector::Steady::time_point> Connector::renew_at() const {
    if (!credentials_expire_at_) return std::nullopt;
    const auto left = *credentials_expire_at_ - c_.time.wall();
    const auto margin = std::min<std::chrono::system_clock::duration>(std::chrono::seconds(60), left / 10);
    return c_.time.now() + std::chrono::duration_cast<Steady::duration>(left - margin);
}

// The MQTT version of a CONNACK code: a 3.1.1 broker answers an MQTT 5
// CONNECT with a 3.1.1 return code (below 0x80).
int Connector::answered_in(int connack_code) const {
    return c_.config.mqtt_version == 5 && connack_code > 0 && connack_code < 0x80 ? 4 : c_.config.mqtt_version;
}

std::string Connector::describe_connect_failure(const ConnectResult& r) const {
    if (r.reason >= 0) {
        std::string text = "the broker refused the connection: " + describe_reason(answered_in(r.reason), r.reason);
        if (answered_in(r.reason) != c_.config.mqtt_version) text += " (answered in MQTT 3.1.1)";
        if (r.connack.reason_string) text += " (\"" + *r.connack.reason_string + "\")";
        return text;
    }
    if (!r.tls_error.empty()) return "TLS handshake failed: " + r.tls_error;
    if (r.timed_out) return "no CONNACK within " + format_duration(c_.config.connect_timeout);
    return r.message.empty() ? "connect failed" : r.message;
}

Connector::Next Connector::connect_failed(const ConnectResult& result, int failures_in_a_row) {
    FailureEvent event;
    event.failure.mqtt_version = c_.config.mqtt_version;
    event.failure.code = result.reason;
    event.failure.tls_error = result.tls_error;
    event.failure.source = result.reason >= 0          ? FailureSource::connack
                           : !result.tls_error.empty() ? FailureSource::tls
                                                       : FailureSource::transport;
    event.server_reference = result.connack.server_reference;
    event.failure.has_server_reference = event.server_reference.has_value();
    event.failure.clock_unset = clock_unset(c_.time.wall());
    std::string error = describe_connect_failure(result);
    if (event.failure.source == FailureSource::tls && event.failure.clock_unset) {
        error += " (the system clock is not set, so certificates cannot be checked yet)";
    }
    c_.status.record_failure(error, result.reason, answered_in(result.reason));
    return after_failure(event, "cannot connect to " + target_url_ + ": " + error, failures_in_a_row);
}

Connector::Next Connector::connection_lost(const Loss& loss, int failures_in_a_row) {
    const auto now = c_.time.now();
    FailureEvent event;
    event.failure.code = loss.reason;
    event.server_reference = loss.server_reference;
    event.failure.mqtt_version = c_.config.mqtt_version;
    event.failure.source = loss.reason >= 0 ? FailureSource::disconnect : FailureSource::transport;
    event.failure.has_server_reference = event.server_reference.has_value();
    event.connection_was_up = true;
    event.connection_age = std::chrono::duration_cast<Duration>(now - loss.connected_at);
    // Paho often loses a DISCONNECT's reason when the broker closes the
    // socket right after it (our next write fails first), so a 0x94 can
    // look like a plain drop: the supervisor watches drops right after
    // topic aliases came into use.
    event.right_after_alias_use = loss.first_alias_use && now - *loss.first_alias_use < kYoungConnection;
    event.same_message_as_last_drop = loss.oldest_unanswered && loss.oldest_unanswered == last_drop_oldest_;
    last_drop_oldest_ = loss.oldest_unanswered;
    c_.status.record_failure(loss.cause, loss.reason, c_.config.mqtt_version);
    return after_failure(event, "connection to " + target_url_ + " lost: " + loss.cause, failures_in_a_row);
}

Connector::Next Connector::after_failure(const FailureEvent& event, const std::string& error, int failures_in_a_row) {
    const auto now = c_.time.now();
    const SupervisorDecision d = supervisor_.on_failure(event, now);
    const std::string class_name(failure_class_name(d.classification.failure_class));
    if (d.slow_down) {
        c_.pacer.quota_exceeded(now);
        c_.status.update([&](UpstreamStatus& s) { s.publish_rate_limit = c_.pacer.current_rate(); });
    }

    if (d.kind == SupervisorDecision::Kind::park) {
        std::string reason;
        if (d.takeover_conflict) {
            reason = "another client uses client id '" + c_.status.client_id() + "' (" +
                     std::to_string(supervisor_.takeovers_in_window()) +
                     " session takeovers within minutes); give each client its own client_id";
        } else {
            reason = error + ". " + d.classification.advice;
        }
        if (d.retry_after) parked_retry_at_ = now + *d.retry_after;
        c_.status.set_state(UpstreamState::stopped, reason);
        if (d.retry_after)
            c_.status.update([&](UpstreamStatus& s) { s.next_attempt = c_.time.wall() + *d.retry_after; });
        c_.log.error("stopped: " + reason + ". " + rearm_hint());
        return {true, Duration(0)};
    }
    if (d.redirect_to) {
        if (auto url = resolve_server_reference(target_url_, *d.redirect_to)) {
            c_.log.notice("the broker redirects to " + *url + " (" + error + "); following it");
            target_url_ = *url;
            if (!d.redirect_is_permanent) redirect_is_temporary_ = true;
            return {false, Duration(0)};
        }
        c_.log.warning("the broker redirects to an unusable Server Reference '" + printable(*d.redirect_to) + "'");
    } else if (redirect_is_temporary_) {
        // 0x9C "Use another server" was for that attempt; go home again.
        target_url_ = c_.config.url;
        redirect_is_temporary_ = false;
    }
    if (d.regenerate_credentials) {
        c_.log.notice(error + "; trying once more with freshly derived credentials");
        return {false, Duration(0)};
    }
    if (d.topic_aliases_off) {
        c_.log.warning(error +
                       (event.failure.code == 0x94 ? ": the broker refused our topic aliases"
                                                   : ": the connection keeps dropping right after topic "
                                                     "aliases come into use") +
                       "; they stay off until the configuration is reloaded");
    } else if (d.topic_aliases_suspended) {
        c_.log.warning(error +
                       ": the connection dropped twice in a row right after topic aliases came into use; "
                       "reconnecting without them until a connection stays up");
    }
    if (d.topic_aliases_back) c_.log.info("a connection stayed up: topic aliases may be used again");
    if (d.classification.failure_class == FailureClass::redirect && !c_.config.follow_server_reference) {
        c_.log.warning(error + "; not following it (set follow_server_reference = true to allow)");
    }
    // The supervisor also keeps CONNECTs a second apart; say when the next really is.
    const Duration delay = std::max(d.delay, supervisor_.connect_delay(now));
    c_.status.set_backoff(c_.time.wall() + delay);
    const std::string line = error + " [" + class_name + "]; retrying in " + format_duration(delay);
    // The first failure is worth a warning; repeats only at info and at
    // most once a minute, so a long outage does not flood the journal.
    if (failures_in_a_row <= 1) {
        c_.log.warning(line);
        last_failure_line_ = now;
        failures_unlogged_ = 0;
    } else if (now - last_failure_line_ >= std::chrono::minutes(1)) {
        c_.log.info(line + (failures_unlogged_ > 0 ? " (" + std::to_string(failures_unlogged_ + 1) +
                                                         " attempts failed since the last line)"
                                                   : std::string()));
        last_failure_line_ = now;
        failures_unlogged_ = 0;
    } else {
        c_.log.debug(line);
        ++failures_unlogged_;
    }
    return {false, d.delay};
}

// The files and the ways that re-arm a stopped upstream, for its log line:
// "it tries again when /etc/x changes, on SIGHUP (...), or in 10m".
std::string Connector::rearm_hint() const {
    std::vector<std::string> ways;
    std::string files;
    for (const auto& f : credential_files(c_.config)) files += (files.empty() ? "" : ", ") + f.string();
    if (!files.empty()) ways.push_back("when " + files + " changes");
    ways.push_back("on SIGHUP (systemctl reload gatewayd)");
    if (c_.config.retry_after_auth_failure)
        ways.push_back("in " + format_duration(*c_.config.retry_after_auth_failure));
    std::string hint = "Readings for it keep queueing; it tries again ";
    for (size_t i = 0; i < ways.size(); ++i) {
        if (i > 0) hint += i + 1 == ways.size() ? (ways.size() > 2 ? ", or " : " or ") : ", ";
        hint += ways[i];
    }
    return hint + ".";
}

// The content of every credential file, so that a file event that changed
// nothing does not cost the broker another refused CONNECT.
std::size_t Connector::credential_fingerprint() const {
    std::string all;
    for (const auto& f : credential_files(c_.config)) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream content;
        content << in.rdbuf();
        all += f.string() + '\0' + content.str() + '\0';
    }
    return std::hash<std::string>{}(all);
}

}  // namespace gwd
