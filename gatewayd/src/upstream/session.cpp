#include "upstream/session.h"

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <mqtt/async_client.h>

#include "common/text.h"
#include "common/units.h"
#include "upstream/backoff.h"
#include "upstream/inflight_window.h"
#include "upstream/reason_codes.h"

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

// Never more than one CONNECT per second for a client id, whatever the jitter drew.
constexpr Duration kMinConnectInterval{1000};
// Safety net for a missed wake-up; normal wake-ups are immediate.
constexpr Duration kIdleWait{250};
// A message that the broker answers by closing the connection (a property it
// refuses, a packet too large) would be re-sent and refused forever, holding
// up everything behind it. After this many connections that died young with
// the same message oldest in flight, it is dropped and counted.
constexpr int kPoisonStrikes = 3;
constexpr Duration kYoungConnection{5000};

struct Completion {
    std::uint64_t generation;
    std::uint64_t id;
    bool ok;
    int reason;  // MQTT v5 reason code from the PUBACK, 0 when none
    int rc;      // Paho return code on failure
};

std::string read_secret_file(const std::filesystem::path& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read password_file '" + path.string() + "'";
        return {};
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string secret = buffer.str();
    // Editors and `echo` add a final newline that is not part of the secret.
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    return secret;
}

}  // namespace

class UpstreamSession::Impl {
public:
    Impl(UpstreamConfig config, Outbox& outbox, std::unique_ptr<UplinkCodec> codec, Logger log)
        : config_(std::move(config)),
          outbox_(outbox),
          codec_(std::move(codec)),
          log_(std::move(log)),
          backoff_(config_.backoff, [this] { return uniform_(rng_); }),
          rng_(std::random_device{}()) {
        status_.name = config_.name;
        outbox_.set_append_listener([this] { wake(); });
    }

    ~Impl() {
        if (thread_.joinable()) stop(Clock::now());
    }

    void start() { thread_ = std::thread([this] { run(); }); }

