#include "plugin_host/sensor_instance.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "common/json.h"
#include "common/liveness.h"
#include "common/text.h"
#include "common/units.h"
#include "plugin_host/bounded_call.h"
#include "plugin_host/crash_guard.h"
#include "plugin_host/plugin_options.h"
#include "topics/topic_template.h"

namespace gwd {

namespace {

using Clock = std::chrono::steady_clock;
// A poll thread waiting for its next poll still beats this often, for the watchdog.
constexpr auto kBeatEvery = std::chrono::seconds(1);

std::int64_t steady_ms(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SensorInstance& self(const gwd_context* ctx) { return *ctx->instance; }

// The host API must not throw into C: each entry catches what it could.
const char* api_sensor_name(const gwd_context* ctx) { return self(ctx).name().c_str(); }
const char* api_gateway_id(const gwd_context* ctx) { return self(ctx).gateway_id().c_str(); }
int64_t api_interval_ms(const gwd_context* ctx) { return self(ctx).interval().count(); }
void api_log(const gwd_context* ctx, int level, const char* message) { self(ctx).log(level, message); }
int api_emit(gwd_context* ctx, const gwd_reading* reading) { return self(ctx).emit(reading); }
void api_set_problem(const gwd_context* ctx, const char* problem) { self(ctx).set_problem(problem); }
void api_set_counter(const gwd_context* ctx, const char* name, uint64_t value) { self(ctx).set_counter(name, value); }

// What [sensor.options] says, else the plugin's declared default.
const OptionValue* find_option(const gwd_context* ctx, const char* key) {
    if (key == nullptr) return nullptr;
    return self(ctx).option(key);
}

int api_option_string(const gwd_context* ctx, const char* key, const char** out) {
    const OptionValue* v = find_option(ctx, key);
    if (v == nullptr || !v->is_string() || out == nullptr) return GWD_ERR_NOT_FOUND;
    *out = std::get<std::string>(v->value).c_str();
    return GWD_OK;
}

// Copies a typed lookup (option_as_int, ...) into the plugin's out parameter.
template <typename Out, typename Lookup>
int typed_option(const gwd_context* ctx, const char* key, Out* out, Lookup lookup) noexcept {
    if (key == nullptr || out == nullptr) return GWD_ERR_NOT_FOUND;
    try {
        auto v = lookup(find_option(ctx, key));
        if (!v) return GWD_ERR_NOT_FOUND;
        *out = static_cast<Out>(*v);
        return GWD_OK;
    } catch (...) {
        return GWD_ERR_FAILED;
    }
}

int api_option_int(const gwd_context* ctx, const char* key, int64_t* out) {
    return typed_option(ctx, key, out, option_as_int);
}
int api_option_float(const gwd_context* ctx, const char* key, double* out) {
    return typed_option(ctx, key, out, option_as_float);
}
int api_option_bool(const gwd_context* ctx, const char* key, int* out) {
    return typed_option(ctx, key, out, option_as_bool);
}
int api_option_duration_ms(const gwd_context* ctx, const char* key, int64_t* out) {
    return typed_option(ctx, key, out, option_as_duration_ms);
}

size_t api_option_list_size(const gwd_context* ctx, const char* key) {
    const OptionValue* v = find_option(ctx, key);
    if (v == nullptr || !v->is_list()) return 0;
    return std::get<OptionValue::List>(v->value).size();
}

int api_option_list_string(const gwd_context* ctx, const char* key, size_t index, const char** out) {
    const OptionValue* v = find_option(ctx, key);
    if (v == nullptr || !v->is_list() || out == nullptr) return GWD_ERR_NOT_FOUND;
    const auto& list = std::get<OptionValue::List>(v->value);
    if (index >= list.size() || !list[index].is_string()) return GWD_ERR_NOT_FOUND;
    *out = std::get<std::string>(list[index].value).c_str();
    return GWD_OK;
}

const gwd_host_api kHostApi = [] {
    gwd_host_api api{};
    api.abi_version = GWD_PLUGIN_ABI_VERSION;
    api.sensor_name = api_sensor_name;
    api.gateway_id = api_gateway_id;
    api.interval_ms = api_interval_ms;
    api.log = api_log;
    api.emit = api_emit;
    api.option_string = api_option_string;
    api.option_int = api_option_int;
    api.option_float = api_option_float;
    api.option_bool = api_option_bool;
    api.option_duration_ms = api_option_duration_ms;
    api.option_list_size = api_option_list_size;
    api.option_list_string = api_option_list_string;
    api.set_problem = api_set_problem;
    api.set_counter = api_set_counter;
    return api;
}();

LogLevel to_log_level(int level) {
    if (level <= GWD_LOG_ERROR) return LogLevel::error;
    if (level == GWD_LOG_WARNING) return LogLevel::warning;
    if (level == GWD_LOG_NOTICE) return LogLevel::notice;
    if (level == GWD_LOG_INFO) return LogLevel::info;
    return LogLevel::debug;
}

// RAII count of emit() calls in progress, so stop can wait for them.
class EmitGuard {
public:
    explicit EmitGuard(std::atomic<int>& counter) : counter_(counter) { counter_.fetch_add(1); }
    ~EmitGuard() { counter_.fetch_sub(1); }

private:
    std::atomic<int>& counter_;
};

std::string seconds_text(Clock::duration d) { return format_duration(std::chrono::duration_cast<Duration>(d)); }

}  // namespace

const gwd_host_api& host_api() { return kHostApi; }

std::string plugin_log_text(std::string_view message) {
    constexpr size_t kMax = 2048;
    std::string out;
    out.reserve(std::min(message.size(), kMax) + 16);
    const bool utf8 = is_valid_utf8(message);
    for (size_t i = 0; i < message.size(); ++i) {
        if (out.size() >= kMax) {
            out += "...";
            break;
        }
        const auto c = static_cast<unsigned char>(message[i]);
        // C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) include a CSI of their own.
        const bool c1 = utf8 && c == 0xC2 && i + 1 < message.size() &&
                        static_cast<unsigned char>(message[i + 1]) >= 0x80 &&
                        static_cast<unsigned char>(message[i + 1]) <= 0x9F;
        if (c >= 0x20 && c != 0x7F && !c1 && (c < 0x80 || utf8)) {
            out += static_cast<char>(c);
            continue;
        }
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (c == '\r') {
            out += "\\r";
            continue;
        }
        if (c == '\t') {
            out += "\\t";
            continue;
        }
        char hex[8];
        if (c1) {
            std::snprintf(hex, sizeof hex, "\\u%04x", static_cast<unsigned char>(message[++i]));
        } else {
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
        }
        out += hex;
    }
    return out;
}

SensorInstance::SensorInstance(SensorConfig config, std::string gateway_id, std::shared_ptr<PluginLibrary> library,
                               ReadingSink& sink, Logger log, SensorLimits limits, std::string crash_record)
    : config_(std::move(config)),
      gateway_id_(std::move(gateway_id)),
      library_(std::move(library)),
      sink_(sink),
      log_(std::move(log)),
      limits_(limits),
      context_{this} {
    crash_slot_ = crash_guard::claim_sensor(config_.name, config_.plugin,
                                            crash_record.empty() ? config_.name + "\t" + config_.plugin : crash_record);
}

SensorInstance::~SensorInstance() {
    if (!abandoned_.load() && !shut_down_) {
        // The owner did not shut it down (a test): no thread may borrow this
        // object any more, so the calls run here, without a bound.
        shut_down_ = true;
        {
            std::lock_guard lock(poll_mutex_);
            poll_stop_ = true;
        }
        poll_cv_.notify_all();
        if (poll_thread_.joinable()) poll_thread_.join();
        const gwd_plugin& d = library_->descriptor();
        bool running;
        {
            std::lock_guard lock(state_mutex_);
            running = state_ == SensorState::running;
        }
        if (running && d.stop != nullptr)
            call_plugin("stop", [&] {
                d.stop(plugin_instance_);
                return GWD_OK;
            });
        accepting_.store(false);
        while (emits_in_progress_.load() != 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        stored_open_.store(false);
        if (notifier_) notifier_->stop(Clock::now() + limits_.call_timeout);
        if (created_)
            call_plugin("destroy", [&] {
                d.destroy(plugin_instance_);
                return GWD_OK;
            });
    }
    if (!abandoned_.load()) crash_guard::release_sensor(crash_slot_);
    if (poll_thread_.joinable()) poll_thread_.detach();
}

template <typename Call>
int SensorInstance::call_plugin(const char* what, Call&& call) {
    crash_guard::InPlugin marker(crash_slot_, what);
    // Polls and lifecycle calls are timed for stuck detection; commands and
    // stored() run beside them and have bounds of their own.
    const bool timed = std::strcmp(what, "command") != 0 && std::strcmp(what, "stored") != 0;
    if (timed) {
        in_call_.store(what);
        in_call_since_ms_.store(steady_ms(Clock::now()));
    }
    int rc = GWD_ERR_FAILED;
    // An exception must not unwind out of a plugin into the daemon: the C ABI
    // has no exceptions, and one bad plugin may only take down its own sensor.
    try {
        rc = call();
    } catch (const std::exception& e) {
        log_.error(std::string("the plugin's ") + what + "() threw an exception: " + plugin_log_text(e.what()));
    } catch (...) {
        log_.error(std::string("the plugin's ") + what + "() threw an exception");
    }
    if (timed) in_call_since_ms_.store(0);
    return rc;
}

std::optional<int> SensorInstance::bounded(const char* what, std::function<int(const gwd_plugin&, void*)> call,
                                           Clock::time_point deadline) {
    const auto started = Clock::now();
    auto rc = std::make_shared<int>(GWD_ERR_FAILED);
    bool returned = false;
    try {
        returned = run_bounded(
            [self = shared_from_this(), what, call = std::move(call), rc] {
                *rc =
                    self->call_plugin(what, [&] { return call(self->library_->descriptor(), self->plugin_instance_); });
            },
            deadline, std::string(what).substr(0, 3) + "-" + config_.name);
    } catch (const std::exception& e) {
        // No thread for the call (resources exhausted): it never ran.
        log_.error(std::string("cannot run the plugin's ") + what + "(): " + e.what());
        fail(std::string("could not run ") + what + "(): " + e.what());
        return std::nullopt;
    }
    if (!returned) {
        abandon(std::string(what) + "() did not return within " + seconds_text(deadline - started));
        return std::nullopt;
    }
    return *rc;
}

void SensorInstance::fail(const std::string& why) {
    std::lock_guard lock(state_mutex_);
    state_ = SensorState::failed;
    error_ = why;
}

void SensorInstance::abandon(const std::string& why) {
    abandoned_.store(true);
    accepting_.store(false);
    {
        std::lock_guard lock(state_mutex_);
        // Instances are always shared (make_shared); a caller of abandon() holds one.
        if (!abandoned_self_) abandoned_self_ = weak_from_this().lock();
        state_ = SensorState::stuck;
        error_ = why + "; its thread is abandoned";
    }
    log_.error(why + " (plugin " + config_.plugin +
               "); the sensor is abandoned: its thread is left running and the "
               "plugin is never called or unloaded again. Every other sensor and upstream carries on. Fix or "
               "replace the plugin; gatewayd runs it again at the next start or when its [[sensor]] block "
               "changes");
}

bool SensorInstance::create(Clock::time_point deadline) {
    auto instance = std::make_shared<void*>(nullptr);  // outlives a call that overstays
    const std::optional<int> rc = bounded(
        "create",
        [this, instance](const gwd_plugin& d, void*) { return d.create(&kHostApi, &context_, instance.get()); },
        deadline);
    if (!rc) return false;
    if (*rc != GWD_OK) {
        fail("the plugin's create() failed (status " + std::to_string(*rc) + "); see its log line above");
        log_.error("disabled: the plugin refused its configuration (create() returned " + std::to_string(*rc) + ")");
        return false;
    }
    plugin_instance_ = *instance;
    created_ = true;
    return true;
}

bool SensorInstance::wants_stored() const {
    const gwd_plugin& d = library_->descriptor();
    return d.abi_version >= 2 && d.stored != nullptr;
}

void SensorInstance::deliver_stored(void* ack_context, bool stored) {
    if (!stored_open_.load()) return;
    call_plugin("stored", [&] {
        library_->descriptor().stored(plugin_instance_, ack_context, stored ? GWD_OK : GWD_ERR_DROPPED);
        return GWD_OK;
    });
}

bool SensorInstance::start(Clock::time_point deadline) {
    if (wants_stored()) {
        stored_open_.store(true);
        notifier_ = std::make_shared<StoredNotifier>(
            [this](void* ack_context, bool stored) { deliver_stored(ack_context, stored); }, "st-" + config_.name);
    }
    accepting_.store(true);
    const gwd_plugin& d = library_->descriptor();
    if (d.start != nullptr) {
        const std::optional<int> rc = bounded(
            "start", [](const gwd_plugin& plugin, void* instance) { return plugin.start(instance); }, deadline);
        if (!rc) return false;
        if (*rc != GWD_OK) {
            accepting_.store(false);
            stored_open_.store(false);
            if (notifier_) notifier_->stop(deadline);
            fail("the plugin's start() failed (status " + std::to_string(*rc) + ")");
            log_.error("disabled: the plugin failed to start (start() returned " + std::to_string(*rc) + ")");
            return false;
        }
    }
    {
        std::lock_guard lock(command_mutex_);
        commands_open_ = true;
    }
    {
        std::lock_guard lock(state_mutex_);
        state_ = SensorState::running;
    }
    if (polled()) poll_thread_ = std::thread([this] { poll_loop(); });
    return true;
}

void SensorInstance::poll_loop() {
    pthread_setname_np(pthread_self(), ("p-" + config_.name).substr(0, 15).c_str());
    crash_guard::AltStack alt_stack;
    const gwd_plugin& d = library_->descriptor();
    // Watched while it waits (in slices) and between polls; excused inside
    // poll(), where a hang is the plugin's and is reported as stuck.
    const std::shared_ptr<Heartbeat> heart = process_liveness().enroll("sensor " + config_.name);
    auto due = Clock::now();
    std::unique_lock lock(poll_mutex_);
    while (true) {
        heart->beat();
        if (poll_stop_) break;
        if (Clock::now() < due) {
            poll_cv_.wait_until(lock, std::min(due, Clock::now() + kBeatEvery), [&] { return poll_stop_; });
            continue;
        }
        lock.unlock();
        if (accepting_.load()) {
            Heartbeat::Excuse excuse(heart.get());
            const int rc = call_plugin("poll", [&] { return d.poll(plugin_instance_); });
            if (rc != GWD_OK) poll_errors_.fetch_add(1);
        }
        lock.lock();
        // A poll that overran is not made to catch up with a burst.
        due += config_.interval;
        const auto now = Clock::now();
        if (due < now) due = now + config_.interval;
    }
    poll_done_ = true;
    poll_cv_.notify_all();
}

bool SensorInstance::stop_polling(Clock::time_point deadline) {
    if (!poll_thread_.joinable()) return true;
    std::unique_lock lock(poll_mutex_);
    poll_stop_ = true;
    poll_cv_.notify_all();
    if (!poll_cv_.wait_until(lock, deadline, [&] { return poll_done_; })) {
        lock.unlock();
        poll_thread_.detach();
        return false;
    }
    lock.unlock();
    poll_thread_.join();
    return true;
}

bool SensorInstance::wait_for_emits(Clock::time_point deadline) {
    // emit() calls that began before accepting_ flipped only normalize and
    // queue; but one may wait for a full outbox to make room.
    while (emits_in_progress_.load() != 0) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

bool SensorInstance::shutdown(Clock::time_point deadline) {
    if (shut_down_) return !abandoned_.load();
    shut_down_ = true;
    if (abandoned_.load()) return false;
    const auto started = Clock::now();
    bool was_running;
    {
        std::lock_guard lock(state_mutex_);
        was_running = state_ == SensorState::running;
        if (was_running) state_ = SensorState::stopped;
    }
    {
        std::lock_guard lock(command_mutex_);
        commands_open_ = false;
    }
    if (!stop_polling(deadline)) {
        abandon("poll() did not return within " + seconds_text(deadline - started) + " of the stop");
        return false;
    }
    const gwd_plugin& d = library_->descriptor();
    if (was_running && d.stop != nullptr) {
        const auto stopped = [](const gwd_plugin& plugin, void* instance) {
            plugin.stop(instance);
            return GWD_OK;
        };
        if (!bounded("stop", stopped, deadline)) return false;
    }
    accepting_.store(false);
    if (!wait_for_emits(deadline)) {
        abandon("an emit() call of its plugin did not return within " + seconds_text(deadline - started) +
                " of the stop");
        return false;
    }
    {
        std::unique_lock lock(command_mutex_);
        // A command still in the plugin: the call thread clears the flag.
        while (command_running_) {
            lock.unlock();
            if (Clock::now() >= deadline) {
                abandon("command() did not return within " + seconds_text(deadline - started) + " of the stop");
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            lock.lock();
        }
    }
    // stop() has returned: no stored() call may begin any more; one in
    // progress finishes first, so destroy() never overlaps it.
    stored_open_.store(false);
    if (notifier_ && !notifier_->stop(deadline)) {
        abandon("stored() did not return within " + seconds_text(deadline - started) + " of the stop");
        return false;
    }
    if (created_) {
        const auto destroyed = [](const gwd_plugin& plugin, void* instance) {
            plugin.destroy(instance);
            return GWD_OK;
        };
        if (!bounded("destroy", destroyed, deadline)) return false;
        created_ = false;
    }
    return true;
}

CommandOutcome SensorInstance::command(const Command& command, Clock::time_point deadline) {
    using Status = CommandOutcome::Status;
    const gwd_plugin& d = library_->descriptor();
    if (d.abi_version < 3 || d.command == nullptr) {
        return CommandOutcome::failure(Status::unsupported, "plugin '" + config_.plugin + "' takes no commands");
    }
    {
        std::lock_guard lock(command_mutex_);
        if (!commands_open_)
            return CommandOutcome::failure(Status::unsupported, "sensor '" + config_.name + "' is not running");
        if (command_running_) {
            return CommandOutcome::failure(
                Status::failed, "sensor '" + config_.name + "' has not finished an earlier command; try again later");
        }
        command_running_ = true;
    }
    // Everything the plugin may still touch after the wait gave up lives here.
    struct Job {
        Command command;
        std::string result = std::string(4096, '\0');
        std::string message = std::string(512, '\0');
        int rc = GWD_ERR_FAILED;
    };
    auto job = std::make_shared<Job>();
    job->command = command;
    const auto started = Clock::now();
    bool returned = false;
    try {
        returned = run_bounded(
            [self = shared_from_this(), job] {
                gwd_command c{};
                c.sensor = job->command.sensor.c_str();
                c.name = job->command.name.c_str();
                c.params = job->command.params.c_str();
                c.params_len = job->command.params.size();
                gwd_command_reply reply{};
                reply.result = job->result.data();
                reply.result_capacity = job->result.size();
                reply.message = job->message.data();
                reply.message_capacity = job->message.size();
                job->rc = self->call_plugin("command", [&] {
                    return self->library_->descriptor().command(self->plugin_instance_, &c, &reply);
                });
                std::lock_guard lock(self->command_mutex_);
                self->command_running_ = false;
            },
            deadline, "cmd-" + config_.name);
    } catch (const std::exception& e) {
        std::lock_guard lock(command_mutex_);
        command_running_ = false;
        return CommandOutcome::failure(Status::failed, std::string("cannot run the command: ") + e.what());
    }
    if (!returned) {
        log_.warning("command '" + printable(command.name) + "': the plugin did not answer within " +
                     seconds_text(deadline - started) + "; answered as failed (the plugin may still act on it)");
        return CommandOutcome::failure(Status::failed, "the plugin did not answer in time");
    }
    std::string result = job->result;
    std::string message = job->message;
    // Whatever the plugin wrote, read no further than the buffers reach.
    result.resize(strnlen(result.data(), result.size() - 1));
    message.resize(strnlen(message.data(), message.size() - 1));
    CommandOutcome outcome;
    if (job->rc == GWD_OK) {
        if (!result.empty() && !json_is_valid(result)) {
            log_.warning("command '" + command.name + "': the plugin's result is not JSON; sent without it");
            result.clear();
        }
        outcome.result = std::move(result);
        return outcome;
    }
    outcome.status = job->rc == GWD_ERR_UNSUPPORTED ? Status::unsupported
                     : job->rc == GWD_ERR_INVALID   ? Status::invalid
                                                    : Status::failed;
    outcome.message = message.empty() ? "the plugin returned status " + std::to_string(job->rc) : message;
    return outcome;
}

SensorStatus SensorInstance::status() const {
    SensorStatus s;
    s.name = config_.name;
    s.plugin = config_.plugin;
    s.plugin_version = library_->version_label();
    {
        std::lock_guard lock(state_mutex_);
        s.state = state_;
        s.error = error_;
        if (s.state == SensorState::running && !problem_.empty()) {
            s.state = SensorState::degraded;
            s.error = problem_;
        }
    }
    if (s.state == SensorState::running || s.state == SensorState::degraded) {
        const std::int64_t since = in_call_since_ms_.load();
        const char* call = in_call_.load();
        const std::int64_t allowed =
            (call != nullptr && std::strcmp(call, "poll") == 0 ? std::max(limits_.call_timeout, config_.interval)
                                                               : limits_.call_timeout)
                .count();
        const std::int64_t for_ms = steady_ms(Clock::now()) - since;
        if (since != 0 && call != nullptr && for_ms > allowed) {
            s.state = SensorState::stuck;
            s.error = std::string(call) + "() has not returned for " + format_duration(Duration(for_ms / 1000 * 1000));
        }
    }
    tally_.report(s);
    {
        std::lock_guard lock(counters_mutex_);
        s.counters = counters_;
    }
    s.invalid = invalid_.load();
    s.oversized = oversized_.load();
    s.no_memory = no_memory_.load();
    s.poll_errors = poll_errors_.load();
    return s;
}

void SensorInstance::watch(Clock::time_point) {
    const SensorStatus s = status();
    const bool stuck = s.state == SensorState::stuck && !abandoned_.load();
    if (stuck && !reported_stuck_) {
        log_.error("stuck: " + s.error + " (plugin " + config_.plugin +
                   "). Every other sensor and upstream carries on; gatewayd abandons this one if it is removed, "
                   "restarted or stopped before the call returns");
    } else if (!stuck && reported_stuck_ && !abandoned_.load()) {
        log_.notice("no longer stuck: the plugin's call returned");
    }
    reported_stuck_ = stuck;
}

void SensorInstance::log(int level, const char* message) noexcept {
    try {
        crash_guard::note_plugin_thread(crash_slot_);
        std::uint64_t suppressed = 0;
        if (!plugin_log_.allow(Clock::now(), suppressed)) return;
        std::string line = message != nullptr ? plugin_log_text(message) : std::string("(null)");
        if (suppressed > 0) line += " (" + std::to_string(suppressed) + " plugin log lines suppressed)";
        log_.log(to_log_level(level), line);
    } catch (...) {
        // Out of memory while logging: the line is lost, nothing else.
    }
}

void SensorInstance::set_problem(const char* problem) noexcept {
    try {
        crash_guard::note_plugin_thread(crash_slot_);
        std::string text = problem != nullptr ? plugin_log_text(problem) : std::string();
        std::lock_guard lock(state_mutex_);
        problem_ = std::move(text);
    } catch (...) {}
}

void SensorInstance::set_counter(const char* name, std::uint64_t value) noexcept {
    try {
        crash_guard::note_plugin_thread(crash_slot_);
        if (name == nullptr || name[0] == '\0') return;
        std::string key = plugin_log_text(name);
        if (key.size() > kMaxPluginCounterName) key.resize(kMaxPluginCounterName);
        std::lock_guard lock(counters_mutex_);
        if (auto it = counter_index_.find(key); it != counter_index_.end()) {
            counters_[it->second].second = value;
            return;
        }
        if (counters_.size() >= kMaxPluginCounters) {
            if (!counters_full_logged_)
                log_.warning("the plugin sets more than " + std::to_string(kMaxPluginCounters) +
                             " counters; status keeps the first ones");
            counters_full_logged_ = true;
            return;
        }
        counter_index_.emplace(key, counters_.size());
        counters_.emplace_back(std::move(key), value);
    } catch (...) {}
}

void SensorInstance::refuse(const std::string& why) {
    invalid_.fetch_add(1);
    std::uint64_t suppressed = 0;
    if (invalid_log_.allow(Clock::now(), suppressed)) {
        log_.warning("reading refused: " + why +
                     (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
    }
}

int SensorInstance::emit(const gwd_reading* reading) noexcept {
    EmitGuard guard(emits_in_progress_);
    if (!accepting_.load()) return GWD_ERR_STOPPED;
    crash_guard::note_plugin_thread(crash_slot_);
    try {
        return emit_checked(reading);
    } catch (const std::bad_alloc&) {
        no_memory_.fetch_add(1);
        try {
            std::uint64_t suppressed = 0;
            if (invalid_log_.allow(Clock::now(), suppressed)) {
                log_.error("reading refused: memory ran out while taking it (payload of " +
                           std::to_string(reading != nullptr ? reading->payload_len : 0) + " bytes)" +
                           (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
            }
        } catch (...) {}
        return GWD_ERR_NO_MEMORY;
    } catch (const std::exception& e) {
        try {
            refuse(std::string("gatewayd could not take it: ") + e.what());
        } catch (...) {}
        return GWD_ERR_FAILED;
    } catch (...) {
        return GWD_ERR_FAILED;
    }
}

const OptionValue* SensorInstance::option(std::string_view key) const {
    return effective_option(config_.options, library_->options(), key);
}

int SensorInstance::emit_checked(const gwd_reading* r) {
    if (r == nullptr) {
        refuse("emit() got a null reading");
        return GWD_ERR_INVALID;
    }
    if (r->sensor == nullptr) {
        refuse("the reading has no sensor name");
        return GWD_ERR_INVALID;
    }
    // Size first, before anything is copied: a length of 1 TiB must cost nothing.
    const std::uint64_t max = limits_.max_reading_size;
    auto oversized = [&](const std::string& what) {
        oversized_.fetch_add(1);
        std::uint64_t suppressed = 0;
        if (invalid_log_.allow(Clock::now(), suppressed)) {
            log_.warning("reading refused: " + what + " is larger than max_reading_size (" + format_size(max) + ")" +
                         (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
        }
        return GWD_ERR_INVALID;
    };
    if (r->payload_len > max) return oversized("its payload of " + std::to_string(r->payload_len) + " bytes");
    std::string_view sensor(r->sensor);
    if (std::string problem = topic_value_problem(sensor); !problem.empty()) {
        refuse("sensor name '" + printable(sensor) + "' " + problem);
        return GWD_ERR_INVALID;
    }
    if (r->payload == nullptr && r->payload_len != 0) {
        refuse("the reading has a length but no payload");
        return GWD_ERR_INVALID;
    }
    if (r->timestamp_ms < 0) {
        refuse("the reading has a negative timestamp");
        return GWD_ERR_INVALID;
    }
    // A later ABI gives these meaning; a plugin that leaves garbage there
    // would change behaviour under a newer gatewayd.
    if (std::any_of(std::begin(r->reserved), std::end(r->reserved), [](void* p) { return p != nullptr; })) {
        refuse("the reading sets reserved fields; initialize gwd_reading with {0} (C) or {} (C++)");
        return GWD_ERR_INVALID;
    }
    std::uint64_t size = r->payload_len;
    if (r->content_type != nullptr) {
        size += std::strlen(r->content_type);
        if (std::string problem = mqtt_string_problem(r->content_type); !problem.empty()) {
            refuse("the content type " + problem);
            return GWD_ERR_INVALID;
        }
    }
    if (r->properties == nullptr && r->property_count != 0) {
        refuse("the reading has a property count but no properties");
        return GWD_ERR_INVALID;
    }
    thread_local std::vector<PropertyView> properties;
    properties.clear();
    for (size_t i = 0; i < r->property_count; ++i) {
        const gwd_property& p = r->properties[i];
        if (p.key == nullptr || p.value == nullptr) {
            refuse("user property #" + std::to_string(i + 1) + " has no key or no value");
            return GWD_ERR_INVALID;
        }
        // As MQTT encodes them: two length bytes before the key and the value.
        size += 4 + std::strlen(p.key) + std::strlen(p.value);
        if (size > max) {
            return oversized("the reading with " + std::to_string(r->property_count) + " user properties");
        }
        // MQTT allows an empty key; what it forbids (NUL, control characters) is refused.
        std::string problem = mqtt_string_problem(p.key);
        if (problem.empty()) problem = mqtt_string_problem(p.value);
        if (!problem.empty()) {
            refuse("user property '" + printable(p.key) + "' " + problem + " (value \"" + printable(p.value) + "\")");
            return GWD_ERR_INVALID;
        }
        properties.push_back({p.key, p.value});
    }
    if (size > max) return oversized("the reading (" + std::to_string(size) + " bytes with its properties)");
    ReadingView view;
    view.sensor = sensor;
    view.instance = config_.name;
    view.timestamp_ms = r->timestamp_ms;
    view.payload = std::string_view(static_cast<const char*>(r->payload), r->payload_len);
    if (r->content_type != nullptr) view.content_type = std::string_view(r->content_type);
    view.properties = properties;
    const bool abi2 = library_->descriptor().abi_version >= 2;
    if (abi2) {
        view.message_expiry_s = static_cast<std::uint32_t>(
            std::min<std::uintmax_t>(r->message_expiry_s, std::numeric_limits<std::uint32_t>::max()));
    }
    StoreTicketPtr ticket;
    if (abi2 && notifier_ && r->ack_context != nullptr)
        ticket = std::make_shared<StoreTicket>(notifier_, r->ack_context);
    const bool queued = tally_.count(sink_.accept(view, ticket));
    // The emitter's own share: queued somewhere, or its fate is decided.
    if (ticket) ticket->settle(queued);
    return GWD_OK;
}

}  // namespace gwd
