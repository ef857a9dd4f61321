#include "upstream/session.h"

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <sstream>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "common/expiry.h"
#include "common/liveness.h"
#include "common/text.h"
#include "common/units.h"
#include "upstream/connection_supervisor.h"
#include "upstream/inflight_window.h"
#include "upstream/paho_client.h"
#include "upstream/profiles/platform_credentials.h"
#include "upstream/publish_pacer.h"
#include "upstream/reason_codes.h"
#include "upstream/topic_aliases.h"

namespace gwd {

std::string_view upstream_state_name(UpstreamState state) {
    switch (state) {
        case UpstreamState::idle: return "idle";
        case UpstreamState::connecting: return "connecting";
        case UpstreamState::online: return "online";
        case UpstreamState::backoff: return "backoff";
        case UpstreamState::stopped: return "stopped";
    }
    return "idle";
}

namespace {

using Clock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

// Safety net for a missed wake-up; normal wake-ups are immediate.
constexpr Duration kIdleWait{250};
// A waiting session thread still beats this often, for the watchdog.
constexpr Duration kBeatEvery{1000};
// A message that the broker answers by closing the connection would be
// re-sent and refused forever, holding up everything behind it. After this
// many connections lost in a row with the same message oldest in flight,
// nothing after it acknowledged and no reason code that excuses the message,
// it goes to the dead-letter topic and the rest flow.
constexpr int kPoisonStrikes = 3;
const Duration kYoungConnection = SupervisorSettings{}.young_connection;

// Reason codes of a server DISCONNECT that can be one message's fault.
bool blames_a_message(int reason) {
    switch (reason) {
        case -1:     // no reason: the socket was closed
        case 0x81:   // malformed packet
        case 0x82:   // protocol error
        case 0x90:   // topic name invalid
        case 0x93:   // receive maximum exceeded
        case 0x95:   // packet too large
        case 0x99:   // payload format invalid
            return true;
        default:
            return false;
    }
}

// The box has no real-time clock and NTP has not run yet: certificates
// cannot be judged.
bool clock_unset() {
    const std::time_t now = SystemClock::to_time_t(SystemClock::now());
    struct tm tm {};
    gmtime_r(&now, &tm);
    return tm.tm_year + 1900 < 2024;
}
std::int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(SystemClock::now().time_since_epoch()).count();
}

// Publishes of our own (responses, shadow reports) carry ids with this bit,
// so their acknowledgements are never mistaken for a queued reading's.
constexpr std::uint64_t kControlIdBit = 1ull << 63;
// Responses waiting for a free control slot, and platform requests waiting
// for the session thread, at most.
constexpr size_t kMaxControlBacklog = 1000;
constexpr size_t kMaxInboundQueued = 1000;

// A 0x97-refused message waits at least this long before it is tried again.
constexpr Duration kQuotaRetryDelay{1000};

std::string hex_code(int code) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "0x%02X", static_cast<unsigned>(code) & 0xFFu);
    return buffer;
}

// An upper bound of the encoded size of a PUBLISH, for Maximum Packet Size.
std::uint64_t publish_packet_size(const PublishRequest& r) {
    std::uint64_t props = 0;
    if (r.content_type) props += 3 + r.content_type->size();
    if (r.payload_format) props += 2;
    props += 2 + 5;  // topic alias, message expiry
    for (const auto& p : r.properties) props += 5 + p.key.size() + p.value.size();
    const std::uint64_t variable = 2 + r.topic.size() + 2 + 4 + props + r.payload.size();
    return 1 + 4 + variable;
}

}  // namespace

// The lock and condition the session thread sleeps on. Shared with the
// outbox's append listener, which may still run for a moment after the
// session is gone (a reload replaces sessions while plugins keep emitting).
struct SessionSignal {
    std::mutex mutex;
    std::condition_variable cv;
    std::atomic<bool> sleeping{false};
    // Plugins' answers to commands; the router may call back after the
    // session is gone, so they land here.
    std::vector<std::pair<std::uint64_t, CommandOutcome>> command_results;

    void command_done(std::uint64_t ticket, CommandOutcome outcome) {
        {
            std::lock_guard lock(mutex);
            command_results.emplace_back(ticket, std::move(outcome));
        }
        cv.notify_one();
    }

    void wake() {
        if (!sleeping.load()) return;
        std::lock_guard lock(mutex);
        cv.notify_one();
    }
};

class UpstreamSession::Impl final : public PahoEvents {
public:
    Impl(UpstreamConfig config, Outbox& outbox, Profile profile, CommandRouter* router, Logger log,
         std::optional<Clock::time_point> last_connect, const UpstreamStatus* carried,
         std::vector<std::string> online_entities)
        : config_(std::move(config)),
          outbox_(outbox),
          codec_(std::move(profile.codec)),
          credentials_(std::move(profile.credentials)),
          agent_(std::move(profile.agent)),
          router_(router),
          log_(std::move(log)),
          rng_(std::random_device{}()),
          supervisor_(supervisor_settings(last_connect), [this] { return uniform_(rng_); }),
          pacer_(config_.max_publish_rate),
          target_url_(config_.url) {
        status_.name = config_.name;
        status_.url = config_.url;
        status_.client_id = config_.client_id;
        if (carried != nullptr) {
            // The outbox's totals carry on with the queue; these with us.
            status_.attempts = carried->attempts;
            status_.sent = carried->sent;
            status_.dead_lettered = carried->dead_lettered;
            status_.dropped = carried->dropped;
            status_.commands = carried->commands;
            status_.responses = carried->responses;
            status_.refused_by_platform = carried->refused_by_platform;
        }
        if (agent_) agent_->inherit_online_entities(std::move(online_entities));
        outbox_.set_append_listener([signal = signal_] { signal->wake(); });
    }

    ~Impl() override {
        if (thread_.joinable()) stop(Clock::now(), false);
        outbox_.set_append_listener({});
    }

    void start() { thread_ = std::thread([this] { run(); }); }

