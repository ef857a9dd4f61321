// What the plugin host asks of one running [[sensor]], wherever its plugin
// runs: inside gatewayd (SensorInstance) or in a child process of its own
// (IsolatedSensor, isolation = "process").
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/command.h"
#include "plugin_host/plugin_library.h"

namespace gwd {

struct SensorStatus;

class SensorRunner {
public:
    using Clock = std::chrono::steady_clock;
    virtual ~SensorRunner() = default;

    // Each returns false after logging why; the sensor is then failed.
    virtual bool create(Clock::time_point deadline) = 0;
    virtual bool start(Clock::time_point deadline) = 0;
    // Stops it, waiting for nothing beyond `deadline`. False when a plugin
    // thread did not let go in time: the runner is abandoned and must be
    // kept alive for the process's life.
    virtual bool shutdown(Clock::time_point deadline) = 0;
    virtual bool abandoned() const = 0;

    virtual bool polled() const = 0;
    virtual const std::string& name() const = 0;
    virtual const std::shared_ptr<PluginLibrary>& library() const = 0;
    virtual SensorStatus status() const = 0;
    // Logs when a call into the plugin starts or stops overstaying; the host
    // calls it every few seconds.
    virtual void watch(Clock::time_point now) = 0;
    // One platform command for the plugin, answered by `deadline`.
    virtual CommandOutcome command(const Command& command, Clock::time_point deadline) = 0;
};

}  // namespace gwd
