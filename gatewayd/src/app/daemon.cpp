#include "app/daemon.h"

#include <map>
#include <set>
#include <thread>

#include "common/time_source.h"
#include "common/units.h"
#include "config/config_compare.h"
#include "outbox/disk_outbox.h"
#include "outbox/memory_outbox.h"
#include "plugin_host/crash_guard.h"
#include "plugin_host/sensor_fingerprint.h"
#include "upstream/paho_client.h"
#include "upstream/profiles/platform_credentials.h"
#include "upstream/profiles/profile_factory.h"

namespace gwd {

Daemon::Daemon(Config config, Logger log, std::string version)
    : config_(std::move(config)), log_(std::move(log)), version_(std::move(version)) {}

Daemon::~Daemon() { stop(); }

std::shared_ptr<Outbox> Daemon::make_outbox(const UpstreamConfig& upstream, std::string& error) const {
    if (upstream.outbox == OutboxKind::memory)
        return std::make_shared<MemoryOutbox>(upstream.max_bytes, upstream.overflow);
    DiskOutbox::Settings s;
    s.file = config_.gateway.state_dir / "outbox" / (upstream.name + ".db");
    s.max_bytes = upstream.max_bytes;
    s.overflow = upstream.overflow;
    s.fsync = upstream.fsync;
    s.fsync_interval = upstream.fsync_interval;
    auto outbox = DiskOutbox::open(std::move(s), log_.child("upstream " + upstream.name), error);
    if (!outbox) error = "upstream " + upstream.name + ": cannot open its queue: " + error;
    return outbox;
}

std::unique_ptr<UpstreamSession> Daemon::make_session(const UpstreamConfig& upstream, Outbox& outbox,
                                                      std::optional<UpstreamHandover> handover) const {
    return std::make_unique<UpstreamSession>(upstream, outbox, make_profile(upstream, config_), commands_.get(),
                                             log_.child("upstream " + upstream.name), paho_transport(),
                                             std::move(handover));
}

std::shared_ptr<const Pipeline::Stage> Daemon::make_stage() const {
    Router router;
    for (const auto& u : upstreams_) {
        router.add_route(Router::Route{u.config.name, u.outbox, u.config.sensors, !u.config.dead_letter_topic.empty()});
    }
    return std::make_shared<const Pipeline::Stage>(config_, std::move(router));
}

std::vector<CrashRecord> Daemon::open_crash_journal() {
    crash_journal_ = std::make_unique<CrashJournal>(config_.gateway.state_dir / "plugin-crashes");
    // What still matters: crashes of sensors as they are configured now (same
    // block, same plugin file), from the last day.
    std::map<std::string, std::string> current;
    for (const auto& sensor : config_.sensors)
        current[sensor.name] = sensor_fingerprint(sensor, config_.gateway.plugin_dir / (sensor.plugin + ".so"));
    const std::int64_t now_ms = system_now_ms();
    std::string error;
    const int fd = crash_journal_->open_for_crashes(
        [&](const CrashRecord& r) {
            auto it = current.find(r.sensor);
            return it != current.end() && it->second == r.fingerprint && now_ms - r.at_ms < 24 * 3600 * 1000;
        },
        error);
    if (fd < 0)
        log_.warning("plugin crashes cannot be recorded (" + error +
                     "); a sensor that crashes gatewayd is not quarantined");
    const auto* stderr_sink = dynamic_cast<const StderrSink*>(log_.sink().get());
    crash_guard::install(fd, stderr_sink != nullptr && stderr_sink->journald());
    return crash_journal_->records();
}

bool Daemon::start(std::string& error) {
    started_ = std::chrono::system_clock::now();
    state_lock_ = StateDirLock::acquire(config_.gateway.state_dir, error);
    if (!state_lock_) return false;
    std::vector<CrashRecord> crashes = open_crash_journal();
    commands_ = std::make_unique<CommandDispatcher>([this](const Command& command) {
        if (!plugins_) return CommandOutcome::failure(CommandOutcome::Status::failed, "gatewayd is starting");
        return plugins_->run_command(command);
    });
    for (const UpstreamConfig& upstream : config_.upstreams) {
        Upstream u;
        u.config = upstream;
        u.outbox = make_outbox(upstream, error);
        if (!u.outbox) {
            upstreams_.clear();
            return false;
        }
        u.session = make_session(upstream, *u.outbox, std::nullopt);
        upstreams_.push_back(std::move(u));
    }
    pipeline_ = std::make_unique<Pipeline>(make_stage(), log_.child("normalize"), system_now_ms);
    plugins_ = std::make_unique<PluginHost>(*pipeline_, log_.child("plugins"), std::move(crashes));
    status_server_ = std::make_unique<StatusServer>(
        status_socket_path(config_.gateway),
        [this](bool json) {
            const DaemonStatus s = status();
            const auto now = std::chrono::system_clock::now();
            return json ? status_json(s, now) : status_text(s, now);
        },
        log_.child("status"));
    if (!status_server_->start(error)) {
        status_server_.reset();
        plugins_.reset();
        upstreams_.clear();
        return false;
    }
    watcher_ = std::make_unique<FileWatcher>([this](const std::filesystem::path& f) { on_file_changed(f); },
                                             log_.child("watch"));
    // Credential files are watched before any upstream reads them: a file
    // replaced between a session's first CONNECT and the watch would
    // otherwise go unnoticed. The plugins' files join once they run.
    watch_files();
    for (auto& u : upstreams_) u.session->start();
    const size_t running = plugins_->start(config_);
    tell_upstreams_about_sensors();
    watch_files();
    running_ = true;
    log_.notice("started: gateway '" + config_.gateway.id + "', " + std::to_string(running) + " of " +
                std::to_string(config_.sensors.size()) + " sensors running, " + std::to_string(upstreams_.size()) +
                " upstreams; status: gatewayd status (socket " + status_socket_path(config_.gateway).string() + ")");
    return true;
}

void Daemon::stop() {
    if (!running_) return;
    running_ = false;
    // One deadline for everything: a plugin that never returns costs the
    // stop no more than shutdown_timeout.
    const auto deadline = std::chrono::steady_clock::now() + config_.gateway.shutdown_timeout;
    abandoned_threads_ = plugins_->stop(deadline);
    {
        // No sensor runs any more: platforms hear it before the goodbye.
        std::lock_guard lock(mutex_);
        for (auto& u : upstreams_) u.session->sensors_running({});
    }
    // What still waits is answered "gatewayd is stopping".
    if (!commands_->stop(deadline)) ++abandoned_threads_;
    if (abandoned_threads_ > 0) {
        log_.warning(std::to_string(abandoned_threads_) +
                     " plugin thread(s) did not return by the stop deadline; they are left behind");
    }
    for (auto& u : upstreams_) u.session->stop(deadline);
    if (watcher_) watcher_->stop();
    log_.notice("stopped: " + status_summary(status()));
    if (status_server_) status_server_->stop();
    // Closing the outboxes writes what is pending and syncs it.
    std::lock_guard lock(mutex_);
    for (auto& u : upstreams_) u.outbox->close();
}

void Daemon::watch_files() {
    std::set<std::filesystem::path> files = plugins_->plugin_files();
    {
        // Under the lock: a reload on the main thread may be replacing the
        // upstreams while the watch thread reads them.
        std::lock_guard lock(mutex_);
        for (const auto& u : upstreams_) {
            for (const auto& f : credential_files(u.config)) files.insert(f);
        }
    }
    watcher_->watch(files);
}

void Daemon::watch_plugins() {
    plugins_->watch();
    tell_upstreams_about_sensors();
}

void Daemon::tell_upstreams_about_sensors() {
    std::set<std::string> running;
    for (const SensorStatus& s : plugins_->status()) {
        if (s.state == SensorState::running || s.state == SensorState::degraded) running.insert(s.name);
    }
    std::lock_guard lock(mutex_);
    for (auto& u : upstreams_) u.session->sensors_running(running);
}

void Daemon::on_file_changed(const std::filesystem::path& file) {
    if (plugins_->plugin_files().count(file) > 0) {
        plugins_->plugin_file_changed(file);
        tell_upstreams_about_sensors();
    }
    // A credential file that went away is no news to act on; its return is.
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return;
    std::lock_guard lock(mutex_);
    for (auto& u : upstreams_) {
        for (const auto& f : credential_files(u.config)) {
            if (std::filesystem::absolute(f).lexically_normal() == file) {
                u.session->rearm(file.string() + " changed", true);
                break;
            }
        }
    }
}

namespace {
// Whether an upstream's topics name {plugin}, which a sensor change can move.
bool uses_plugin_variable(const UpstreamConfig& u) {
    return u.topic.find("{plugin}") != std::string::npos || u.dead_letter_topic.find("{plugin}") != std::string::npos;
}

std::map<std::string, std::string> plugins_of(const Config& c) {
    std::map<std::string, std::string> out;
    for (const auto& s : c.sensors) out[s.name] = s.plugin;
    return out;
}
}  // namespace

void Daemon::reload(Config next) {
    // A new gateway id changes every topic and default client id.
    const bool everything = next.gateway.id != config_.gateway.id;
    const bool plugins_moved = plugins_of(next) != plugins_of(config_);
    if (next.gateway.state_dir != config_.gateway.state_dir ||
        runtime_dir_of(next.gateway) != runtime_dir_of(config_.gateway)) {
        log_.warning("state_dir and runtime_dir changes take effect at the next restart");
    }
    int kept = 0, restarted = 0, added = 0, removed = 0;
    std::vector<Upstream> retired;
    std::vector<UpstreamSession*> to_start;
    {
        std::lock_guard lock(mutex_);
        std::vector<Upstream> updated;
        config_ = next;  // make_session() reads the new sensors and gateway id
        for (UpstreamConfig& wanted : config_.upstreams) {
            auto old = std::find_if(upstreams_.begin(), upstreams_.end(),
                                    [&](const Upstream& u) { return u.config.name == wanted.name; });
            if (old == upstreams_.end()) {
                Upstream u;
                u.config = wanted;
                std::string error;
                u.outbox = make_outbox(wanted, error);
                if (!u.outbox) {
                    log_.error(error + "; the upstream is not started");
                    continue;
                }
                u.session = make_session(wanted, *u.outbox, std::nullopt);
                to_start.push_back(u.session.get());
                updated.push_back(std::move(u));
                ++added;
                continue;
            }
            Upstream u = std::move(*old);
            upstreams_.erase(old);
            if (wanted.outbox != u.config.outbox || wanted.fsync != u.config.fsync ||
                wanted.fsync_interval != u.config.fsync_interval) {
                // The queue is open, maybe mid-write; it changes form at a restart.
                log_.warning("upstream " + wanted.name +
                             ": changes of outbox, fsync and fsync_interval take effect at the next restart" +
                             (wanted.outbox != u.config.outbox ? " (so does max_bytes, with the new outbox)" : ""));
                // A new kind of outbox brings its own default size; the open
                // queue keeps its bound, or a switch to "memory" would cut
                // the disk backlog to 8 MiB at once.
                if (wanted.outbox != u.config.outbox) wanted.max_bytes = u.config.max_bytes;
                wanted.outbox = u.config.outbox;
                wanted.fsync = u.config.fsync;
                wanted.fsync_interval = u.config.fsync_interval;
            }
            u.outbox->set_limits(wanted.max_bytes, wanted.overflow);  // applies at once
            if (!everything && same_settings(u.config, wanted) && !(plugins_moved && uses_plugin_variable(wanted))) {
                u.config = wanted;
                u.session->rearm("the configuration was reloaded");
                ++kept;
            } else {
                // The queue stays with the outbox; what was in flight goes out again.
                // The old session is gone before the new one exists, so the
                // outbox's wake-up belongs to the new one and the CONNECT
                // spacing carries over.
                u.session->stop(std::chrono::steady_clock::now(), true);
                UpstreamHandover handover = u.session->handover();
                u.session.reset();
                u.config = wanted;
                u.session = make_session(wanted, *u.outbox, std::move(handover));
                to_start.push_back(u.session.get());
                ++restarted;
            }
            updated.push_back(std::move(u));
        }
        retired = std::move(upstreams_);
        upstreams_ = std::move(updated);
    }
    // Route no more readings to removed upstreams, then let them deliver what
    // they hold, all at once, before any new session (which may use the same
    // client id) connects.
    pipeline_->replace(make_stage());
    {
        const auto deadline = std::chrono::steady_clock::now() + config_.gateway.shutdown_timeout;
        std::vector<std::thread> drains;
        for (auto& gone : retired) {
            drains.emplace_back([&gone, deadline] { gone.session->stop(deadline); });
            ++removed;
        }
        for (auto& t : drains) t.join();
        for (auto& gone : retired) {
            gone.outbox->close();
            const OutboxStats left = gone.outbox->stats();
            if (left.queued > 0 && left.durable) {
                log_.notice("upstream " + gone.config.name + " was removed with " + std::to_string(left.queued) +
                            " readings queued; they stay on disk and go out when an upstream named '" +
                            gone.config.name + "' is configured again");
            }
        }
    }
    for (UpstreamSession* session : to_start) session->start();
    const SensorChanges sensors = plugins_->apply(config_);
    tell_upstreams_about_sensors();
    watch_files();
    log_.set_threshold(config_.gateway.log_level);
    log_.notice("configuration reloaded: upstreams " + std::to_string(kept) + " kept, " + std::to_string(restarted) +
                " restarted, " + std::to_string(added) + " added, " + std::to_string(removed) + " removed; sensors " +
                std::to_string(sensors.unchanged) + " kept, " + std::to_string(sensors.restarted) + " restarted, " +
                std::to_string(sensors.started) + " added, " + std::to_string(sensors.stopped) + " removed");
}

DaemonStatus Daemon::status() const {
    DaemonStatus s;
    s.version = version_;
    s.started = started_;
    std::lock_guard lock(mutex_);
    s.gateway_id = config_.gateway.id;
    for (const auto& u : upstreams_) s.upstreams.push_back(u.session->status());
    if (plugins_) {
        s.sensors = plugins_->status();
        s.plugins = plugins_->plugin_status();
    }
    return s;
}

void Daemon::report_drops() {
    std::lock_guard lock(mutex_);
    for (auto& u : upstreams_) {
        const OutboxStats stats = u.outbox->stats();
        // The disk's share first: blaming max_bytes for a full disk would
        // send the user to the wrong knob.
        const std::uint64_t disk = stats.dropped_disk_full;
        if (disk > u.reported_disk_full_drops) {
            log_.warning("upstream " + u.config.name + ": " + std::to_string(disk - u.reported_disk_full_drops) +
                         " readings dropped because the disk holding " + config_.gateway.state_dir.string() +
                         " is full" + (stats.problem.empty() ? std::string() : " (" + stats.problem + ")") +
                         ", overflow = \"" +
                         (u.config.overflow == OverflowPolicy::drop_oldest ? "drop-oldest" : "drop-newest") + "\"; " +
                         std::to_string(disk) + " in total");
            u.reported_disk_full_drops = disk;
        }
        const std::uint64_t budget = stats.dropped_overflow - std::min(stats.dropped_overflow, disk);
        if (budget > u.reported_drops) {
            log_.warning("upstream " + u.config.name + ": " + std::to_string(budget - u.reported_drops) +
                         " readings dropped because its queue reached max_bytes (" + format_size(u.config.max_bytes) +
                         ", overflow = \"" +
                         (u.config.overflow == OverflowPolicy::drop_oldest ? "drop-oldest" : "drop-newest") + "\"); " +
                         std::to_string(budget) + " in total");
            u.reported_drops = budget;
        }
    }
}

}  // namespace gwd