    void stop(Clock::time_point deadline, bool queue_handed_over) {
        {
            std::lock_guard lock(mutex_);
            stop_requested_ = true;
            deadline_ = deadline;
            queue_handed_over_ = queue_handed_over;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
        heart_.reset();  // no longer watched
    }

    void rearm(const std::string& why, bool only_if_credentials_changed) {
        {
            std::lock_guard lock(mutex_);
            rearm_reason_ = why;
            rearm_requested_ = true;
            rearm_only_if_changed_ = only_if_credentials_changed;
        }
        cv_.notify_all();
    }

    void sensors_running(std::set<std::string> instances) {
        {
            std::lock_guard lock(mutex_);
            if (instances == sensors_) return;
            sensors_ = std::move(instances);
            sensors_changed_ = true;
        }
        cv_.notify_all();
    }

    // What the agent hands to a successor; after stop().
    std::vector<std::string> online_entities() const { return agent_ ? agent_->online_entities() : std::vector<std::string>{}; }

    std::optional<Clock::time_point> last_connect() const {
        std::lock_guard lock(status_mutex_);
        return last_connect_;
    }

    UpstreamStatus status() const {
        std::lock_guard lock(status_mutex_);
        UpstreamStatus s = status_;
        s.in_flight = in_flight_.load(std::memory_order_relaxed);
        s.outbox = outbox_.stats();
        return s;
    }

    const std::string& name() const { return config_.name; }
    const UpstreamConfig& config() const { return config_; }

    // PahoEvents, called from Paho's threads.
    void on_publish_done(std::uint64_t generation, std::uint64_t id, bool ok, int reason, int paho_code) override {
        {
            std::lock_guard lock(mutex_);
            completions_.push_back({generation, id, ok, reason, paho_code});
        }
        cv_.notify_one();
    }

    void on_connection_lost(std::uint64_t generation, const std::string& cause, int reason,
                            const std::optional<std::string>& server_reference) override {
        {
            std::lock_guard lock(mutex_);
            if (generation != generation_) return;
            // A server's DISCONNECT reason beats what we guessed from a failed
            // publish or a closed socket, which Paho may report first.
            if (lost_ && (reason < 0 || lost_reason_ >= 0)) return;
            lost_ = true;
            lost_cause_ = reason >= 0 ? cause + ": " + describe_reason(5, reason) : cause;
            lost_reason_ = reason;
            lost_reference_ = server_reference;
        }
        cv_.notify_one();
    }

    void on_message(std::uint64_t generation, std::string topic, std::string payload,
                    std::optional<std::string> response_topic, std::optional<std::string> correlation_data) override {
        {
            std::lock_guard lock(mutex_);
            if (generation != generation_ || !agent_) return;
            if (inbound_.size() >= kMaxInboundQueued) {
                ++inbound_dropped_;
                return;
            }
            inbound_.push_back(InboundPublish{std::move(topic), std::move(payload), std::move(response_topic),
                                              std::move(correlation_data)});
        }
        cv_.notify_one();
    }

private:
    struct Completion {
        std::uint64_t generation;
        std::uint64_t id;
        bool ok;
        int reason;
        int paho_code;
    };

    // What CONNACK allowed, for the life of one connection.
    struct Limits {
        size_t window = 1;
        int qos = 1;
        bool retain = true;
        std::uint32_t maximum_packet_size = 0;
    };

    enum class PumpEnd { lost, drained, deadline, reconnect };
    struct PumpResult {
        PumpEnd end;
        std::optional<std::uint64_t> oldest_unacknowledged;  // when the connection was lost
        // The broker acknowledged a reading sent after the oldest one still
        // open: that one was not what made it close the connection.
        bool acked_after_oldest = false;
        // When this connection first published with a topic alias.
        std::optional<Clock::time_point> first_alias_use;
    };

    SupervisorSettings supervisor_settings(std::optional<Clock::time_point> last_connect) const {
        SupervisorSettings s;
        s.last_connect = last_connect;
        s.backoff = config_.backoff;
        s.throttled_floor = config_.backoff.throttled_floor;
        s.follow_server_reference = config_.follow_server_reference;
        s.retry_after_auth_failure = config_.retry_after_auth_failure;
        s.credentials_time_derived = credentials_->time_derived();
        return s;
    }

    bool stop_requested() {
        std::lock_guard lock(mutex_);
        return stop_requested_;
    }

    void set_state(UpstreamState state, std::string stopped_reason = {}) {
        std::lock_guard lock(status_mutex_);
        status_.state = state;
        status_.stopped_reason = std::move(stopped_reason);
        if (state != UpstreamState::online) status_.topic_aliases = 0;
    }

    void record_failure(const std::string& error, int reason, int mqtt_version) {
        std::lock_guard lock(status_mutex_);
        status_.last_error = error;
        if (reason >= 0) {
            status_.last_reason = reason;
            status_.last_reason_name =
                std::string(mqtt_version == 5 ? mqtt5_reason_name(reason) : mqtt311_return_code_name(reason));
        }
    }

    // Waits until `until` (forever when unset), a stop, or (when
    // `wake_on_rearm`) a re-arm. Returns false when the session should stop.
    bool wait_until(std::optional<Clock::time_point> until, bool wake_on_rearm) {
        std::unique_lock lock(mutex_);
        auto done = [&] { return stop_requested_ || (wake_on_rearm && rearm_requested_); };
        // In slices, beating, so that the watchdog sees a parked upstream alive.
        while (!done()) {
            heart_->beat();
            auto slice = Clock::now() + kBeatEvery;
            if (until && *until < slice) slice = *until;
            cv_.wait_until(lock, slice, done);
            if (until && Clock::now() >= *until) break;
        }
        return !stop_requested_;
    }

    // The files and the ways that re-arm a stopped upstream, for its log line:
    // "it tries again when /etc/x changes, on SIGHUP (...), or in 10m".
    std::string rearm_hint() const {
        std::vector<std::string> ways;
        std::string files;
        for (const auto& f : credential_files(config_)) files += (files.empty() ? "" : ", ") + f.string();
        if (!files.empty()) ways.push_back("when " + files + " changes");
        ways.push_back("on SIGHUP (systemctl reload gatewayd)");
        if (config_.retry_after_auth_failure) ways.push_back("in " + format_duration(*config_.retry_after_auth_failure));
        std::string hint = "Readings for it keep queueing; it tries again ";
        for (size_t i = 0; i < ways.size(); ++i) {
            if (i > 0) hint += i + 1 == ways.size() ? (ways.size() > 2 ? ", or " : " or ") : ", ";
            hint += ways[i];
        }
        return hint + ".";
    }

    void run() {
        const std::string thread_name = ("up-" + config_.name).substr(0, 15);
        pthread_setname_np(pthread_self(), thread_name.c_str());
        heart_ = process_liveness().enroll("upstream " + config_.name);

        int failures_in_a_row = 0;
        while (!stop_requested()) {
            // Parked: wait for new credentials, a reload or a timed retry.
            if (supervisor_.parked()) {
                if (!wait_until(parked_retry_at_, true)) break;
                std::string why;
                bool only_if_changed = false;
                {
                    std::lock_guard lock(mutex_);
                    if (rearm_requested_) why = rearm_reason_;
                    only_if_changed = rearm_only_if_changed_;
                    rearm_requested_ = false;
                }
                if (!why.empty() && only_if_changed && credential_fingerprint() == failed_fingerprint_) {
                    // touch, chmod, or a rewrite with the same content: the same
                    // credentials would be refused again, at the broker's expense.
                    log_.info(why + ", but the credentials read the same; still stopped");
                    continue;
                }
                if (why.empty()) {
                    if (!parked_retry_at_ || Clock::now() < *parked_retry_at_) continue;  // woken early
                    why = "retry_after_auth_failure (" + format_duration(*config_.retry_after_auth_failure) +
                          ") has passed";
                }
                supervisor_.rearm();
                parked_retry_at_.reset();
                failures_in_a_row = 0;
                log_.notice("trying again: " + why);
                continue;
            }
            {
                std::lock_guard lock(mutex_);
                rearm_requested_ = false;  // a re-arm only matters to a parked upstream
            }
            const Duration spacing = supervisor_.connect_delay(Clock::now());
            if (spacing.count() > 0 && !wait_until(Clock::now() + spacing, false)) break;

            set_state(UpstreamState::connecting);
            auto client = make_client();
            if (!client) {
                // The password file vanished: as good as a refused CONNECT, but
                // costs the broker nothing. Retry with backoff.
                const Duration delay = retry_delay_for_local_problem();
                if (!wait_until(Clock::now() + delay, true)) break;
                continue;
            }
            supervisor_.on_connect_sent(Clock::now());
            failed_fingerprint_ = credential_fingerprint();
            {
                std::lock_guard lock(status_mutex_);
                ++status_.attempts;
                status_.url = target_url_;
                last_connect_ = Clock::now();
            }
            ConnectResult result = [&] {
                Heartbeat::Excuse excuse(heart_.get());  // bounded by connect_timeout
                return client->connect([this] { return stop_requested(); });
            }();
            if (result.aborted) break;
            if (!result.ok) {
                ++failures_in_a_row;
                FailureEvent event;
                event.failure.mqtt_version = config_.mqtt_version;
                event.failure.code = result.reason;
                event.failure.tls_error = result.tls_error;
                event.failure.source = result.reason >= 0         ? FailureSource::connack
                                       : !result.tls_error.empty() ? FailureSource::tls
                                                                   : FailureSource::transport;
                event.server_reference = result.connack.server_reference;
                event.failure.has_server_reference = event.server_reference.has_value();
                event.failure.clock_unset = clock_unset();
                std::string error = describe_connect_failure(result);
                if (event.failure.source == FailureSource::tls && event.failure.clock_unset) {
                    error += " (the system clock is not set, so certificates cannot be checked yet)";
                }
                record_failure(error, result.reason, answered_in(result.reason));
                client.reset();
                if (!handle_failure(event, "cannot connect to " + target_url_ + ": " + error, failures_in_a_row)) break;
                continue;
            }

            failures_in_a_row = 0;
            const auto connected_at = Clock::now();
            supervisor_.on_connected(connected_at);
            const Limits limits = apply_connack(result.connack, client->settings());
            if (keep_alive_too_long(result.connack)) {
                client->disconnect(std::chrono::milliseconds(500));
                continue;  // reconnect with the server's keep alive
            }
            set_state(UpstreamState::online);
            {
                std::lock_guard lock(status_mutex_);
                status_.online_since = SystemClock::now();
                status_.last_error.clear();
            }
            outbox_.rewind();
            quota_retry_.clear();
            batches_.clear();
            start_platform(*client);
            const PumpResult pumped = pump(*client, limits);
            if (agent_) agent_->on_offline();
            client->disconnect(std::chrono::milliseconds(500));
            // Acknowledgements that came in after the pump stopped still count:
            // without this their messages would go out again as duplicates.
            settle_late_completions(client->generation());
            if (pumped.end == PumpEnd::drained || pumped.end == PumpEnd::deadline) break;
            if (pumped.end == PumpEnd::reconnect) continue;

            std::string cause;
            FailureEvent event;
            {
                std::lock_guard lock(mutex_);
                cause = lost_cause_;
                event.failure.code = lost_reason_;
                event.server_reference = lost_reference_;
            }
            event.failure.mqtt_version = config_.mqtt_version;
            event.failure.source = event.failure.code >= 0 ? FailureSource::disconnect : FailureSource::transport;
            event.failure.has_server_reference = event.server_reference.has_value();
            event.connection_was_up = true;
            event.connection_age = std::chrono::duration_cast<Duration>(Clock::now() - connected_at);
            // Paho often loses a DISCONNECT's reason when the broker closes the
            // socket right after it (our next write fails first), so a 0x94 can
            // look like a plain drop: the supervisor watches drops right after
            // topic aliases came into use.
            event.right_after_alias_use =
                pumped.first_alias_use && Clock::now() - *pumped.first_alias_use < kYoungConnection;
            event.same_message_as_last_drop =
                pumped.oldest_unacknowledged && pumped.oldest_unacknowledged == last_drop_oldest_;
            last_drop_oldest_ = pumped.oldest_unacknowledged;
            watch_for_poison(pumped, event.failure.code, cause);
            record_failure(cause, event.failure.code, config_.mqtt_version);
            client.reset();
            if (stop_requested()) break;
            ++failures_in_a_row;
            if (!handle_failure(event, "connection to " + target_url_ + " lost: " + cause, failures_in_a_row)) break;
        }
        set_state(UpstreamState::stopped, "gatewayd is stopping");
        const OutboxStats left = outbox_.stats();
        bool handed_over;
        {
            std::lock_guard lock(mutex_);
            handed_over = queue_handed_over_;
        }
        if (left.queued > 0 && !handed_over) {
            if (left.durable) {
                log_.notice(std::to_string(left.queued) + " readings stay queued on disk for the next start");
            } else {
                log_.warning(std::to_string(left.queued) +
                             " readings were still queued at stop and are lost (outbox = \"memory\")");
            }
        }
    }

    // The content of every credential file, so that a file event that
    // changed nothing does not cost the broker another refused CONNECT.
    std::size_t credential_fingerprint() const {
        std::string all;
        for (const auto& f : credential_files(config_)) {
            std::ifstream in(f, std::ios::binary);
            std::stringstream content;
            content << in.rdbuf();
            all += f.string() + '\0' + content.str() + '\0';
        }
        return std::hash<std::string>{}(all);
    }

    void settle_late_completions(std::uint64_t generation) {
        std::vector<Completion> late;
        {
            std::lock_guard lock(mutex_);
            late.swap(completions_);
        }
        for (const Completion& c : late) {
            if ((c.id & kControlIdBit) != 0) continue;
            if (c.generation == generation && (c.ok || c.reason >= 0x80)) settle(c, std::nullopt);
        }
        control_in_flight_ = 0;
        control_backlog_.clear();
    }

    std::unique_ptr<PahoClient> make_client() {
        std::string error;
        auto credentials = credentials_->at(SystemClock::now(), error);
        if (!credentials) {
            record_failure(error, -1, config_.mqtt_version);
            log_.warning("cannot connect: " + error);
            return nullptr;
        }
        PahoConnectSettings s;
        s.url = target_url_;
        s.client_id = assigned_client_id_.value_or(credentials->client_id);
        s.mqtt_version = config_.mqtt_version;
        s.keep_alive_s = static_cast<int>(
            std::chrono::duration_cast<std::chrono::seconds>(config_.keep_alive).count());
        if (learned_keep_alive_s_) s.keep_alive_s = *learned_keep_alive_s_;
        s.connect_timeout_s = static_cast<int>(
            std::chrono::duration_cast<std::chrono::seconds>(config_.connect_timeout).count());
        s.clean_start = config_.clean_start;
        s.session_expiry_s = static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::seconds>(config_.session_expiry).count());
        s.username = credentials->username;
        s.password = credentials->password;
        s.tls = target_url_.rfind("ssl://", 0) == 0;
        if (config_.ca_file) s.ca_file = config_.ca_file->string();
        if (config_.cert_file) s.cert_file = config_.cert_file->string();
        if (config_.key_file) s.key_file = config_.key_file->string();
        s.tls_verify = config_.tls_verify;
        s.alpn = config_.alpn;
        s.max_inflight = config_.max_inflight;
        credentials_expire_at_ = credentials->expires_at;
        std::uint64_t generation;
        {
            std::lock_guard lock(mutex_);
            generation = ++generation_;
            lost_ = false;
            lost_cause_.clear();
            lost_reason_ = -1;
            lost_reference_.reset();
            completions_.clear();
        }
        {
            std::lock_guard lock(status_mutex_);
            status_.client_id = s.client_id;
        }
        try {
            return std::make_unique<PahoClient>(std::move(s), *this, generation);
        } catch (const std::exception& e) {
            record_failure(e.what(), -1, config_.mqtt_version);
            log_.error(e.what());
            return nullptr;
        }
    }

