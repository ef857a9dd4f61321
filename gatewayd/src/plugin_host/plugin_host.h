// Loads the plugin of every enabled [[sensor]], creates and starts its
// instance, drives polled ones, and stops them all at shutdown. A sensor
// whose plugin is missing, refused or fails to start is logged and disabled;
// the others keep running.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "common/log.h"
#include "common/reading_sink.h"
#include "config/config.h"
#include "config/diagnostics.h"
#include "plugin_host/plugin_library.h"
#include "plugin_host/poll_scheduler.h"
#include "plugin_host/sensor_instance.h"

namespace gwd {

class PluginHost {
public:
    PluginHost(const Config& config, ReadingSink& sink, Logger log);
    ~PluginHost();

    // Returns the number of sensors running.
    size_t start();
    void stop();
    std::vector<SensorStatus> status() const;

    // What --check-config does for plugins: each enabled sensor's plugin file
    // is loaded and its ABI and the sensor's options are checked; no plugin
    // code beyond the entry function runs.
    static void check(const Config& config, Diagnostics& diags);

private:
    // The loaded library for `plugin`, or nullptr with `error` set.
    std::shared_ptr<PluginLibrary> library_for(const std::string& plugin, std::string& error);

    const Config& config_;
    ReadingSink& sink_;
    Logger log_;
    std::map<std::string, std::shared_ptr<PluginLibrary>> libraries_;
    std::vector<std::unique_ptr<SensorInstance>> instances_;
    std::vector<SensorStatus> disabled_;  // sensors that never got an instance
    PollScheduler poller_;
};

// "mqtt_local, simulated": the plugins present in a directory, for messages.
std::string list_available_plugins(const std::filesystem::path& dir);

}  // namespace gwd