    void stop(Clock::time_point deadline) {
        {
            std::lock_guard lock(mutex_);
            stop_requested_ = true;
            deadline_ = deadline;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    UpstreamStatus status() const {
        std::lock_guard lock(status_mutex_);
        UpstreamStatus s = status_;
        s.outbox = outbox_.stats();
        return s;
    }

    const std::string& name() const { return config_.name; }

    // Called from Paho's threads.
    void on_publish_done(std::uint64_t generation, std::uint64_t id, bool ok, int reason, int rc) {
        {
            std::lock_guard lock(mutex_);
            completions_.push_back({generation, id, ok, reason, rc});
        }
        cv_.notify_one();
    }

    void on_connection_lost(std::uint64_t generation, std::string cause, int reason) {
        {
            std::lock_guard lock(mutex_);
            if (generation != generation_) return;
            if (!lost_) {
                lost_ = true;
                lost_cause_ = std::move(cause);
                lost_reason_ = reason;
            }
        }
        cv_.notify_one();
    }

private:
    // A listener per connection: it tags completions with the connection's
    // generation so that late callbacks of a dead connection are recognised.
    class PublishListener final : public mqtt::iaction_listener {
    public:
        PublishListener(Impl& session, std::uint64_t generation) : session_(session), generation_(generation) {}
        void on_success(const mqtt::token& tok) override {
            session_.on_publish_done(generation_, id_of(tok), true, static_cast<int>(tok.get_reason_code()), 0);
        }
        void on_failure(const mqtt::token& tok) override {
            session_.on_publish_done(generation_, id_of(tok), false, static_cast<int>(tok.get_reason_code()),
                                     tok.get_return_code());
        }

    private:
        static std::uint64_t id_of(const mqtt::token& tok) {
            return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(tok.get_user_context()));
        }
        Impl& session_;
        std::uint64_t generation_;
    };

    struct Connection {
        std::uint64_t generation = 0;
        // Declared before the client so that it is destroyed after it: Paho
        // may still report pending publishes while the client shuts down.
        std::unique_ptr<PublishListener> listener;
        std::unique_ptr<mqtt::async_client> client;
        int window = 1;
    };

    enum class PumpEnd { lost, drained, deadline };
    struct PumpResult {
        PumpEnd end;
        std::optional<std::uint64_t> oldest_unacknowledged;  // when the connection was lost
    };
    enum class PublishResult { sent, skipped, failed };

    void wake() {
        if (!sleeping_.load()) return;
        std::lock_guard lock(mutex_);
        cv_.notify_one();
    }

    bool stop_requested() {
        std::lock_guard lock(mutex_);
        return stop_requested_;
    }

    void set_state(UpstreamState state) {
        std::lock_guard lock(status_mutex_);
        status_.state = state;
    }

    void record_failure(const std::string& error, int reason) {
        std::lock_guard lock(status_mutex_);
        status_.last_error = error;
        if (reason >= 0) status_.last_reason = reason;
    }

    void run() {
        std::string thread_name = ("up-" + config_.name).substr(0, 15);
        pthread_setname_np(pthread_self(), thread_name.c_str());

        std::uint64_t consecutive_failures = 0;
        while (!stop_requested()) {
            const auto attempt_started = Clock::now();
            auto connection = std::make_unique<Connection>();
            std::string error;
            int reason = -1;
            set_state(UpstreamState::connecting);
            if (!connect(*connection, error, reason)) {
                ++consecutive_failures;
                record_failure(error, reason);
                if (stop_requested()) break;
                connection.reset();
                const Duration delay = backoff_.next_delay(next_floor(attempt_started));
                // The first failure is worth a warning; repeats of the same
                // problem only at info, so an outage does not flood the journal.
                std::string line = "cannot connect to " + config_.url + ": " + error + "; retrying in " +
                                   format_duration(delay);
                if (consecutive_failures == 1) log_.warning(line);
                else log_.info(line);
                wait_backoff(delay);
                continue;
            }
            consecutive_failures = 0;
            backoff_.connected(Clock::now());
            set_state(UpstreamState::online);
            log_.notice("connected to " + config_.url + " (MQTT " + (config_.mqtt_version == 5 ? "5" : "3.1.1") +
                        ", up to " + std::to_string(connection->window) + " publishes in flight)");
            outbox_.rewind();
            const auto connected_at = Clock::now();
            const PumpResult result = pump(*connection);
            disconnect(*connection);
            if (result.end != PumpEnd::lost) break;
            backoff_.disconnected(Clock::now());
            std::string cause;
            {
                std::lock_guard lock(mutex_);
                cause = lost_cause_;
                reason = lost_reason_;
            }
            record_failure(cause, reason);
            connection.reset();
            if (Clock::now() - connected_at < kYoungConnection) {
                watch_for_poison(result.oldest_unacknowledged, cause);
            }
            if (stop_requested()) break;
            const Duration delay = backoff_.next_delay(next_floor(attempt_started));
            log_.warning("connection to " + config_.url + " lost: " + cause + "; reconnecting in " +
                         format_duration(delay));
            wait_backoff(delay);
        }
        set_state(UpstreamState::stopped);
        const OutboxStats left = outbox_.stats();
        if (left.queued > 0) {
            log_.warning(std::to_string(left.queued) + " messages were still queued at stop and are lost (outbox = \"" +
                         config_.outbox + "\")");
        }
    }

    // Drops the oldest unacknowledged message when it was the oldest one in
    // flight at each of the last kPoisonStrikes early connection losses.
    void watch_for_poison(std::optional<std::uint64_t> oldest, const std::string& cause) {
        if (!oldest) return;
        if (*oldest != suspect_id_) {
            suspect_id_ = *oldest;
            suspect_strikes_ = 0;
        }
        if (++suspect_strikes_ < kPoisonStrikes) return;
        std::string what = "a message";
        if (auto message = outbox_.get(suspect_id_)) {
            auto request = codec_->encode(*message);
            what = "the message from sensor '" + message->sensor + "'" +
                   (request ? " to topic '" + printable(request->topic, 200) + "'" : std::string());
        }
        log_.error("the broker closed the connection " + std::to_string(suspect_strikes_) + " times while " + what +
                   " was the oldest in flight (last: " + cause +
                   "); dropping that message so the ones behind it can flow");
        outbox_.acknowledge(suspect_id_);
        suspect_strikes_ = 0;
        std::lock_guard lock(status_mutex_);
        ++status_.rejected;
    }

    Duration next_floor(Clock::time_point attempt_started) const {
        const auto since = std::chrono::duration_cast<Duration>(Clock::now() - attempt_started);
        return since >= kMinConnectInterval ? Duration(0) : kMinConnectInterval - since;
    }

    void wait_backoff(Duration delay) {
        {
            std::lock_guard lock(status_mutex_);
            status_.state = UpstreamState::backoff;
            status_.next_attempt = std::chrono::system_clock::now() + delay;
        }
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, delay, [this] { return stop_requested_; });
    }