    Duration retry_delay_for_local_problem() {
        FailureEvent event;  // a transport-like failure
        const SupervisorDecision d = supervisor_.on_failure(event, Clock::now());
        set_backoff_state(d.delay);
        return d.delay;
    }

    void set_backoff_state(Duration delay) {
        std::lock_guard lock(status_mutex_);
        status_.state = UpstreamState::backoff;
        status_.stopped_reason.clear();
        status_.next_attempt = SystemClock::now() + delay;
    }

    // The MQTT version of a CONNACK code: a 3.1.1 broker answers an MQTT 5
    // CONNECT with a 3.1.1 return code (below 0x80).
    int answered_in(int connack_code) const {
        return config_.mqtt_version == 5 && connack_code > 0 && connack_code < 0x80 ? 4 : config_.mqtt_version;
    }

    std::string describe_connect_failure(const ConnectResult& r) const {
        if (r.reason >= 0) {
            std::string text = "the broker refused the connection: " + describe_reason(answered_in(r.reason), r.reason);
            if (answered_in(r.reason) != config_.mqtt_version) text += " (answered in MQTT 3.1.1)";
            if (r.connack.reason_string) text += " (\"" + *r.connack.reason_string + "\")";
            return text;
        }
        if (!r.tls_error.empty()) return "TLS handshake failed: " + r.tls_error;
        if (r.timed_out) return "no CONNACK within " + format_duration(config_.connect_timeout);
        std::string text = r.message.empty() ? paho_error_text(r.paho_code) : r.message;
        return text.empty() ? "connect failed" : text;
    }

