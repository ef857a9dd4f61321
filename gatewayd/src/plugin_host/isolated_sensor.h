// A [[sensor]] with isolation = "process": its plugin runs in a child
// process (`gatewayd --plugin-worker`, plugin_worker.h) with the same ABI,
// and its readings come over a socket pair. A crash, a hang or garbage on
// the socket there ends that process only: the readings it wrote before are
// still read and stored, and it is started again after a delay with jitter
// (backoff.h: up to 1 s, doubling to 60 s, from zero again once a process ran
// 30 s). A hang is a plugin call that overstays plugin_timeout (polls: their
// interval), or a process that sends nothing, not even its heartbeat.
//
// Acknowledgements: a reading the plugin wants stored() for goes into the
// outboxes with a ticket of its own here; once it settles, a StoredNotifier
// thread sends the child the ack, and the child calls stored(). A child that
// ended takes its outstanding acks with it (its source sends them again).
//
// One thread, `i-<sensor>`, reads the socket once the sensor runs and does
// the restarts; create() and start() read it on the caller's thread before.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/log.h"
#include "common/reading_sink.h"
#include "config/config.h"
#include "plugin_host/frame_channel.h"
#include "plugin_host/sensor_instance.h"
#include "plugin_host/sensor_runner.h"
#include "plugin_host/stored_notifier.h"
#include "plugin_host/worker_frames.h"
#include "supervision/backoff.h"

namespace gwd {

class IsolatedSensor final : public SensorRunner, public std::enable_shared_from_this<IsolatedSensor> {
public:
    IsolatedSensor(SensorConfig config, std::string gateway_id, std::shared_ptr<PluginLibrary> library,
                   ReadingSink& sink, Logger log, SensorLimits limits);
    // Kills a process still running and waits for its thread.
    ~IsolatedSensor() override;

    bool create(Clock::time_point deadline) override;
    bool start(Clock::time_point deadline) override;
    bool shutdown(Clock::time_point deadline) override;
    bool abandoned() const override { return false; }  // a process can always be killed

    bool polled() const override { return (library_->descriptor().flags & GWD_PLUGIN_POLLED) != 0; }
    const std::string& name() const override { return config_.name; }
    const std::shared_ptr<PluginLibrary>& library() const override { return library_; }
    SensorStatus status() const override;
    void watch(Clock::time_point) override {}  // the supervising thread acts on hangs itself
    CommandOutcome command(const Command& command, Clock::time_point deadline) override;

private:
    // One plugin process and the daemon's end of its socket.
    struct Child {
        pid_t pid = -1;
        std::shared_ptr<FrameChannel> channel;
        std::shared_ptr<StoredNotifier> acks;
        worker::FrameSplitter frames{0};
        worker::Status status;
        std::uint64_t readings = 0;
        Clock::time_point started{};
        Clock::duration silent{};  // waited for a frame in vain, since the last one
        std::string ended;         // why it is being ended, when the daemon ends it
        bool eof = false;          // it closed its end: it is exiting
    };
    enum class Phase { idle, starting, running, restarting, stopping, stopped, failed };

    bool spawn(Clock::time_point deadline);
    // Reads and handles frames until `step`'s result comes (true when it
    // says ok), the process ends, or the deadline or a stop comes.
    bool await(worker::Step step, Clock::time_point deadline);
    // Waits up to `wait` for frames and handles what came; false once the
    // process closed its end or broke the protocol.
    bool pump(Clock::duration wait);
    void handle(worker::Frame&& frame);
    void take_reading(worker::Reading&& reading);
    // Kills the process (if it runs), reaps it, and says how it ended.
    std::string end_child(const std::string& why);
    void supervise();
    // After a failed await: did the process refuse that step (it answered
    // with an error), or did it never answer (then noted as why it ends)?
    bool refused(worker::Step step) const;
    void mark_unanswered(const char* call, Clock::duration waited);
    // Ends a process that did not get to run; says how, for the log.
    std::string end_launch();
    std::string relaunch_failure(worker::Step step, const char* call, Clock::duration waited);
    bool send(const worker::Frame& frame, Clock::time_point deadline);
    bool stop_requested() const;
    void set_phase(Phase phase, std::string note = {});

    SensorConfig config_;
    std::string gateway_id_;
    std::shared_ptr<PluginLibrary> library_;
    ReadingSink& sink_;
    Logger log_;
    SensorLimits limits_;
    Backoff backoff_;
    int wake_fd_ = -1;  // an eventfd: a stop wakes the reading thread

    std::unique_ptr<Child> child_;  // the reading thread's (create/start: the caller's)
    std::thread thread_;
    std::optional<worker::StepResult> step_result_;  // the reading thread's
    std::string launch_error_;                       // how the last process that never ran ended

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    Phase phase_ = Phase::idle;
    std::string note_;  // why it is restarting or failed
    bool stop_ = false;
    Clock::time_point stop_deadline_{};
    worker::Status child_status_;
    std::uint64_t restarts_ = 0;
    // Counters of processes that ended, added to the running one's.
    std::uint64_t ended_invalid_ = 0, ended_oversized_ = 0, ended_no_memory_ = 0, ended_poll_errors_ = 0;
    // Commands waiting for the process's answer, by id.
    std::uint64_t next_command_ = 1;
    std::map<std::uint64_t, std::optional<CommandOutcome>> commands_;
    std::shared_ptr<FrameChannel> channel_;  // of the running process, for commands

    EmitTally tally_;
    std::atomic<std::uint64_t> invalid_{0};  // refused here: the process sent what emit() would have refused
    LogRateLimit invalid_log_;
};

}  // namespace gwd
