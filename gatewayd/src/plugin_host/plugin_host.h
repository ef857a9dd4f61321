// Loads the plugin of every enabled [[sensor]], creates and starts its
// instance, and stops them at shutdown. A sensor whose plugin is missing,
// refused or fails to start is logged and disabled; the others keep running.
// A reload restarts only the sensors whose settings changed.
//
// Containment: the host never calls plugin code while holding its lock, so
// status, commands and reloads never wait on a plugin; sensors start and stop
// side by side, each bounded by plugin_timeout (or the stop deadline); an
// instance that does not let go is abandoned, never freed or unloaded, and
// the rest carries on. A sensor whose plugin crashed gatewayd twice within a
// minute (crash_journal.h) is quarantined until its plugin file or its
// [[sensor]] block changes; a new plugin build that crashed gatewayd within a
// minute of its swap is quarantined, and the build before it runs instead
// (plugin_rollback.h).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "common/log.h"
#include "common/reading_sink.h"
#include "config/config.h"
#include "config/diagnostics.h"
#include "plugin_host/crash_journal.h"
#include "plugin_host/plugin_library.h"
#include "plugin_host/plugin_rollback.h"
#include "plugin_host/sensor_instance.h"
#include "plugin_host/sensor_runner.h"

namespace gwd {

// One plugin file as `gatewayd status` shows it: the image its sensors run
// and what happened to the file since.
struct PluginFileStatus {
    std::string name;               // the plugin ("mqtt_local")
    std::filesystem::path path;     // its file in plugin_dir
    bool loaded = false;            // an image of it runs (the fields below are set)
    std::string version;            // as its descriptor says
    std::uint32_t abi_version = 0;  // the ABI it was built for
    std::string sha256;             // of the file as loaded
    std::chrono::system_clock::time_point loaded_at{};
    std::vector<std::string> sensors;  // the [[sensor]]s that use it
    std::string note;                  // a refused new version, a removed file
};

struct SensorChanges {
    int started = 0, restarted = 0, stopped = 0, unchanged = 0;
};

class PluginHost {
public:
    using Clock = std::chrono::steady_clock;

    // `crashes`: what earlier runs left in the crash journal.
    PluginHost(ReadingSink& sink, Logger log, std::vector<CrashRecord> crashes = {});
    ~PluginHost();

    // Starts every enabled sensor of `config`; returns how many run.
    size_t start(const Config& config);
    // Brings the sensors in line with `next`: new ones start, changed ones
    // restart, removed ones stop, the rest keep running untouched.
    SensorChanges apply(const Config& next);
    // Stops every sensor, side by side, waiting for none beyond `deadline`.
    // Returns how many instances had to be abandoned (over the host's life).
    size_t stop(Clock::time_point deadline);
    std::vector<SensorStatus> status() const;
    // Each plugin the configured sensors use, in the order they first appear.
    std::vector<PluginFileStatus> plugin_status() const;
    // Logs sensors whose plugin call overstays (every few seconds).
    void watch();

    // Runs one platform command on the [[sensor]] `command.instance`.
    CommandOutcome run_command(const Command& command);

    // The plugin files of the configured sensors, to watch: a file replaced
    // (or one that was missing appearing) is loaded as a new image beside the
    // old, checked, and swapped in for the sensors of that plugin only. A
    // version that is refused (ABI, options, create or start) leaves the old
    // one running, and status says which and why. A quarantined sensor is
    // tried again once its file changes.
    std::set<std::filesystem::path> plugin_files() const;
    void plugin_file_changed(const std::filesystem::path& file);

    // Instances abandoned so far (a thread is still inside their plugin):
    // the process must not run static destructors under them at exit.
    size_t abandoned() const;

    // What --check-config does for plugins: each enabled sensor's plugin file
    // is loaded and its ABI and the sensor's options are checked; no plugin
    // code beyond the entry function runs.
    static void check(const Config& config, Diagnostics& diags);

private:
    struct Entry {
        SensorConfig config;
        std::shared_ptr<SensorRunner> instance;  // null when disabled
        std::optional<SensorStatus> disabled;    // why it does not run
        std::string fingerprint;                 // of its block and plugin file when launched
    };

    // With `library`, that image instead of the cached one for its plugin.
    Entry launch(const SensorConfig& sensor, std::shared_ptr<PluginLibrary> library = nullptr);
    // Brings the sensors in `users` (all of one plugin) onto `fresh`;
    // `new_build`: a build that has not run yet (kept a way back from).
    void swap_plugin(const std::string& plugin, const std::vector<Entry>& users, std::shared_ptr<PluginLibrary> fresh,
                     bool new_build = true);
    void set_plugin_note(const std::string& plugin, std::string note);
    std::vector<Entry> launch_all(const std::vector<SensorConfig>& sensors);
    // Shuts the instances down side by side; keeps the abandoned ones.
    void retire_all(std::vector<std::shared_ptr<SensorRunner>> instances, Clock::time_point deadline);
    // The image the plugin's sensors run: the file, or the kept image while
    // the file holds a quarantined build (plugin_rollback.h); `blocked` is
    // set when a quarantine leaves nothing to run.
    std::shared_ptr<PluginLibrary> library_for(const std::string& plugin, std::string& error, bool& blocked);
    std::filesystem::path plugin_file(const std::string& plugin) const;

    ReadingSink& sink_;
    Logger log_;
    std::vector<CrashRecord> crashes_;
    // start(), apply(), stop() (main thread) and plugin_file_changed() (the
    // file watcher's) change sensors one at a time. Held while plugin code
    // runs, so nothing that must answer at once (status, commands) takes it.
    std::mutex lifecycle_mutex_;
    // Set under lifecycle_mutex_ (and mutex_, for run_command), read by launches.
    std::string gateway_id_;
    std::filesystem::path plugin_dir_;
    std::filesystem::path images_dir_;  // private copies of the loaded plugin files (state_dir)
    SensorLimits limits_;

    std::unique_ptr<PluginRollback> rollback_;  // set by start()

    std::mutex libraries_mutex_;
    std::map<std::string, std::shared_ptr<PluginLibrary>> libraries_;
    std::map<std::string, std::string> blocked_;  // plugin -> why a quarantine leaves nothing to run

    mutable std::mutex mutex_;  // entries_ and graveyard_; never held while plugin code runs
    std::vector<Entry> entries_;
    std::map<std::string, std::string> plugin_notes_;  // plugin -> what its file did (status)
    // Instances a plugin thread never let go of: kept for the process's life.
    std::vector<std::shared_ptr<SensorRunner>> graveyard_;
    bool stopped_ = false;  // main thread
};

// "mqtt_local, simulated": the plugins present in a directory, for messages.
std::string list_available_plugins(const std::filesystem::path& dir);

}  // namespace gwd