    // Applies the supervisor's decision after a failure; false to stop the thread.
    bool handle_failure(const FailureEvent& event, const std::string& error, int failures_in_a_row) {
        const SupervisorDecision d = supervisor_.on_failure(event, Clock::now());
        const std::string class_name(failure_class_name(d.classification.failure_class));
        if (d.slow_down) {
            pacer_.quota_exceeded(Clock::now());
            std::lock_guard lock(status_mutex_);
            status_.publish_rate_limit = pacer_.current_rate();
        }

        if (d.kind == SupervisorDecision::Kind::park) {
            std::string reason;
            if (d.takeover_conflict) {
                reason = "another client uses client id '" + status().client_id + "' (" +
                         std::to_string(supervisor_.takeovers_in_window()) +
                         " session takeovers within minutes); give each client its own client_id";
            } else {
                reason = error + ". " + d.classification.advice;
            }
            if (d.retry_after) parked_retry_at_ = Clock::now() + *d.retry_after;
            set_state(UpstreamState::stopped, reason);
            if (d.retry_after) {
                std::lock_guard lock(status_mutex_);
                status_.next_attempt = SystemClock::now() + *d.retry_after;
            }
            log_.error("stopped: " + reason + ". " + rearm_hint());
            return true;
        }
        if (d.redirect_to) {
            if (auto url = resolve_server_reference(target_url_, *d.redirect_to)) {
                log_.notice("the broker redirects to " + *url + " (" + error + "); following it");
                target_url_ = *url;
                if (!d.redirect_is_permanent) redirect_is_temporary_ = true;
                return true;
            }
            log_.warning("the broker redirects to an unusable Server Reference '" + printable(*d.redirect_to) + "'");
        } else if (redirect_is_temporary_) {
            // 0x9C "Use another server" was for that attempt; go home again.
            target_url_ = config_.url;
            redirect_is_temporary_ = false;
        }
        if (d.regenerate_credentials) {
            log_.notice(error + "; trying once more with freshly derived credentials");
            return true;
        }
        if (d.topic_aliases_off) {
            log_.warning(error + (event.failure.code == 0x94 ? ": the broker refused our topic aliases"
                                                               : ": the connection keeps dropping right after topic "
                                                                 "aliases come into use") +
                         "; they stay off until the configuration is reloaded");
        } else if (d.topic_aliases_suspended) {
            log_.warning(error + ": the connection dropped twice in a row right after topic aliases came into use; "
                                 "reconnecting without them until a connection stays up");
        }
        if (d.topic_aliases_back) log_.info("a connection stayed up: topic aliases may be used again");
        if (d.classification.failure_class == FailureClass::redirect && !config_.follow_server_reference) {
            log_.warning(error + "; not following it (set follow_server_reference = true to allow)");
        }
        // The supervisor also keeps CONNECTs a second apart; say when the next really is.
        const Duration delay = std::max(d.delay, supervisor_.connect_delay(Clock::now()));
        set_backoff_state(delay);
        std::string line = error + " [" + class_name + "]; retrying in " + format_duration(delay);
        // The first failure is worth a warning; repeats only at info and at
        // most once a minute, so a long outage does not flood the journal.
        const auto now = Clock::now();
        if (failures_in_a_row <= 1) {
            log_.warning(line);
            last_failure_line_ = now;
            failures_unlogged_ = 0;
        } else if (now - last_failure_line_ >= std::chrono::minutes(1)) {
            log_.info(line + (failures_unlogged_ > 0
                                  ? " (" + std::to_string(failures_unlogged_ + 1) + " attempts failed since the last line)"
                                  : std::string()));
            last_failure_line_ = now;
            failures_unlogged_ = 0;
        } else {
            log_.debug(line);
            ++failures_unlogged_;
        }
        return wait_until(Clock::now() + d.delay, false);  // the spacing is waited for before the CONNECT
    }

    Limits apply_connack(const ConnackInfo& c, const PahoConnectSettings& s) {
        const bool v5 = config_.mqtt_version == 5;
        Limits limits;
        limits.window = static_cast<size_t>(config_.max_inflight);
        if (v5 && c.receive_maximum > 0 && static_cast<size_t>(c.receive_maximum) < limits.window)
            limits.window = static_cast<size_t>(c.receive_maximum);
        limits.qos = config_.qos;
        if (v5 && c.maximum_qos < limits.qos) {
            limits.qos = c.maximum_qos;
            if (!warned_qos_) log_.warning("the broker allows QoS " + std::to_string(c.maximum_qos) + " only; publishing at that QoS");
            warned_qos_ = true;
        }
        limits.retain = !v5 || c.retain_available;
        if (config_.retain && !limits.retain && !warned_retain_) {
            log_.warning("the broker does not support retained messages; publishing without the retain flag");
            warned_retain_ = true;
        }
        limits.maximum_packet_size = v5 ? c.maximum_packet_size : 0;
        const bool aliases = v5 && config_.topic_alias && supervisor_.topic_aliases_allowed();
        aliases_.reset(aliases ? c.topic_alias_maximum : 0);
        if (v5 && c.assigned_client_id && !assigned_client_id_) {
            assigned_client_id_ = c.assigned_client_id;
            log_.info("the broker assigned client id '" + *c.assigned_client_id + "'");
        }
        {
            std::lock_guard lock(status_mutex_);
            status_.window = static_cast<int>(limits.window);
            if (assigned_client_id_) status_.client_id = *assigned_client_id_;
        }
        std::string line = "connected to " + s.url + " as '" + s.client_id + "' (MQTT " + (v5 ? "5" : "3.1.1") +
                           ", up to " + std::to_string(limits.window) + " publishes in flight";
        if (aliases) line += ", " + std::to_string(c.topic_alias_maximum) + " topic aliases";
        if (limits.maximum_packet_size > 0) line += ", packets up to " + std::to_string(limits.maximum_packet_size) + " bytes";
        log_.notice(line + ")");
        return limits;
    }

    // MQTT 5 says the client must use the Server Keep Alive; Paho cannot
    // change it on a live connection, so a shorter one costs one reconnect.
    bool keep_alive_too_long(const ConnackInfo& c) {
        if (config_.mqtt_version != 5 || !c.server_keep_alive) return false;
        const int current = learned_keep_alive_s_.value_or(static_cast<int>(
            std::chrono::duration_cast<std::chrono::seconds>(config_.keep_alive).count()));
        if (*c.server_keep_alive == current) return false;
        learned_keep_alive_s_ = *c.server_keep_alive;
        if (*c.server_keep_alive > current && current != 0) return false;  // pinging more often is harmless
        log_.notice("the broker asks for a keep alive of " + std::to_string(*c.server_keep_alive) +
                    "s; reconnecting with it");
        return true;
    }

