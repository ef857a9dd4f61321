// One [[sensor]] entry bound to its plugin: the context the plugin sees, its
// lifecycle, its poll thread, and the host side of emit() (checks, then the
// ReadingSink).
//
// No caller ever waits on the plugin without a bound. Lifecycle calls and
// commands run on threads of their own (bounded_call.h) and are waited for
// only until a deadline; a polled sensor has its own poll thread, so one that
// blocks delays nobody else. A call that overstays makes the sensor "stuck"
// (status, log); one that never returns by the time the sensor must stop
// makes the instance abandoned: its threads are left running, its plugin is
// never called again, never destroyed and never unloaded (code still running
// in it would crash), and the owner keeps the object alive for good.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/command.h"
#include "common/log.h"
#include "common/reading_sink.h"
#include "config/config.h"
#include "gatewayd/plugin.h"
#include "plugin_host/plugin_library.h"
#include "plugin_host/sensor_runner.h"
#include "plugin_host/stored_notifier.h"

namespace gwd {
class SensorInstance;
}

// The opaque handle of plugin.h, defined for the host only.
struct gwd_context {
    gwd::SensorInstance* instance;
};

namespace gwd {

enum class SensorState {
    created,
    running,
    degraded,  // running, but the plugin reports a problem (set_problem)
    stuck,     // a call into the plugin has not returned for longer than allowed
    stopped,
    failed,       // refused its configuration, failed to start, or was disabled
    quarantined,  // crashed gatewayd twice within a minute; left disabled
};

// A plugin's own counters (ABI 6 set_counter): name and value, in the order
// first set.
using PluginCounters = std::vector<std::pair<std::string, std::uint64_t>>;
// At most this many per sensor, each name at most this long: a plugin that
// invents names cannot grow the daemon.
constexpr size_t kMaxPluginCounters = 1000;
constexpr size_t kMaxPluginCounterName = 128;

struct SensorStatus {
    std::string name;
    std::string plugin;
    SensorState state = SensorState::created;
    std::string error;                // why it failed or is stuck, when it is
    std::uint64_t accepted = 0;       // readings queued for an upstream
    std::uint64_t invalid = 0;        // refused by emit() as malformed
    std::uint64_t oversized = 0;      // refused by emit(): larger than max_reading_size
    std::uint64_t no_memory = 0;      // refused by emit(): memory ran out while taking it
    std::uint64_t dead_lettered = 0;  // payloads that failed to decode, dead-lettered
    std::uint64_t dropped = 0;        // not queued: failed to decode, or refused by every full queue
    std::uint64_t unrouted = 0;       // no upstream takes this sensor
    std::uint64_t poll_errors = 0;    // poll() returned an error
    std::uint64_t restarts = 0;       // isolation = "process": times its plugin process was started again
    bool isolated = false;            // isolation = "process"
    std::string plugin_version;       // "1.2.0 (sha256 3f2a9c01)" of the image it runs
    std::string plugin_note;          // a refused new version, a removed file: what the plugin file did
    PluginCounters counters;          // the plugin's own (ABI 6 set_counter), in the order first set
};

// What became of the readings a sensor handed to the ReadingSink, wherever
// its plugin runs. Thread-safe.
struct EmitTally {
    std::atomic<std::uint64_t> accepted{0}, unrouted{0}, dead_lettered{0}, dropped{0};

    // Counts one outcome; true when the reading is queued somewhere (the
    // emitter's share of its StoreTicket settles as stored).
    bool count(EmitOutcome outcome) {
        switch (outcome) {
            case EmitOutcome::accepted: accepted.fetch_add(1); return true;
            case EmitOutcome::unrouted: unrouted.fetch_add(1); return false;
            case EmitOutcome::dead_lettered: dead_lettered.fetch_add(1); return true;
            case EmitOutcome::dropped:
            case EmitOutcome::refused: dropped.fetch_add(1); return false;
        }
        return false;
    }
    void report(SensorStatus& s) const {
        s.accepted = accepted.load();
        s.unrouted = unrouted.load();
        s.dead_lettered = dead_lettered.load();
        s.dropped = dropped.load();
    }
};

struct SensorLimits {
    Duration call_timeout{10000};                  // a plugin call longer than this is stuck
    std::uint64_t max_reading_size = 1024 * 1024;  // payload, content type and properties together
};

class SensorInstance final : public SensorRunner, public std::enable_shared_from_this<SensorInstance> {
public:
    using Clock = std::chrono::steady_clock;

    // `crash_record` is what the crash journal gets should this sensor's
    // plugin crash the daemon (crash_journal.h).
    SensorInstance(SensorConfig config, std::string gateway_id, std::shared_ptr<PluginLibrary> library,
                   ReadingSink& sink, Logger log, SensorLimits limits = {}, std::string crash_record = {});
    // Shuts down (waiting up to call_timeout) if the owner did not.
    ~SensorInstance() override;
    SensorInstance(const SensorInstance&) = delete;
    SensorInstance& operator=(const SensorInstance&) = delete;

