// The running daemon: every stage built from the config and wired in the
// direction a reading travels (plugin host -> pipeline -> outboxes ->
// upstream sessions), plus the status socket and the credential-file watch.
// Stopping goes the same way: plugins first, so nothing new arrives, then the
// sessions drain what is queued until the deadline. A reload changes only
// what the new configuration changes and keeps every queued message.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/file_watcher.h"
#include "app/pipeline.h"
#include "app/state_lock.h"
#include "app/status_report.h"
#include "app/status_socket.h"
#include "common/log.h"
#include "config/config.h"
#include "outbox/outbox.h"
#include "plugin_host/command_dispatcher.h"
#include "plugin_host/crash_journal.h"
#include "plugin_host/plugin_host.h"
#include "upstream/session.h"

namespace gwd {

class Daemon {
public:
    Daemon(Config config, Logger log, std::string version);
    ~Daemon();

    // Opens the queues and starts every stage; false with `error` when the
    // state directory is taken, a queue file cannot be opened, or the status
    // socket cannot be set up.
    bool start(std::string& error);
    // Stops everything within the gateway's shutdown_timeout, whatever the
    // plugins do.
    void stop();
    // Applies a new, already checked configuration.
    void reload(Config next);

    DaemonStatus status() const;
    // Called every few seconds: logs what was dropped since the last call
    // (one line per upstream, so a flood of drops stays readable).
    void report_drops();
    // Called every few seconds: logs sensors whose plugin call overstays, and
    // tells the upstreams which sensors run.
    void watch_plugins();
    // Threads still inside plugin code (or in a command) after stop(): the
    // process must then end without running destructors under them.
    size_t abandoned_threads() const { return abandoned_threads_; }

private:
    struct Upstream {
        UpstreamConfig config;
        std::shared_ptr<Outbox> outbox;
        std::unique_ptr<UpstreamSession> session;
        std::uint64_t reported_drops = 0;            // max_bytes drops already logged
        std::uint64_t reported_disk_full_drops = 0;  // full-disk drops already logged
    };

    // The outbox an upstream's configuration asks for; nullptr with `error`.
    std::shared_ptr<Outbox> make_outbox(const UpstreamConfig& upstream, std::string& error) const;
    std::unique_ptr<UpstreamSession> make_session(const UpstreamConfig& upstream, Outbox& outbox,
                                                  std::optional<UpstreamHandover> handover) const;
    std::shared_ptr<const Pipeline::Stage> make_stage() const;
    void watch_files();
    // Which [[sensor]]s run (running or degraded), for the platforms that
    // report the devices behind them (Huawei sub-device status).
    void tell_upstreams_about_sensors();
    void on_file_changed(const std::filesystem::path& file);
    // The crash journal: read, pruned, and handed to the crash handler.
    std::vector<CrashRecord> open_crash_journal();

    Config config_;
    Logger log_;
    std::string version_;
    std::chrono::system_clock::time_point started_;
    std::unique_ptr<StateDirLock> state_lock_;  // held until the queues below are closed
    mutable std::mutex mutex_;                  // upstreams_: read by the status and watch threads
    std::vector<Upstream> upstreams_;
    std::unique_ptr<Pipeline> pipeline_;
    std::unique_ptr<PluginHost> plugins_;
    // Platform commands to plugins; outlives no plugin host, is outlived by no session.
    std::unique_ptr<CommandDispatcher> commands_;
    std::unique_ptr<StatusServer> status_server_;
    std::unique_ptr<FileWatcher> watcher_;
    std::unique_ptr<CrashJournal> crash_journal_;
    size_t abandoned_threads_ = 0;
    bool running_ = false;
};

}  // namespace gwd