    PumpResult pump(PahoClient& client, const Limits& limits) {
        std::vector<OutboxEntry> batch;  // taken from the outbox, not yet published
        size_t next_in_batch = 0;
        std::vector<Completion> done;
        std::vector<InboundPublish> inbound;
        std::vector<std::pair<std::uint64_t, CommandOutcome>> answers;
        InflightWindow inflight;
        bool stopping = false;
        std::optional<std::uint64_t> newest_acked;  // of this connection's readings
        Clock::time_point deadline{};
        first_alias_use_.reset();
        auto ended = [&](PumpEnd end, std::optional<std::uint64_t> oldest = std::nullopt) {
            in_flight_.store(0, std::memory_order_relaxed);
            return PumpResult{end, oldest, oldest && newest_acked && *newest_acked > *oldest, first_alias_use_};
        };
        // A time-limited token is replaced before the platform stops taking it.
        std::optional<Clock::time_point> renew_at;
        if (credentials_expire_at_) {
            const auto left = *credentials_expire_at_ - SystemClock::now();
            const auto margin = std::min<SystemClock::duration>(std::chrono::seconds(60), left / 10);
            renew_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(left - margin);
        }
        bool handed_over = false;
        while (true) {
            heart_->beat();
            bool lost = false;
            std::optional<std::set<std::string>> sensors;
            {
                std::unique_lock lock(mutex_);
                const auto pace = pacer_.wait(Clock::now());
                // Responses and reports waiting for the pace (or a free slot).
                const bool control_waiting = !control_backlog_.empty() && control_in_flight_ < kControlSlots;
                const auto control_pace =
                    control_waiting ? pacer_.wait(Clock::now(), control_backlog_.front().rate_cost) : Clock::duration{};
                auto can_publish = [&] {
                    return inflight.size() < limits.window && pace.count() == 0 &&
                           (next_in_batch < batch.size() || quota_retry_ready(Clock::now()) || outbox_.has_untaken());
                };
                auto ready = [&] {
                    return lost_ || (stop_requested_ && !stopping) || !completions_.empty() || can_publish() ||
                           !inbound_.empty() || !signal_->command_results.empty() || sensors_changed_ ||
                           (control_waiting && control_pace.count() == 0);
                };
                if (!ready()) {
                    sleeping_.store(true);
                    Clock::duration wait = kIdleWait;
                    if (pace.count() > 0) wait = std::min<Clock::duration>(wait, pace);
                    if (control_waiting) wait = std::min<Clock::duration>(wait, control_pace);
                    if (stopping) wait = std::min<Clock::duration>(wait, deadline - Clock::now());
                    if (agent_) {
                        if (auto tick = agent_->next_tick()) {
                            wait = std::min<Clock::duration>(
                                wait, std::max<Clock::duration>(Clock::duration(0), *tick - SystemClock::now()));
                        }
                    }
                    cv_.wait_for(lock, wait, ready);
                    sleeping_.store(false);
                }
                done.clear();
                done.swap(completions_);
                inbound.clear();
                inbound.swap(inbound_);
                answers.clear();
                answers.swap(signal_->command_results);
                lost = lost_;
                if (stop_requested_ && !stopping) {
                    stopping = true;
                    deadline = deadline_;
                    handed_over = queue_handed_over_;
                }
                if (sensors_changed_) {
                    sensors = sensors_;
                    sensors_changed_ = false;
                }
            }
            for (const Completion& c : done) {
                if ((c.id & kControlIdBit) != 0) {
                    control_done(c);
                    continue;
                }
                if (c.generation != client.generation()) {
                    if (c.ok) settle(c, std::nullopt);  // a late acknowledgement is still one
                    continue;
                }
                const bool answered = c.ok || c.reason >= 0x80;
                if (answered) {
                    if (!newest_acked || c.id > *newest_acked) newest_acked = c.id;
                    settle(c, inflight.settle(c.id));
                } else if (!lost) {
                    // No answer, only a failure: the connection is not sound. The
                    // entry stays unacknowledged, so the oldest in flight stays known.
                    lost = true;
                    std::lock_guard lock(mutex_);
                    if (!lost_) {
                        lost_ = true;
                        lost_cause_ = "a publish failed: " + paho_error_text(c.paho_code);
                    }
                }
            }
            if (agent_) {
                const auto now = SystemClock::now();
                if (!inbound.empty() && agent_->inbound_counts_toward_rate())
                    pacer_.record_received(Clock::now(), static_cast<int>(inbound.size()));
                if (sensors) agent_->on_sensors(*sensors, now, agent_output_);
                if (stopping && !handed_over && !said_goodbye_) {
                    said_goodbye_ = true;
                    agent_->on_stop(now, agent_output_);
                }
                for (const InboundPublish& in : inbound) agent_->on_inbound(in, now, agent_output_);
                for (const auto& [ticket, outcome] : answers) agent_->on_command_done(ticket, outcome, now, agent_output_);
                if (auto tick = agent_->next_tick(); tick && *tick <= now) agent_->on_tick(now, agent_output_);
                if (!lost) carry_out(client);
            }
            if (lost) return ended(PumpEnd::lost, inflight.oldest());
            if (stopping) {
                // A reload's restart leaves our own messages behind: the
                // successor says what is true then.
                const bool control_done = handed_over || (control_backlog_.empty() && control_in_flight_ == 0);
                if (inflight.size() == 0 && quota_retry_.empty() && next_in_batch >= batch.size() &&
                    !outbox_.has_untaken() && control_done)
                    return ended(PumpEnd::drained);
                if (Clock::now() >= deadline) {
                    std::lock_guard lock(mutex_);
                    if (!queue_handed_over_) {
                        log_.warning("stop deadline reached with " + std::to_string(inflight.size()) +
                                     " publishes still unacknowledged");
                    }
                    return ended(PumpEnd::deadline);
                }
            } else if (renew_at && Clock::now() >= *renew_at && inflight.size() == 0) {
                log_.notice("the password token expires soon; reconnecting with a fresh one");
                return ended(PumpEnd::reconnect);
            }
            while (inflight.size() < limits.window) {
                const auto now = Clock::now();
                if (pacer_.wait(now).count() > 0) break;
                std::optional<OutboxEntry> next;
                if (quota_retry_ready(now)) {
                    next = quota_retry_.front().entry;
                    quota_retry_.pop_front();
                } else {
                    if (next_in_batch >= batch.size()) {
                        batch.clear();
                        next_in_batch = 0;
                        if (outbox_.take(limits.window - inflight.size(), batch) == 0) break;
                    }
                    next = batch[next_in_batch++];
                }
                // Readings the platform takes together ride along, up to its batch size.
                std::vector<OutboxEntry> riders;
                if (codec_->max_batch() > 1) {
                    const std::string key = codec_->batch_key(*next->message);
                    while (!key.empty() && riders.size() + 1 < codec_->max_batch()) {
                        if (next_in_batch >= batch.size() &&
                            outbox_.take(codec_->max_batch() - riders.size() - 1, batch) == 0)
                            break;
                        if (codec_->batch_key(*batch[next_in_batch].message) != key) break;
                        riders.push_back(batch[next_in_batch++]);
                    }
                }
                Published r = publish(client, *next, riders, limits);
                if (!r.leftover.empty()) {
                    batch.insert(batch.begin() + static_cast<std::ptrdiff_t>(next_in_batch),
                                 std::make_move_iterator(r.leftover.begin()), std::make_move_iterator(r.leftover.end()));
                }
                if (r.outcome == PublishOutcome::sent) {
                    pacer_.record_sent(now);
                    inflight.sent(r.lead_id, r.dead_letter);
                } else if (r.outcome == PublishOutcome::failed) {
                    return ended(PumpEnd::lost, inflight.oldest() ? inflight.oldest() : std::optional(next->id));
                }
            }
            in_flight_.store(static_cast<int>(inflight.size()), std::memory_order_relaxed);
        }
    }