    // Each returns false after logging why; the instance is then failed.
    // Owned by a shared_ptr: a call that overstays keeps the instance alive.
    bool create(Clock::time_point deadline) override;
    bool start(Clock::time_point deadline) override;
    // Stops polling and the plugin, waits for its emit() calls, destroys the
    // plugin instance, all until `deadline`. False when the plugin did not
    // let go in time: the instance is abandoned (see above).
    bool shutdown(Clock::time_point deadline) override;
    bool abandoned() const override { return abandoned_.load(); }

    bool polled() const override { return (library_->descriptor().flags & GWD_PLUGIN_POLLED) != 0; }
    Duration interval() const { return config_.interval; }
    const std::string& name() const override { return config_.name; }
    const std::shared_ptr<PluginLibrary>& library() const override { return library_; }
    SensorStatus status() const override;
    // Logs when a call into the plugin starts or stops overstaying; the
    // host calls it every few seconds.
    void watch(Clock::time_point now) override;

    // Hands one platform command to the plugin (ABI 3 command()), waiting
    // until `deadline`. Thread-safe; one command at a time.
    CommandOutcome command(const Command& command, Clock::time_point deadline) override;

    // Targets of the host API. Never throw.
    int emit(const gwd_reading* reading) noexcept;
    void log(int level, const char* message) noexcept;
    void set_problem(const char* problem) noexcept;
    void set_counter(const char* name, std::uint64_t value) noexcept;
    const SensorConfig& config() const { return config_; }
    // An option as the plugin sees it: set in [sensor.options], else the
    // plugin's declared default; nullptr when neither.
    const OptionValue* option(std::string_view key) const;
    const std::string& gateway_id() const { return gateway_id_; }

private:
    // Marks this thread as inside the plugin for crash reports and stuck
    // detection while `call` runs; catches what a C++ plugin throws.
    template <typename Call>
    int call_plugin(const char* what, Call&& call);
    // Runs `call` (one plugin function, given the descriptor and the plugin's
    // instance) on a thread of its own until `deadline`; its status, or
    // nullopt when it overstayed (logged, and the instance abandoned).
    std::optional<int> bounded(const char* what, std::function<int(const gwd_plugin&, void*)> call,
                               Clock::time_point deadline);
    void fail(const std::string& why);
    void refuse(const std::string& why);
    void abandon(const std::string& why);
    void poll_loop();
    bool stop_polling(Clock::time_point deadline);
    bool wait_for_emits(Clock::time_point deadline);
    int emit_checked(const gwd_reading* reading);

    SensorConfig config_;
    std::string gateway_id_;
    std::shared_ptr<PluginLibrary> library_;
    ReadingSink& sink_;
    Logger log_;
    SensorLimits limits_;
    gwd_context context_;
    int crash_slot_ = -1;
    void* plugin_instance_ = nullptr;
    bool created_ = false;
    bool shut_down_ = false;
    std::atomic<bool> abandoned_{false};
    // Set once abandoned: the instance then owns itself and is never freed,
    // whoever drops it, since a thread still inside the plugin may come back
    // into it (its context, its options, its poll loop).
    std::shared_ptr<SensorInstance> abandoned_self_;

    // The call the plugin is in right now (for stuck detection): its name
    // and since when (steady ms; 0: none). Polls and lifecycle calls only.
    std::atomic<const char*> in_call_{nullptr};
    std::atomic<std::int64_t> in_call_since_ms_{0};
    bool reported_stuck_ = false;  // watch() only

    // The poll thread.
    std::thread poll_thread_;
    std::mutex poll_mutex_;
    std::condition_variable poll_cv_;
    bool poll_stop_ = false;
    bool poll_done_ = false;

    mutable std::mutex counters_mutex_;
    PluginCounters counters_;
    std::unordered_map<std::string, size_t> counter_index_;  // name → place in counters_
    bool counters_full_logged_ = false;

    // ABI 2 plugins with stored(): word back when their readings are stored.
    bool wants_stored() const;
    void deliver_stored(void* ack_context, bool stored);
    std::shared_ptr<StoredNotifier> notifier_;
    std::atomic<bool> stored_open_{false};

    // Commands: at most one in the plugin at a time.
    std::mutex command_mutex_;
    bool commands_open_ = false;
    bool command_running_ = false;

    std::atomic<bool> accepting_{false};
    std::atomic<int> emits_in_progress_{0};

    EmitTally tally_;
    std::atomic<std::uint64_t> invalid_{0}, oversized_{0}, no_memory_{0}, poll_errors_{0};
    mutable std::mutex state_mutex_;
    SensorState state_ = SensorState::created;
    std::string error_;
    std::string problem_;  // what the plugin says keeps it from working (ABI 4)
    LogRateLimit invalid_log_;
    LogRateLimit plugin_log_{50, std::chrono::seconds(10)};
};

// The function table every plugin receives.
const gwd_host_api& host_api();

// Escapes what a plugin's log line must not carry into the log: newlines,
// ANSI escapes and every other control character become \n, \x1b, ...
// (a plugin cannot forge a line of its own), cut at 2 KiB.
std::string plugin_log_text(std::string_view message);

}  // namespace gwd
