#include "plugin_host/sensor_instance.h"

#include <cstring>

#include "common/json.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>
#include <vector>

#include "common/text.h"
#include "plugin_host/plugin_options.h"
#include "router/topic_template.h"

namespace gwd {

namespace {

SensorInstance& self(const gwd_context* ctx) { return *ctx->instance; }

const char* api_sensor_name(const gwd_context* ctx) { return self(ctx).name().c_str(); }
const char* api_gateway_id(const gwd_context* ctx) { return self(ctx).gateway_id().c_str(); }
int64_t api_interval_ms(const gwd_context* ctx) { return self(ctx).interval().count(); }
void api_log(const gwd_context* ctx, int level, const char* message) { self(ctx).log(level, message); }
int api_emit(gwd_context* ctx, const gwd_reading* reading) { return self(ctx).emit(reading); }

const OptionValue* find_option(const gwd_context* ctx, const char* key) {
    if (key == nullptr) return nullptr;
    return self(ctx).config().options.find(key);
}

int api_option_string(const gwd_context* ctx, const char* key, const char** out) {
    const OptionValue* v = find_option(ctx, key);
    if (v == nullptr || !v->is_string() || out == nullptr) return GWD_ERR_NOT_FOUND;
    *out = std::get<std::string>(v->value).c_str();
    return GWD_OK;
}

// Copies a typed lookup (option_as_int, ...) into the plugin's out parameter.
template <typename Out, typename Lookup>
int typed_option(const gwd_context* ctx, const char* key, Out* out, Lookup lookup) {
    if (key == nullptr || out == nullptr) return GWD_ERR_NOT_FOUND;
    auto v = lookup(self(ctx).config().options, key);
    if (!v) return GWD_ERR_NOT_FOUND;
    *out = static_cast<Out>(*v);
    return GWD_OK;
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
    return api;
}();

LogLevel to_log_level(int level) {
    if (level <= GWD_LOG_ERROR) return LogLevel::error;
    if (level == GWD_LOG_WARNING) return LogLevel::warning;
    if (level == GWD_LOG_NOTICE) return LogLevel::notice;
    if (level == GWD_LOG_INFO) return LogLevel::info;
    return LogLevel::debug;
}

// RAII count of emit() calls in progress, so stop() can wait for them.
class EmitGuard {
public:
    explicit EmitGuard(std::atomic<int>& counter) : counter_(counter) { counter_.fetch_add(1); }
    ~EmitGuard() { counter_.fetch_sub(1); }

private:
    std::atomic<int>& counter_;
};

}  // namespace

const gwd_host_api& host_api() { return kHostApi; }

SensorInstance::SensorInstance(SensorConfig config, std::string gateway_id, std::shared_ptr<PluginLibrary> library,
                               ReadingSink& sink, Logger log)
    : config_(std::move(config)),
      gateway_id_(std::move(gateway_id)),
      library_(std::move(library)),
      sink_(sink),
      log_(std::move(log)),
      context_{this} {}

SensorInstance::~SensorInstance() {
    stop();
    if (created_) {
        call_plugin("destroy", [&] {
            library_->descriptor().destroy(plugin_instance_);
            return GWD_OK;
        });
        created_ = false;
    }
}

template <typename Call>
int SensorInstance::call_plugin(const char* what, Call&& call) {
    // An exception must not unwind out of a plugin into the daemon: the C ABI
    // has no exceptions, and one bad plugin may only take down its own sensor.
    try {
        return call();
    } catch (const std::exception& e) {
        log_.error(std::string("the plugin's ") + what + "() threw an exception: " + e.what());
    } catch (...) {
        log_.error(std::string("the plugin's ") + what + "() threw an exception");
    }
    return GWD_ERR_FAILED;
}

void SensorInstance::fail(const std::string& why) {
    std::lock_guard lock(state_mutex_);
    state_ = SensorState::failed;
    error_ = why;
}

bool SensorInstance::create() {
    void* instance = nullptr;
    int rc = call_plugin("create", [&] { return library_->descriptor().create(&kHostApi, &context_, &instance); });
    if (rc != GWD_OK) {
        fail("the plugin's create() failed (status " + std::to_string(rc) + "); see its log line above");
        log_.error("disabled: the plugin refused its configuration (create() returned " + std::to_string(rc) + ")");
        return false;
    }
    plugin_instance_ = instance;
    created_ = true;
    return true;
}

bool SensorInstance::wants_stored() const {
    const gwd_plugin& d = library_->descriptor();
    return d.abi_version >= 2 && d.stored != nullptr;
}

void SensorInstance::deliver_stored(void* ack_context, bool stored) {
    std::lock_guard lock(stored_mutex_);
    if (!stored_open_) return;
    call_plugin("stored", [&] {
        library_->descriptor().stored(plugin_instance_, ack_context, stored ? GWD_OK : GWD_ERR_DROPPED);
        return GWD_OK;
    });
}

bool SensorInstance::start() {
    if (wants_stored()) {
        {
            std::lock_guard lock(stored_mutex_);
            stored_open_ = true;
        }
        notifier_ = std::make_shared<StoredNotifier>(
            [this](void* ack_context, bool stored) { deliver_stored(ack_context, stored); },
            "st-" + config_.name);
    }
    accepting_.store(true);
    const gwd_plugin& d = library_->descriptor();
    if (d.start != nullptr) {
        int rc = call_plugin("start", [&] { return d.start(plugin_instance_); });
        if (rc != GWD_OK) {
            accepting_.store(false);
            close_stored();
            fail("the plugin's start() failed (status " + std::to_string(rc) + ")");
            log_.error("disabled: the plugin failed to start (start() returned " + std::to_string(rc) + ")");
            return false;
        }
    }
    {
        std::lock_guard lock(command_mutex_);
        commands_open_ = true;
    }
    std::lock_guard lock(state_mutex_);
    state_ = SensorState::running;
    return true;
}

CommandOutcome SensorInstance::command(const Command& command) {
    using Status = CommandOutcome::Status;
    const gwd_plugin& d = library_->descriptor();
    if (d.abi_version < 3 || d.command == nullptr) {
        return CommandOutcome::failure(Status::unsupported, "plugin '" + config_.plugin + "' takes no commands");
    }
    std::lock_guard lock(command_mutex_);
    if (!commands_open_) return CommandOutcome::failure(Status::unsupported, "sensor '" + config_.name + "' is not running");
    std::string result(4096, '\0');
    std::string message(512, '\0');
    gwd_command c{};
    c.sensor = command.sensor.c_str();
    c.name = command.name.c_str();
    c.params = command.params.c_str();
    c.params_len = command.params.size();
    gwd_command_reply reply{};
    reply.result = result.data();
    reply.result_capacity = result.size();
    reply.message = message.data();
    reply.message_capacity = message.size();
    const int rc = call_plugin("command", [&] { return d.command(plugin_instance_, &c, &reply); });
    // Whatever the plugin wrote, read no further than the buffers reach.
    result.resize(strnlen(result.data(), result.size() - 1));
    message.resize(strnlen(message.data(), message.size() - 1));
    CommandOutcome outcome;
    if (rc == GWD_OK) {
        if (!result.empty() && !json_is_valid(result)) {
            log_.warning("command '" + command.name + "': the plugin's result is not JSON; sent without it");
            result.clear();
        }
        outcome.result = std::move(result);
        return outcome;
    }
    outcome.status = rc == GWD_ERR_UNSUPPORTED ? Status::unsupported
                     : rc == GWD_ERR_INVALID   ? Status::invalid
                                               : Status::failed;
    outcome.message = message.empty() ? "the plugin returned status " + std::to_string(rc) : message;
    return outcome;
}

void SensorInstance::poll() {
    if (!accepting_.load()) return;
    int rc = call_plugin("poll", [&] { return library_->descriptor().poll(plugin_instance_); });
    if (rc != GWD_OK) poll_errors_.fetch_add(1);
}

void SensorInstance::stop() {
    bool was_running;
    {
        std::lock_guard lock(state_mutex_);
        was_running = state_ == SensorState::running;
        if (was_running) state_ = SensorState::stopped;
    }
    if (!was_running) return;
    {
        // A command in progress finishes first; none starts after this.
        std::lock_guard lock(command_mutex_);
        commands_open_ = false;
    }
    const gwd_plugin& d = library_->descriptor();
    if (d.stop != nullptr) {
        call_plugin("stop", [&] {
            d.stop(plugin_instance_);
            return GWD_OK;
        });
    }
    accepting_.store(false);
    // emit() calls that began before the flag flipped finish quickly (they
    // only normalize and queue). Wait for them however long it takes: after
    // stop() the plugin may be unloaded, and code still running in it would crash.
    const auto started = std::chrono::steady_clock::now();
    bool warned = false;
    while (emits_in_progress_.load() != 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        if (!warned && std::chrono::steady_clock::now() - started > std::chrono::seconds(5)) {
            log_.warning("still waiting for an emit() call to return before the plugin is stopped");
            warned = true;
        }
    }
    close_stored();
}

void SensorInstance::close_stored() {
    // stop() has returned: no stored() call may begin any more. A call in
    // progress finishes first (the lock), so destroy() never overlaps one.
    {
        std::lock_guard lock(stored_mutex_);
        stored_open_ = false;
    }
    if (notifier_) notifier_->stop();
}

SensorStatus SensorInstance::status() const {
    SensorStatus s;
    s.name = config_.name;
    s.plugin = config_.plugin;
    {
        std::lock_guard lock(state_mutex_);
        s.state = state_;
        s.error = error_;
    }
    s.accepted = accepted_.load();
    s.invalid = invalid_.load();
    s.dead_lettered = dead_lettered_.load();
    s.dropped = dropped_.load();
    s.unrouted = unrouted_.load();
    s.poll_errors = poll_errors_.load();
    return s;
}

void SensorInstance::log(int level, const char* message) {
    std::uint64_t suppressed = 0;
    if (!plugin_log_.allow(std::chrono::steady_clock::now(), suppressed)) return;
    std::string line = message != nullptr ? std::string(message) : std::string("(null)");
    if (suppressed > 0) line += " (" + std::to_string(suppressed) + " plugin log lines suppressed)";
    log_.log(to_log_level(level), line);
}

void SensorInstance::refuse(const std::string& why) {
    invalid_.fetch_add(1);
    std::uint64_t suppressed = 0;
    if (invalid_log_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log_.warning("reading refused: " + why +
                     (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
    }
}

int SensorInstance::emit(const gwd_reading* r) {
    EmitGuard guard(emits_in_progress_);
    if (!accepting_.load()) return GWD_ERR_STOPPED;
    if (r == nullptr) {
        refuse("emit() got a null reading");
        return GWD_ERR_INVALID;
    }
    if (r->sensor == nullptr) {
        refuse("the reading has no sensor name");
        return GWD_ERR_INVALID;
    }
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
    if (r->content_type != nullptr) {
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
        if (p.key == nullptr || p.value == nullptr || p.key[0] == '\0') {
            refuse("user property #" + std::to_string(i + 1) + " has no key or no value");
            return GWD_ERR_INVALID;
        }
        std::string problem = mqtt_string_problem(p.key);
        if (problem.empty()) problem = mqtt_string_problem(p.value);
        if (!problem.empty()) {
            refuse("user property '" + printable(p.key) + "' " + problem + " (value \"" + printable(p.value) + "\")");
            return GWD_ERR_INVALID;
        }
        properties.push_back({p.key, p.value});
    }
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
    if (abi2 && notifier_ && r->ack_context != nullptr) ticket = std::make_shared<StoreTicket>(notifier_, r->ack_context);
    const EmitOutcome outcome = sink_.accept(view, ticket);
    switch (outcome) {
        case EmitOutcome::accepted: accepted_.fetch_add(1); break;
        case EmitOutcome::unrouted: unrouted_.fetch_add(1); break;
        case EmitOutcome::dead_lettered: dead_lettered_.fetch_add(1); break;
        case EmitOutcome::dropped: dropped_.fetch_add(1); break;
    }
    // The emitter's own share: queued somewhere, or its fate is decided.
    if (ticket) ticket->settle(outcome == EmitOutcome::accepted || outcome == EmitOutcome::dead_lettered);
    return GWD_OK;
}

}  // namespace gwd
