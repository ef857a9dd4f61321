// The session's thread and the glue between its rooms (session/): the
// Connector decides how and when to connect, the PublishPump publishes on
// one connection, Delivery applies what the broker answered, the
// PlatformLink speaks with the platform's agent. Here: the waiting, the
// mailbox that the client's threads, stop(), rearm() and the outbox fill,
// and the order of things on one connection.
#include "upstream/session.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "common/liveness.h"
#include "common/time_source.h"
#include "mqtt/reason_codes.h"
#include "upstream/session/connector.h"
#include "upstream/session/delivery.h"
#include "upstream/session/platform_link.h"
#include "upstream/session/publish_pump.h"
#include "upstream/session/status_board.h"

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

// Safety net for a missed wake-up; normal wake-ups are immediate.
constexpr Duration kIdleWait{250};
// A waiting session thread still beats this often, for the watchdog.
constexpr Duration kBeatEvery{1000};
// Platform requests waiting for the session thread, at most.
constexpr size_t kMaxInboundQueued = 1000;
// How long a DISCONNECT may take to go out.
constexpr std::chrono::milliseconds kDisconnectTimeout{500};

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

    // New readings before the session is worth waking: while every batch
    // lingers, as many as the fullest one lacks; otherwise 1.
    std::atomic<std::int64_t> appends_to_wake{1};

    void appended() {
        if (!sleeping.load() || appends_to_wake.fetch_sub(1) > 1) return;
        // Taking the lock orders this after the session's last look (it either
        // saw the reading, or is in its wait by now); notifying after letting
        // go spares the woken session a second sleep on the lock we held.
        { std::lock_guard lock(mutex); }
        cv.notify_one();
    }
};

class UpstreamSession::Impl final : public TransportEvents {
public:
    Impl(UpstreamConfig config, Outbox& outbox, Profile profile, CommandRouter* router, Logger log,
         TransportFactory transport, std::optional<UpstreamHandover> handover)
        : config_(std::move(config)),
          outbox_(outbox),
          log_(std::move(log)),
          make_transport_(std::move(transport)),
          rng_(std::random_device{}()),
          status_(config_.name, config_.url, config_.client_id, handover ? &handover->totals : nullptr),
          pacer_(config_.max_publish_rate),
          codec_(std::move(profile.codec)),
          delivery_({config_, outbox_, pacer_, status_, log_, time_,
                     profile.agent ? std::function([this](std::uint64_t id, const std::shared_ptr<const Message>& m) {
                         link_.delivered(id, m);
                     })
                                   : nullptr}),
          link_({config_, pacer_, delivery_, status_, log_, time_, router,
                 [signal = signal_](std::uint64_t ticket, CommandOutcome outcome) {
                     signal->command_done(ticket, std::move(outcome));
                 }},
                std::move(profile.agent)),
          connector_({config_, pacer_, status_, log_, time_}, std::move(profile.credentials),
                     handover ? handover->last_connect : std::nullopt, [this] { return uniform_(rng_); }) {
        if (handover) link_.inherit_online_entities(handover->online_entities);
        outbox_.set_append_listener([signal = signal_] { signal->appended(); });
    }

    ~Impl() override {
        if (thread_.joinable()) stop(Clock::now(), false);
        outbox_.set_append_listener({});
    }

    void start() {
        thread_ = std::thread([this] { run(); });
    }

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

    // What the link hands to a successor; after stop().
    std::vector<std::string> online_entities() const { return link_.online_entities(); }
    std::optional<Clock::time_point> last_connect() const { return status_.last_connect(); }
    UpstreamStatus status() const { return status_.snapshot(outbox_); }
    const std::string& name() const { return config_.name; }
    const UpstreamConfig& config() const { return config_; }

    // TransportEvents, called from the client's threads.
    void on_publish_done(std::uint64_t generation, std::uint64_t id, bool ok, int reason, int client_code) override {
        bool wake;
        {
            std::lock_guard lock(mutex_);
            completions_.push_back({generation, id, ok, reason, client_code});
            wake = !ok || completions_.size() >= completions_to_wake_;  // a refusal is news at once
        }
        if (wake) cv_.notify_one();
    }

