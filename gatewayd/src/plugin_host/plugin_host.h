// Loads the plugin of every enabled [[sensor]], creates and starts its
// instance, drives polled ones, and stops them at shutdown. A sensor whose
// plugin is missing, refused or fails to start is logged and disabled; the
// others keep running. A reload restarts only the sensors whose settings
// changed.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/log.h"
#include "common/reading_sink.h"
#include "config/config.h"
#include "config/diagnostics.h"
#include "plugin_host/plugin_library.h"
#include "plugin_host/poll_scheduler.h"
#include "plugin_host/sensor_instance.h"

namespace gwd {

struct SensorChanges {
    int started = 0, restarted = 0, stopped = 0, unchanged = 0;
};

class PluginHost {
public:
    PluginHost(ReadingSink& sink, Logger log);
    ~PluginHost();

    // Starts every enabled sensor of `config`; returns how many run.
    size_t start(const Config& config);
    // Brings the sensors in line with `next`: new ones start, changed ones
    // restart, removed ones stop, the rest keep running untouched.
    SensorChanges apply(const Config& next);
    void stop();
    std::vector<SensorStatus> status() const;

    // Runs one platform command on the [[sensor]] `command.instance`.
    CommandOutcome run_command(const Command& command);

    // What --check-config does for plugins: each enabled sensor's plugin file
    // is loaded and its ABI and the sensor's options are checked; no plugin
    // code beyond the entry function runs.
    static void check(const Config& config, Diagnostics& diags);

private:
    struct Entry {
        SensorConfig config;
        std::unique_ptr<SensorInstance> instance;  // null when disabled
        std::optional<SensorStatus> disabled;      // why it does not run
    };

    Entry launch(const SensorConfig& sensor);
    void retire(Entry& entry);
    std::shared_ptr<PluginLibrary> library_for(const std::string& plugin, std::string& error);

    ReadingSink& sink_;
    Logger log_;
    std::string gateway_id_;
    std::filesystem::path plugin_dir_;
    mutable std::mutex mutex_;  // entries_ and libraries_; status() reads them from another thread
    std::map<std::string, std::shared_ptr<PluginLibrary>> libraries_;
    std::vector<Entry> entries_;
    PollScheduler poller_;
};

// "mqtt_local, simulated": the plugins present in a directory, for messages.
std::string list_available_plugins(const std::filesystem::path& dir);

}  // namespace gwd