    // After CONNACK: the platform's command topics, then the agent's start
    // (the AWS shadow get).
    void start_platform(PahoClient& client) {
        if (!agent_) return;
        const std::vector<std::string> filters = agent_->subscriptions();
        if (!filters.empty()) {
            const SubscribeResult r = [&] {
                Heartbeat::Excuse excuse(heart_.get());  // bounded by connect_timeout
                return client.subscribe(filters, 1, config_.connect_timeout);
            }();
            if (!r.ok) {
                log_.warning("subscribing to the platform's request topics failed (" +
                             (r.error.empty() ? std::string("refused") : r.error) +
                             "); commands will not arrive on this connection");
            } else {
                for (size_t i = 0; i < filters.size() && i < r.granted.size(); ++i) {
                    if (r.granted[i] >= 0x80)
                        log_.warning("the broker refused the subscription to " + filters[i] + ": " +
                                     describe_reason(5, r.granted[i]));
                }
            }
        }
        std::set<std::string> sensors;
        {
            std::lock_guard lock(mutex_);
            sensors = sensors_;
            sensors_changed_ = false;
        }
        agent_->on_sensors(sensors, SystemClock::now(), agent_output_);
        agent_->on_online(SystemClock::now(), agent_output_);
        carry_out(client);
    }

    // Does what the agent asked for.
    void carry_out(PahoClient& client) {
        PlatformAgent::Output out;
        std::swap(out, agent_output_);
        for (auto& [level, line] : out.log) log_.log(level, line);
        for (auto& dispatch : out.commands) {
            {
                std::lock_guard lock(status_mutex_);
                ++status_.commands;
            }
            log_.info("platform command '" + dispatch.command.name + "' for sensor '" + dispatch.command.sensor +
                      "' -> [[sensor]] '" + dispatch.command.instance + "'");
            if (!router_) {
                signal_->command_done(dispatch.ticket,
                                      CommandOutcome::failure(CommandOutcome::Status::unsupported,
                                                              "this gatewayd takes no commands"));
                continue;
            }
            router_->dispatch(std::move(dispatch.command),
                              [signal = signal_, ticket = dispatch.ticket](CommandOutcome outcome) {
                                  signal->command_done(ticket, std::move(outcome));
                              });
        }
        for (auto& refusal : out.refused) refused_after_delivery(refusal.message, refusal.reason);
        for (auto& request : out.publishes) {
            if (control_backlog_.size() >= kMaxControlBacklog) {
                log_.warning("too many responses waiting to be sent; dropped one for " + request.topic);
                continue;
            }
            control_backlog_.push_back(std::move(request));
        }
        while (!control_backlog_.empty() && control_in_flight_ < kControlSlots) {
            PublishRequest& r = control_backlog_.front();
            if (!pacer_.try_take(Clock::now(), r.rate_cost)) break;  // the pump wakes when the pace allows
            OutgoingPublish out_msg;
            out_msg.topic = &r.topic;
            out_msg.payload = &r.payload;
            out_msg.qos = r.qos;
            if (config_.mqtt_version == 5) {
                if (r.content_type) out_msg.content_type = &*r.content_type;
                if (r.payload_format) out_msg.payload_format = *r.payload_format;
                if (r.correlation_data) out_msg.correlation_data = &*r.correlation_data;
                if (!r.properties.empty()) out_msg.properties = &r.properties;
            }
            const int rc = client.publish(out_msg, kControlIdBit | ++control_counter_);
            if (rc != 0) {
                log_.warning("could not send " + r.topic + ": " + paho_error_text(rc));
            } else {
                ++control_in_flight_;  // Paho completes QoS 0 publishes too, once written
                std::lock_guard lock(status_mutex_);
                ++status_.responses;
            }
            control_backlog_.pop_front();
        }
    }

    void control_done(const Completion& c) {
        if (control_in_flight_ > 0) --control_in_flight_;
        if (!c.ok && c.reason >= 0x80) {
            log_.warning("the broker refused a response or report: " + describe_reason(5, c.reason));
        }
    }