    bool connect(Connection& connection, std::string& error, int& reason) {
        const bool v5 = config_.mqtt_version == 5;
        {
            std::lock_guard lock(mutex_);
            connection.generation = ++generation_;
            lost_ = false;
            lost_cause_.clear();
            lost_reason_ = -1;
            completions_.clear();
        }
        try {
            // Paho refuses a publish once this many are queued inside it (100 by
            // default), connected or not; our window is the real bound.
            auto create = mqtt::create_options_builder()
                              .mqtt_version(v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1)
                              .send_while_disconnected(false)
                              .max_buffered_messages(config_.max_inflight + 16)
                              .finalize();
            connection.listener = std::make_unique<PublishListener>(*this, connection.generation);
            connection.client = std::make_unique<mqtt::async_client>(config_.url, config_.client_id, create, nullptr);
            const std::uint64_t generation = connection.generation;
            connection.client->set_connection_lost_handler([this, generation](const std::string& cause) {
                on_connection_lost(generation, cause.empty() ? "the broker closed the connection" : cause, -1);
            });
            if (v5) {
                connection.client->set_disconnected_handler(
                    [this, generation](const mqtt::properties&, mqtt::ReasonCode code) {
                        on_connection_lost(generation,
                                           "the broker sent DISCONNECT: " + describe_reason(5, static_cast<int>(code)),
                                           static_cast<int>(code));
                    });
            }

            mqtt::connect_options_builder builder;
            builder.mqtt_version(v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1)
                .keep_alive_interval(std::chrono::duration_cast<std::chrono::seconds>(config_.keep_alive))
                .connect_timeout(std::chrono::duration_cast<std::chrono::seconds>(config_.connect_timeout))
                .automatic_reconnect(false)
                .max_inflight(config_.max_inflight);
            if (v5) {
                builder.clean_start(config_.clean_start);
                if (config_.session_expiry.count() > 0) {
                    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(config_.session_expiry);
                    builder.properties({mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL,
                                                       static_cast<int>(seconds.count()))});
                }
            } else {
                builder.clean_session(config_.clean_start);
            }
            if (config_.username) builder.user_name(*config_.username);
            if (config_.password) {
                builder.password(*config_.password);
            } else if (config_.password_file) {
                std::string secret = read_secret_file(*config_.password_file, error);
                if (!error.empty()) return false;
                builder.password(secret);
            }
            std::string tls_error;
            if (config_.tls) {
                mqtt::ssl_options_builder ssl;
                ssl.enable_server_cert_auth(config_.tls_verify).verify(config_.tls_verify);
                if (config_.ca_file) ssl.trust_store(config_.ca_file->string());
                if (config_.cert_file) ssl.key_store(config_.cert_file->string());
                if (config_.key_file) ssl.private_key(config_.key_file->string());
                ssl.error_handler([this](const std::string& text) {
                    std::lock_guard lock(mutex_);
                    tls_error_ = text;
                });
                builder.ssl(ssl.finalize());
            }
            {
                std::lock_guard lock(mutex_);
                tls_error_.clear();
            }
            {
                std::lock_guard lock(status_mutex_);
                ++status_.attempts;
            }
            mqtt::token_ptr tok = connection.client->connect(builder.finalize());
            const auto give_up = Clock::now() + config_.connect_timeout + std::chrono::seconds(2);
            // Wait in slices so that a stop request does not sit out a slow connect.
            while (!tok->wait_for(std::chrono::milliseconds(100))) {
                if (stop_requested()) {
                    error = "stopped while connecting";
                    return false;
                }
                if (Clock::now() > give_up) {
                    error = "no CONNACK within " + format_duration(config_.connect_timeout);
                    return false;
                }
            }
            connection.window = config_.max_inflight;
            if (v5) {
                const mqtt::connect_response response = tok->get_connect_response();
                const mqtt::properties& props = response.get_properties();
                if (props.contains(mqtt::property::RECEIVE_MAXIMUM)) {
                    const int receive_maximum = mqtt::get<uint16_t>(props, mqtt::property::RECEIVE_MAXIMUM);
                    if (receive_maximum > 0 && receive_maximum < connection.window) connection.window = receive_maximum;
                }
            }
            {
                std::lock_guard lock(status_mutex_);
                status_.window = connection.window;
                status_.last_error.clear();
            }
            return true;
        } catch (const mqtt::exception& e) {
            const int rc = e.get_return_code();
            std::string tls_text;
            {
                std::lock_guard lock(mutex_);
                tls_text = tls_error_;
            }
            if (rc > 0) {
                // A refused CONNECT: Paho puts the CONNACK code in the return code.
                reason = rc;
                error = "the broker refused the connection: " + describe_reason(config_.mqtt_version, rc);
            } else if (!tls_text.empty()) {
                error = "TLS handshake failed: " + tls_text;
            } else {
                error = std::string(e.what());
            }
            return false;
        } catch (const std::exception& e) {
            error = e.what();
            return false;
        }
    }

    PumpResult pump(Connection& connection) {
        std::vector<OutboxEntry> batch;
        std::vector<Completion> done;
        InflightWindow inflight;
        const size_t window = static_cast<size_t>(connection.window);
        bool stopping = false;
        Clock::time_point deadline{};
        while (true) {
            bool lost = false;
            {
                std::unique_lock lock(mutex_);
                auto ready = [&] {
                    return lost_ || (stop_requested_ && !stopping) || !completions_.empty() ||
                           (inflight.size() < window && outbox_.has_untaken());
                };
                if (!ready()) {
                    sleeping_.store(true);
                    const auto wait = stopping ? std::min<Clock::duration>(kIdleWait, deadline - Clock::now())
                                               : Clock::duration(kIdleWait);
                    cv_.wait_for(lock, wait, ready);
                    sleeping_.store(false);
                }
                done.clear();
                done.swap(completions_);
                lost = lost_;
                if (stop_requested_ && !stopping) {
                    stopping = true;
                    deadline = deadline_;
                }
            }
            for (const Completion& c : done) {
                const bool answered = c.ok || c.reason >= 0x80;  // the broker acknowledged or refused it
                if (c.generation == connection.generation) {
                    if (answered) {
                        inflight.settle(c.id);
                    } else if (!lost) {
                        // No answer, just a failure: the connection is not sound. The
                        // entry stays unacknowledged, so the oldest in flight stays known.
                        lost = true;
                        std::lock_guard lock(mutex_);
                        if (!lost_) {
                            lost_ = true;
                            lost_cause_ = "a publish failed (Paho return code " + std::to_string(c.rc) + ")";
                        }
                    }
                }
                settle(c);
            }
            if (lost) return {PumpEnd::lost, inflight.oldest()};
            if (stopping) {
                if (inflight.size() == 0 && !outbox_.has_untaken()) return {PumpEnd::drained, std::nullopt};
                if (Clock::now() >= deadline) {
                    log_.warning("stop deadline reached with " + std::to_string(inflight.size()) +
                                 " publishes still unacknowledged");
                    return {PumpEnd::deadline, std::nullopt};
                }
            }
            std::optional<std::uint64_t> failed;
            while (!failed && inflight.size() < window) {
                batch.clear();
                if (outbox_.take(window - inflight.size(), batch) == 0) break;
                for (const OutboxEntry& entry : batch) {
                    const PublishResult r = publish(connection, entry);
                    if (r == PublishResult::sent) {
                        inflight.sent(entry.id);
                    } else if (r == PublishResult::failed) {
                        // What was taken and not acknowledged comes back at rewind().
                        failed = entry.id;
                        break;
                    }
                }
            }
            if (failed) return {PumpEnd::lost, inflight.oldest() ? inflight.oldest() : failed};
        }
    }

    PublishResult publish(Connection& connection, const OutboxEntry& entry) {
        std::optional<PublishRequest> request = codec_->encode(*entry.message);
        if (!request) {
            // Not for this upstream (a dead letter without a dead-letter topic).
            outbox_.acknowledge(entry.id);
            std::lock_guard lock(status_mutex_);
            ++status_.not_routed;
            return PublishResult::skipped;
        }
        try {
            mqtt::properties props;
            if (config_.mqtt_version == 5) {
                if (request->content_type) props.add(mqtt::property(mqtt::property::CONTENT_TYPE, *request->content_type));
                if (request->payload_format)
                    props.add(mqtt::property(mqtt::property::PAYLOAD_FORMAT_INDICATOR, *request->payload_format));
                for (const auto& p : request->properties)
                    props.add(mqtt::property(mqtt::property::USER_PROPERTY, p.key, p.value));
            }
            auto msg = mqtt::message::create(request->topic, request->payload.data(), request->payload.size(),
                                             request->qos, request->retain, props);
            connection.client->publish(msg, reinterpret_cast<void*>(static_cast<std::uintptr_t>(entry.id)),
                                       *connection.listener);
            return PublishResult::sent;
        } catch (const mqtt::exception& e) {
            std::lock_guard lock(mutex_);
            if (!lost_) {
                lost_ = true;
                lost_cause_ = std::string("publishing failed: ") + e.what();
            }
            return PublishResult::failed;
        }
    }

    // Applies one publish completion to the outbox.
    void settle(const Completion& c) {
        if (c.ok) {
            outbox_.acknowledge(c.id);
            std::lock_guard lock(status_mutex_);
            ++status_.sent;
            return;
        }
        if (c.reason >= 0x80) {
            // The broker refused this one message; it must not block the ones behind it.
            outbox_.acknowledge(c.id);
            {
                std::lock_guard lock(status_mutex_);
                ++status_.rejected;
                status_.last_reason = c.reason;
            }
            std::uint64_t suppressed = 0;
            if (reject_log_.allow(Clock::now(), suppressed)) {
                log_.error("the broker refused a publish: " + describe_reason(5, c.reason) +
                           "; the message was dropped" +
                           (suppressed ? " (" + std::to_string(suppressed) + " similar messages suppressed)" : ""));
            }
        }
        // Other failures mean the connection broke; rewind() re-sends the entry.
    }

    void disconnect(Connection& connection) {
        if (!connection.client || !connection.client->is_connected()) return;
        try {
            auto tok = connection.client->disconnect(std::chrono::milliseconds(500));
            tok->wait_for(std::chrono::seconds(2));
        } catch (const mqtt::exception&) {
            // Went away meanwhile: nothing left to close.
        }
    }

    UpstreamConfig config_;
    Outbox& outbox_;
    std::unique_ptr<UplinkCodec> codec_;
    Logger log_;
    Backoff backoff_;
    std::mt19937_64 rng_;
    std::uniform_real_distribution<double> uniform_{0.0, 1.0};
    LogRateLimit reject_log_;
    std::uint64_t suspect_id_ = 0;  // see watch_for_poison()
    int suspect_strikes_ = 0;
    std::thread thread_;

    // Shared with Paho's threads and stop().
    std::mutex mutex_;
    std::condition_variable cv_;
    std::atomic<bool> sleeping_{false};
    bool stop_requested_ = false;
    Clock::time_point deadline_{};
    std::uint64_t generation_ = 0;
    bool lost_ = false;
    std::string lost_cause_;
    int lost_reason_ = -1;
    std::string tls_error_;
    std::vector<Completion> completions_;

    mutable std::mutex status_mutex_;
    UpstreamStatus status_;
};

UpstreamSession::UpstreamSession(UpstreamConfig config, Outbox& outbox, std::unique_ptr<UplinkCodec> codec,
                                 Logger log)
    : impl_(std::make_unique<Impl>(std::move(config), outbox, std::move(codec), std::move(log))) {}

UpstreamSession::~UpstreamSession() = default;

void UpstreamSession::start() { impl_->start(); }

void UpstreamSession::stop(std::chrono::steady_clock::time_point deadline) { impl_->stop(deadline); }

UpstreamStatus UpstreamSession::status() const { return impl_->status(); }

const std::string& UpstreamSession::name() const { return impl_->name(); }

}  // namespace gwd
