// One [[sensor]] entry bound to its plugin: the context the plugin sees,
// its lifecycle, and the host side of emit() (checks, then the ReadingSink).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/log.h"
#include "common/reading_sink.h"
#include "config/config.h"
#include "gatewayd/plugin.h"
#include "plugin_host/plugin_library.h"
#include "plugin_host/stored_notifier.h"
#include "common/command.h"

namespace gwd {
class SensorInstance;
}

// The opaque handle of plugin.h, defined for the host only.
struct gwd_context {
    gwd::SensorInstance* instance;
};

namespace gwd {

enum class SensorState { created, running, stopped, failed };

struct SensorStatus {
    std::string name;
    std::string plugin;
    SensorState state = SensorState::created;
    std::string error;                // why it failed, when it did
    std::uint64_t accepted = 0;       // readings queued for an upstream
    std::uint64_t invalid = 0;        // refused by emit() as malformed
    std::uint64_t dead_lettered = 0;  // payloads that failed to decode, dead-lettered
    std::uint64_t dropped = 0;        // payloads that failed to decode, dropped
    std::uint64_t unrouted = 0;       // no upstream takes this sensor
    std::uint64_t poll_errors = 0;    // poll() returned an error
};

class SensorInstance {
public:
    SensorInstance(SensorConfig config, std::string gateway_id, std::shared_ptr<PluginLibrary> library,
                   ReadingSink& sink, Logger log);
    ~SensorInstance();
    SensorInstance(const SensorInstance&) = delete;
    SensorInstance& operator=(const SensorInstance&) = delete;

    // Each returns false after logging why; the instance is then failed.
    bool create();
    bool start();
    void poll();
    // Stops the plugin and waits for emit() calls in progress to return.
    void stop();

    bool polled() const { return (library_->descriptor().flags & GWD_PLUGIN_POLLED) != 0; }
    Duration interval() const { return config_.interval; }
    const std::string& name() const { return config_.name; }
    SensorStatus status() const;

    // Hands one platform command to the plugin (ABI 3 command()); blocks
    // while the plugin works on it. Thread-safe; one command at a time.
    CommandOutcome command(const Command& command);

    // Targets of the host API.
    int emit(const gwd_reading* reading);
    void log(int level, const char* message);
    const SensorConfig& config() const { return config_; }
    const std::string& gateway_id() const { return gateway_id_; }

private:
    void fail(const std::string& why);
    void refuse(const std::string& why);
    template <typename Call>
    int call_plugin(const char* what, Call&& call);

    SensorConfig config_;
    std::string gateway_id_;
    std::shared_ptr<PluginLibrary> library_;
    ReadingSink& sink_;
    Logger log_;
    gwd_context context_;
    void* plugin_instance_ = nullptr;
    bool created_ = false;

    // ABI 2 plugins with stored(): word back when their readings are stored.
    bool wants_stored() const;
    void deliver_stored(void* ack_context, bool stored);
    void close_stored();
    std::shared_ptr<StoredNotifier> notifier_;
    std::mutex stored_mutex_;  // held while stored() runs; stop() waits on it
    bool stored_open_ = false;

    std::mutex command_mutex_;  // held while command() runs; stop() waits on it
    bool commands_open_ = false;

    std::atomic<bool> accepting_{false};
    std::atomic<int> emits_in_progress_{0};

    std::atomic<std::uint64_t> accepted_{0}, invalid_{0}, dead_lettered_{0}, dropped_{0}, unrouted_{0},
        poll_errors_{0};
    mutable std::mutex state_mutex_;
    SensorState state_ = SensorState::created;
    std::string error_;
    LogRateLimit invalid_log_;
    LogRateLimit plugin_log_{50, std::chrono::seconds(10)};
};

// The function table every plugin receives.
const gwd_host_api& host_api();

}  // namespace gwd