    // A reading the broker took but the platform then refused (OneNET's
    // post/reply): to the dead letters, counted.
    void refused_after_delivery(const std::shared_ptr<const Message>& original, const std::string& reason) {
        {
            std::lock_guard lock(status_mutex_);
            ++status_.refused_by_platform;
        }
        std::string fate = "dropped (no dead_letter_topic)";
        if (!config_.dead_letter_topic.empty()) {
            auto dead = std::make_shared<Message>(*original);
            dead->kind = Message::Kind::dead_letter;
            dead->error = reason;
            fate = outbox_.append(std::move(dead)) ? "sent to the dead-letter topic" : "dropped (the outbox is full)";
        }
        std::uint64_t suppressed = 0;
        if (reject_log_.allow(Clock::now(), suppressed)) {
            log_.error("a reading from sensor '" + original->sensor + "': " + reason + "; " + fate +
                       (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
        }
    }

    enum class PublishOutcome { sent, settled, failed };
    struct Published {
        PublishOutcome outcome;
        std::uint64_t lead_id = 0;  // the id the publish travels under
        bool dead_letter = false;
        std::vector<OutboxEntry> leftover;  // a batch's tail that did not fit: next in line
    };

    // Publishes `first` and the readings riding along with it (a platform
    // batch) as one message; expired ones are dropped first.
    Published publish(PahoClient& client, const OutboxEntry& first, const std::vector<OutboxEntry>& riders,
                      const Limits& limits) {
        std::vector<OutboxEntry> live;
        std::uint32_t remaining_s = 0;  // the soonest expiry among them; 0: none
        auto admit = [&](const OutboxEntry& entry) {
            const Message& message = *entry.message;
            const std::int64_t deadline =
                earlier_deadline(message.expires_at_ms, deadline_after(message.accepted_ms, config_.message_expiry));
            const ExpiryVerdict expiry = check_expiry(deadline, wall_clock_ms());
            if (expiry.expired) {
                outbox_.remove(entry.id, Removal::expired);
                std::uint64_t suppressed = 0;
                if (expiry_log_.allow(Clock::now(), suppressed)) {
                    log_.info("a reading from sensor '" + message.sensor + "' expired " +
                              format_duration(Duration(wall_clock_ms() - deadline)) +
                              " before it could be sent; dropped" +
                              (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
                }
                return;
            }
            if (expiry.remaining_s > 0 && (remaining_s == 0 || expiry.remaining_s < remaining_s))
                remaining_s = expiry.remaining_s;
            live.push_back(entry);
        };
        admit(first);
        for (const auto& r : riders) admit(r);
        if (live.empty()) return {PublishOutcome::settled, 0, false, {}};
        // The first n of them as one publish.
        auto encode_first = [&](size_t n) {
            if (n == 1) return codec_->encode(*live.front().message, live.front().id);
            std::vector<UplinkItem> items;
            for (size_t i = 0; i < n; ++i) items.push_back({live[i].id, live[i].message.get()});
            return codec_->encode_batch(items);
        };
        // How many times too large for the platform or the broker; <= 1: it fits.
        auto oversize = [&](const PublishRequest& r) {
            const std::uint64_t platform = r.max_payload.value_or(config_.max_payload);
            double factor = platform > 0 ? static_cast<double>(r.payload.size()) / static_cast<double>(platform) : 0;
            if (limits.maximum_packet_size > 0)
                factor = std::max(factor, static_cast<double>(publish_packet_size(r)) / limits.maximum_packet_size);
            return factor;
        };
        // A batch too big (not its readings) is cut where it still fits; the
        // rest goes next, as a batch of its own.
        size_t n = live.size();
        std::optional<PublishRequest> request = encode_first(n);
        while (request && n > 1 && oversize(*request) > 1) {
            n = std::min(n - 1, std::max<size_t>(1, static_cast<size_t>(static_cast<double>(n) / oversize(*request))));
            request = encode_first(n);
        }
        std::vector<OutboxEntry> leftover(live.begin() + static_cast<std::ptrdiff_t>(n), live.end());
        live.resize(n);
        const OutboxEntry& entry = live.front();
        if (!request) {
            // Not for this upstream (a dead letter without a dead-letter topic).
            for (const auto& e : live) outbox_.remove(e.id, Removal::discarded);
            std::lock_guard lock(status_mutex_);
            status_.dropped += live.size();
            return {PublishOutcome::settled, 0, false, std::move(leftover)};
        }
        const std::uint64_t platform_limit = request->max_payload.value_or(config_.max_payload);
        const bool too_large_for_platform = platform_limit > 0 && request->payload.size() > platform_limit;
        const bool too_large_for_broker =
            limits.maximum_packet_size > 0 && publish_packet_size(*request) > limits.maximum_packet_size;
        if (request->problem) {
            divert(entry, *request->problem, false, -1);
            return {PublishOutcome::settled, 0, false, std::move(leftover)};
        }
        if (too_large_for_platform) {
            divert(entry, "larger than the platform's limit of " + std::to_string(platform_limit) +
                              " bytes (" + std::to_string(request->payload.size()) + " bytes)", true, -1);
            return {PublishOutcome::settled, 0, false, std::move(leftover)};
        }
        if (too_large_for_broker) {
            divert(entry, "larger than the broker's Maximum Packet Size of " +
                              std::to_string(limits.maximum_packet_size) + " bytes", true, -1);
            return {PublishOutcome::settled, 0, false, std::move(leftover)};
        }
        if (const std::uint32_t cap = codec_->max_message_expiry_s(); cap > 0 && remaining_s > cap) remaining_s = cap;
        OutgoingPublish out;
        out.payload = &request->payload;
        out.qos = std::min(request->qos, limits.qos);
        out.retain = request->retain && limits.retain;
        std::string no_topic;
        out.topic = &request->topic;
        if (config_.mqtt_version == 5) {
            if (request->content_type) out.content_type = &*request->content_type;
            if (request->payload_format) out.payload_format = *request->payload_format;
            out.properties = &request->properties;
            out.message_expiry_s = remaining_s;  // what is left of it
            const TopicAliases::Use alias = aliases_.use(request->topic);
            out.topic_alias = alias.alias;
            if (alias.alias > 0 && !first_alias_use_) first_alias_use_ = Clock::now();
            if (alias.alias > 0 && !alias.send_topic) out.topic = &no_topic;
            if (alias.alias > 0) {
                std::lock_guard lock(status_mutex_);
                status_.topic_aliases = aliases_.assigned();
            }
        }
        const int rc = client.publish(out, entry.id);
        if (rc != 0) {
            std::lock_guard lock(mutex_);
            if (!lost_) {
                lost_ = true;
                lost_cause_ = "publishing failed: " + paho_error_text(rc);
            }
            return {PublishOutcome::failed, entry.id, false, {}};
        }
        if (live.size() > 1) batches_[entry.id].assign(live.begin() + 1, live.end());
        return {PublishOutcome::sent, entry.id, entry.message->kind == Message::Kind::dead_letter, std::move(leftover)};
    }

    // Applies one answered publish to the outbox, with the readings that
    // rode along in it. `dead_letter` says what it was, when the in-flight
    // window still knew; else the outbox is asked.
    void settle(const Completion& c, std::optional<bool> dead_letter) {
        std::vector<OutboxEntry> riders;
        if (auto it = batches_.find(c.id); it != batches_.end()) {
            riders = std::move(it->second);
            batches_.erase(it);
        }
        if (c.ok) {
            // The message itself only when the window forgot what it was, or the agent wants it.
            std::shared_ptr<const Message> message;
            if (!dead_letter || agent_) {
                message = outbox_.get(c.id);
                if (!message) return;  // acknowledged twice (sent again after a reconnect)
                if (!dead_letter) dead_letter = message->kind == Message::Kind::dead_letter;
            }
            if (!outbox_.acknowledge(c.id)) return;
            size_t delivered = 1;
            if (agent_) agent_->on_delivered(c.id, message, SystemClock::now(), agent_output_);
            for (const auto& r : riders) {
                if (!outbox_.acknowledge(r.id)) continue;
                ++delivered;
                if (agent_) agent_->on_delivered(r.id, r.message, SystemClock::now(), agent_output_);
            }
            std::lock_guard lock(status_mutex_);
            (*dead_letter ? status_.dead_lettered : status_.sent) += delivered;
            return;
        }
        record_failure("the broker refused a publish: " + describe_reason(5, c.reason), c.reason, 5);
        if (c.reason == 0x97) {
            // Quota exceeded: not this message's fault. Slow down and send it again.
            pacer_.quota_exceeded(Clock::now());
            if (auto message = outbox_.get(c.id)) {
                quota_retry_.push_back({OutboxEntry{c.id, message}, Clock::now() + kQuotaRetryDelay});
            }
            for (const auto& r : riders) quota_retry_.push_back({r, Clock::now() + kQuotaRetryDelay});
            {
                std::lock_guard lock(status_mutex_);
                status_.publish_rate_limit = pacer_.current_rate();
            }
            std::uint64_t suppressed = 0;
            if (reject_log_.allow(Clock::now(), suppressed)) {
                log_.warning("the broker refused a publish: Quota exceeded (0x97); slowing down to " +
                             std::to_string(static_cast<int>(pacer_.current_rate())) + " publishes/s");
            }
            return;
        }
        const std::string why = "the broker refused it: " + describe_reason(5, c.reason);
        if (auto message = outbox_.get(c.id)) {
            divert(OutboxEntry{c.id, message}, why, false, c.reason);
        } else {
            outbox_.remove(c.id, Removal::discarded);
        }
        for (const auto& r : riders) divert(r, why, false, c.reason);
    }

    // Moves one message out of the way of the others: to the dead-letter
    // topic, or, when that is impossible, dropped. Counted and logged either way.
    void divert(const OutboxEntry& entry, const std::string& why, bool without_payload, int reason) {
        const Message& original = *entry.message;
        const bool can_dead_letter =
            !config_.dead_letter_topic.empty() && original.kind != Message::Kind::dead_letter;
        std::string fate;
        if (can_dead_letter) {
            auto dead = std::make_shared<Message>(original);
            dead->kind = Message::Kind::dead_letter;
            dead->error = why;
            if (reason >= 0) dead->properties.push_back({"reason_code", hex_code(reason)});
            if (without_payload) {
                dead->properties.push_back({"payload_size", std::to_string(original.payload.size())});
                dead->payload.clear();
            }
            // Counted as dead-lettered when the broker acknowledges it there.
            if (outbox_.append(std::move(dead))) {
                fate = "sent to the dead-letter topic";
            } else {
                fate = "dropped (the outbox is full)";
                std::lock_guard lock(status_mutex_);
                ++status_.dropped;
            }
        } else {
            fate = original.kind == Message::Kind::dead_letter ? "dropped (it was a dead letter already)"
                                                               : "dropped (no dead_letter_topic)";
            std::lock_guard lock(status_mutex_);
            ++status_.dropped;
        }
        outbox_.remove(entry.id, Removal::discarded);  // the dead letter, if any, carries it on
        std::uint64_t suppressed = 0;
        if (reject_log_.allow(Clock::now(), suppressed)) {
            log_.error("a message from sensor '" + original.sensor + "' was " + why + "; " + fate +
                       (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
        }
    }

    bool quota_retry_ready(Clock::time_point now) const {
        return !quota_retry_.empty() && quota_retry_.front().not_before <= now;
    }

    // Diverts the oldest unacknowledged message when it was the oldest in
    // flight at each of the last kPoisonStrikes losses, with nothing sent
    // after it acknowledged and no reason code that excuses the message (a
    // server shutting down, a takeover, throttling are not its fault).
    void watch_for_poison(const PumpResult& pumped, int reason, const std::string& cause) {
        const auto oldest = pumped.oldest_unacknowledged;
        if (!oldest || pumped.acked_after_oldest || !blames_a_message(reason)) {
            suspect_strikes_ = 0;
            return;
        }
        if (*oldest != suspect_id_) {
            suspect_id_ = *oldest;
            suspect_strikes_ = 0;
        }
        if (++suspect_strikes_ < kPoisonStrikes) return;
        suspect_strikes_ = 0;
        if (auto message = outbox_.get(suspect_id_)) {
            // mosquitto and AWS IoT Core close the connection on a publish
            // their ACL or policy denies, without a word.
            const std::string policy = reason < 0 ? "; its topic may not be allowed by the broker's policy" : "";
            // The payload stays with the dead letter unless its size was the complaint.
            divert(OutboxEntry{suspect_id_, message},
                   "the oldest in flight each of the " + std::to_string(kPoisonStrikes) +
                       " times the broker closed the connection (last: " + cause + ")" + policy,
                   reason == 0x95, -1);
        }
    }

    UpstreamConfig config_;
    Outbox& outbox_;
    std::unique_ptr<UplinkCodec> codec_;
    std::unique_ptr<CredentialSource> credentials_;
    std::unique_ptr<PlatformAgent> agent_;  // null for profile = "mqtt"
    CommandRouter* router_;
    PlatformAgent::Output agent_output_;  // what the agent asked for, not yet carried out
    std::deque<PublishRequest> control_backlog_;
    int control_in_flight_ = 0;
    bool said_goodbye_ = false;  // the agent's on_stop() ran
    std::uint64_t control_counter_ = 0;
    std::map<std::uint64_t, std::vector<OutboxEntry>> batches_;  // lead id -> readings that rode along
    std::optional<SystemClock::time_point> credentials_expire_at_;
    Logger log_;
    std::mt19937_64 rng_;
    std::uniform_real_distribution<double> uniform_{0.0, 1.0};
    ConnectionSupervisor supervisor_;
    PublishPacer pacer_;
    TopicAliases aliases_;
    LogRateLimit reject_log_;
    Clock::time_point last_failure_line_{};  // repeated connection failures: a line a minute
    std::uint64_t failures_unlogged_ = 0;
    LogRateLimit expiry_log_;
    std::string target_url_;
    bool redirect_is_temporary_ = false;
    std::optional<std::string> assigned_client_id_;
    std::optional<int> learned_keep_alive_s_;
    std::optional<Clock::time_point> parked_retry_at_;
    bool warned_qos_ = false;
    bool warned_retain_ = false;
    struct QuotaRetry {
        OutboxEntry entry;
        Clock::time_point not_before;
    };
    std::deque<QuotaRetry> quota_retry_;
    std::uint64_t suspect_id_ = 0;
    int suspect_strikes_ = 0;
    std::optional<std::uint64_t> last_drop_oldest_;       // oldest in flight at the last lost connection
    std::optional<Clock::time_point> first_alias_use_;   // on the current connection
    std::size_t failed_fingerprint_ = 0;  // credential files as they were at the last CONNECT
    std::shared_ptr<Heartbeat> heart_;    // for the watchdog; the session thread's own
    std::thread thread_;

    // Shared with Paho's threads, stop(), rearm() and the outbox listener.
    std::shared_ptr<SessionSignal> signal_ = std::make_shared<SessionSignal>();
    std::mutex& mutex_ = signal_->mutex;
    std::condition_variable& cv_ = signal_->cv;
    std::atomic<bool>& sleeping_ = signal_->sleeping;
    bool stop_requested_ = false;
    Clock::time_point deadline_{};
    bool rearm_requested_ = false;
    bool rearm_only_if_changed_ = false;
    bool queue_handed_over_ = false;
    std::string rearm_reason_;
    std::uint64_t generation_ = 0;
    bool lost_ = false;
    std::string lost_cause_;
    int lost_reason_ = -1;
    std::optional<std::string> lost_reference_;
    std::vector<Completion> completions_;
    std::vector<InboundPublish> inbound_;  // platform requests for the session thread
    std::set<std::string> sensors_;        // the [[sensor]]s running, as the daemon last said
    bool sensors_changed_ = false;
    std::uint64_t inbound_dropped_ = 0;

    mutable std::mutex status_mutex_;
    UpstreamStatus status_;
    std::atomic<int> in_flight_{0};  // the pump's window, for status()
    std::optional<Clock::time_point> last_connect_;  // under status_mutex_
};

UpstreamSession::UpstreamSession(UpstreamConfig config, Outbox& outbox, Profile profile, CommandRouter* router,
                                 Logger log, std::optional<UpstreamHandover> handover)
    : impl_(std::make_unique<Impl>(std::move(config), outbox, std::move(profile), router, std::move(log),
                                   handover ? handover->last_connect : std::nullopt,
                                   handover ? &handover->totals : nullptr,
                                   handover ? handover->online_entities : std::vector<std::string>{})) {}

UpstreamSession::~UpstreamSession() = default;

void UpstreamSession::start() { impl_->start(); }

void UpstreamSession::stop(std::chrono::steady_clock::time_point deadline, bool queue_handed_over) {
    impl_->stop(deadline, queue_handed_over);
}

void UpstreamSession::rearm(const std::string& why, bool only_if_credentials_changed) {
    impl_->rearm(why, only_if_credentials_changed);
}

UpstreamHandover UpstreamSession::handover() const {
    return UpstreamHandover{impl_->last_connect(), impl_->status(), impl_->online_entities()};
}

void UpstreamSession::sensors_running(std::set<std::string> instances) { impl_->sensors_running(std::move(instances)); }

UpstreamStatus UpstreamSession::status() const { return impl_->status(); }

const std::string& UpstreamSession::name() const { return impl_->name(); }

const UpstreamConfig& UpstreamSession::config() const { return impl_->config(); }

}  // namespace gwd