    void on_connection_lost(std::uint64_t generation, const std::string& cause, int reason,
                            const std::optional<std::string>& server_reference) override {
        {
            std::lock_guard lock(mutex_);
            if (generation != generation_) return;
            // A server's DISCONNECT reason beats what we guessed from a failed
            // publish or a closed socket, which the client may report first.
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
            // Beyond the bound, a request is not taken: the platform asks again.
            if (generation != generation_ || !link_.active() || inbound_.size() >= kMaxInboundQueued) return;
            inbound_.push_back(InboundPublish{std::move(topic), std::move(payload), std::move(response_topic),
                                              std::move(correlation_data)});
        }
        cv_.notify_one();
    }

private:
    enum class ConnectionEnd { lost, drained, deadline, reconnect };

    bool stop_requested() {
        std::lock_guard lock(mutex_);
        return stop_requested_;
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
    bool wait_for(Duration d, bool wake_on_rearm = false) { return wait_until(Clock::now() + d, wake_on_rearm); }

    void run() {
        const std::string thread_name = ("up-" + config_.name).substr(0, 15);
        pthread_setname_np(pthread_self(), thread_name.c_str());
        heart_ = process_liveness().enroll("upstream " + config_.name);

        int failures_in_a_row = 0;
        while (!stop_requested()) {
            // Parked: wait for new credentials, a reload or a timed retry.
            if (connector_.parked()) {
                if (!wait_until(connector_.parked_retry_at(), true)) break;
                std::string why;
                bool only_if_changed = false;
                {
                    std::lock_guard lock(mutex_);
                    if (rearm_requested_) why = rearm_reason_;
                    only_if_changed = rearm_only_if_changed_;
                    rearm_requested_ = false;
                }
                if (connector_.try_rearm(why, only_if_changed)) failures_in_a_row = 0;
                continue;
            }
            {
                std::lock_guard lock(mutex_);
                rearm_requested_ = false;  // a re-arm only matters to a parked upstream
            }
            const Duration spacing = connector_.connect_spacing();
            if (spacing.count() > 0 && !wait_for(spacing)) break;

            status_.set_state(UpstreamState::connecting);
            std::unique_ptr<Transport> transport = make_transport();
            if (!transport) {
                // The password file vanished: as good as a refused CONNECT, but
                // costs the broker nothing. Retry with backoff.
                if (!wait_for(connector_.local_problem_delay(), true)) break;
                continue;
            }
            connector_.connect_sent();
            const ConnectResult result = [&] {
                Heartbeat::Excuse excuse(heart_.get());  // bounded by connect_timeout
                return transport->connect([this] { return stop_requested(); });
            }();
            if (result.aborted) break;
            if (!result.ok) {
                ++failures_in_a_row;
                const Connector::Next next = connector_.connect_failed(result, failures_in_a_row);
                transport.reset();
                if (!next.parked && !wait_for(next.wait)) break;
                continue;
            }
            failures_in_a_row = 0;
            std::optional<Connector::Loss> loss = serve(*transport, result.connack);
            transport.reset();
            if (!loss) {
                if (drained_or_deadline_) break;
                continue;  // reconnect
            }
            if (stop_requested()) break;
            ++failures_in_a_row;
            const Connector::Next next = connector_.connection_lost(*loss, failures_in_a_row);
            if (!next.parked && !wait_for(next.wait)) break;
        }
        status_.set_state(UpstreamState::stopped, "gatewayd is stopping");
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

    // The client for the next CONNECT; null when it cannot be made (logged).
    std::unique_ptr<Transport> make_transport() {
        std::optional<ConnectSettings> settings = connector_.next_connect();
        if (!settings) return nullptr;
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
        try {
            return make_transport_(std::move(*settings), *this, generation);
        } catch (const std::exception& e) {
            status_.record_failure(e.what(), -1, config_.mqtt_version);
            log_.error(e.what());
            return nullptr;
        }
    }

    // One connection, from CONNACK to its end. The loss, when it was lost;
    // nullopt when it ended on purpose (drained_or_deadline_ says how).
    std::optional<Connector::Loss> serve(Transport& transport, const ConnackInfo& connack) {
        drained_or_deadline_ = false;
        const auto connected_at = Clock::now();
        const ConnectionLimits limits = connector_.connected(connack, transport.settings());
        if (connector_.keep_alive_too_long(connack)) {
            transport.disconnect(kDisconnectTimeout);
            return std::nullopt;  // reconnect with the server's keep alive
        }
        status_.set_state(UpstreamState::online);
        status_.update([&](UpstreamStatus& s) {
            s.online_since = time_.wall();
            s.last_error.clear();
        });
        outbox_.rewind();
        delivery_.connection_started();
        std::set<std::string> sensors;
        {
            std::lock_guard lock(mutex_);
            sensors = sensors_;
            sensors_changed_ = false;
        }
        link_.start(transport, sensors, heart_.get());
        PublishPump pump({config_, outbox_, *codec_, pacer_, delivery_, status_, time_}, limits, transport);
        const ConnectionEnd end = publish_until_done(transport, pump);
        status_.set_in_flight(0);
        link_.connection_ended();
        transport.disconnect(kDisconnectTimeout);
        // Acknowledgements that came in after the pump stopped still count:
        // without this their messages would go out again as duplicates.
        settle_late_completions(transport.generation());
        if (end == ConnectionEnd::drained || end == ConnectionEnd::deadline) {
            drained_or_deadline_ = true;
            return std::nullopt;
        }
        if (end == ConnectionEnd::reconnect) return std::nullopt;
        Connector::Loss loss;
        {
            std::lock_guard lock(mutex_);
            loss.cause = lost_cause_;
            loss.reason = lost_reason_;
            loss.server_reference = lost_reference_;
        }
        loss.connected_at = connected_at;
        loss.first_alias_use = pump.first_alias_use();
        loss.oldest_unanswered = pump.oldest_in_flight();
        delivery_.connection_lost(loss.oldest_unanswered, pump.acked_after_oldest(), loss.reason, loss.cause);
        return loss;
    }

    // Marks the connection lost for `cause`, unless something said so first.
    void mark_lost(const std::string& cause) {
        std::lock_guard lock(mutex_);
        if (lost_) return;
        lost_ = true;
        lost_cause_ = cause;
    }

    // Sleeps until there is something to do, does it, until the connection
    // is lost, the queue is drained at stop, the stop deadline passes or a
    // token must be renewed.
    ConnectionEnd publish_until_done(Transport& transport, PublishPump& pump) {
        std::vector<PublishCompletion> done;
        bool stopping = false;
        bool handed_over = false;
        Clock::time_point deadline{};
        const std::optional<Clock::time_point> renew_at = connector_.renew_at();
        while (true) {
            heart_->beat();
            bool lost = false;
            PlatformLink::Events events;
            {
                std::unique_lock lock(mutex_);
                const auto control_wait = link_.control_wait();
                auto ready = [&] {
                    return lost_ || (stop_requested_ && !stopping) || !completions_.empty() || pump.can_publish() ||
                           !inbound_.empty() || !signal_->command_results.empty() || sensors_changed_ ||
                           (control_wait && control_wait->count() == 0);
                };
                if (!ready()) {
                    // A new reading is news only when the window has room for it and, while every
                    // batch lingers, only once enough have come to fill one.
                    signal_->appends_to_wake.store(static_cast<std::int64_t>(
                        std::min<size_t>(pump.readings_to_news(), std::numeric_limits<std::int64_t>::max())));
                    const bool window_full = pump.in_flight() >= pump.limits().window;
                    // Said only once there is nothing to do: while the session looks, an
                    // append need not take the session's lock to wake it.
                    sleeping_.store(!window_full);
                    // A full window refills in half-window steps: one wake-up (here, and in the
                    // client's send thread) per half a window of acknowledgements, not per one.
                    // The window never falls below half, so the broker is never left idle.
                    if (window_full && !stopping) completions_to_wake_ = std::max<size_t>(1, pump.limits().window / 2);
                    Clock::duration wait = kIdleWait;
                    if (pacer_.current_rate() > 0) {  // an unlimited pacer: spare the clock read
                        if (const auto pace = pacer_.wait(Clock::now()); pace.count() > 0) wait = std::min(wait, pace);
                    }
                    if (control_wait) wait = std::min(wait, *control_wait);
                    if (const auto linger = pump.linger_until())
                        wait = std::min<Clock::duration>(
                            wait, std::max<Clock::duration>(Clock::duration(0), *linger - Clock::now()));
                    if (stopping) wait = std::min<Clock::duration>(wait, deadline - Clock::now());
                    if (auto tick = link_.next_tick()) {
                        wait = std::min<Clock::duration>(
                            wait, std::max<Clock::duration>(Clock::duration(0), *tick - time_.wall()));
                    }
                    // Looks again (the appends' wake-up depends on "sleeping", said above).
                    cv_.wait_for(lock, wait, ready);
                    sleeping_.store(false);
                    completions_to_wake_ = 1;
                }
                done.clear();
                done.swap(completions_);
                events.inbound.swap(inbound_);
                events.answers.swap(signal_->command_results);
                lost = lost_;
                if (stop_requested_ && !stopping) {
                    stopping = true;
                    pump.stop_lingering();
                    deadline = deadline_;
                    handed_over = queue_handed_over_;
                }
                if (sensors_changed_) {
                    events.sensors = sensors_;
                    sensors_changed_ = false;
                }
            }
            for (const PublishCompletion& c : done) {
                if ((c.id & kControlIdBit) != 0) {
                    link_.control_done(c);
                } else if (c.generation != transport.generation()) {
                    if (c.ok) delivery_.settle(c, std::nullopt);  // a late acknowledgement is still one
                } else if (!pump.completed(c) && !lost) {
                    lost = true;
                    mark_lost(pump.failure());
                }
            }
            if (link_.active()) {
                events.saying_goodbye = stopping && !handed_over && !said_goodbye_;
                if (events.saying_goodbye) said_goodbye_ = true;
                link_.handle(events);
                if (!lost) link_.carry_out(transport);
            }
            if (lost) return ConnectionEnd::lost;
            if (stopping) {
                // A reload's restart leaves our own messages behind: the
                // successor says what is true then.
                if (pump.drained() && (handed_over || link_.idle())) return ConnectionEnd::drained;
                if (Clock::now() >= deadline) {
                    if (!handed_over) {
                        log_.warning("stop deadline reached with " + std::to_string(pump.in_flight()) +
                                     " publishes still unacknowledged");
                    }
                    return ConnectionEnd::deadline;
                }
            } else if (renew_at && Clock::now() >= *renew_at && pump.in_flight() == 0) {
                log_.notice("the password token expires soon; reconnecting with a fresh one");
                return ConnectionEnd::reconnect;
            }
            if (!pump.fill()) {
                mark_lost(pump.failure());
                return ConnectionEnd::lost;
            }
        }
    }

    void settle_late_completions(std::uint64_t generation) {
        std::vector<PublishCompletion> late;
        {
            std::lock_guard lock(mutex_);
            late.swap(completions_);
        }
        for (const PublishCompletion& c : late) {
            if ((c.id & kControlIdBit) != 0) continue;
            if (c.generation == generation && c.answered()) delivery_.settle(c, std::nullopt);
        }
    }

    // Shared with the client's threads, stop(), rearm(), the outbox listener
    // and the command router; everything under its mutex below is too.
    std::shared_ptr<SessionSignal> signal_ = std::make_shared<SessionSignal>();
    std::mutex& mutex_ = signal_->mutex;
    std::condition_variable& cv_ = signal_->cv;
    std::atomic<bool>& sleeping_ = signal_->sleeping;

    UpstreamConfig config_;
    Outbox& outbox_;
    Logger log_;
    const TimeSource& time_ = system_time();
    TransportFactory make_transport_;
    std::mt19937_64 rng_;
    std::uniform_real_distribution<double> uniform_{0.0, 1.0};
    StatusBoard status_;
    PublishPacer pacer_;
    std::unique_ptr<UplinkCodec> codec_;
    // The rooms, each on this session's thread only.
    Delivery delivery_;
    PlatformLink link_;
    Connector connector_;
    bool said_goodbye_ = false;         // the agent's on_stop() ran
    bool drained_or_deadline_ = false;  // how the last connection ended on purpose
    std::shared_ptr<Heartbeat> heart_;  // for the watchdog; the session thread's own
    std::thread thread_;

    // Under mutex_:
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
    std::vector<PublishCompletion> completions_;
    size_t completions_to_wake_ = 1;       // acknowledgements worth waking the session for
    std::vector<InboundPublish> inbound_;  // platform requests for the session thread
    std::set<std::string> sensors_;        // the [[sensor]]s running, as the daemon last said
    bool sensors_changed_ = false;
};

UpstreamSession::UpstreamSession(UpstreamConfig config, Outbox& outbox, Profile profile, CommandRouter* router,
                                 Logger log, TransportFactory transport, std::optional<UpstreamHandover> handover)
    : impl_(std::make_unique<Impl>(std::move(config), outbox, std::move(profile), router, std::move(log),
                                   std::move(transport), std::move(handover))) {}

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
