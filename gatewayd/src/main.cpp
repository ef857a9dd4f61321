// gatewayd: arguments, signals and sd_notify; the stages are wired in Daemon.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "app/cli.h"
#include "app/credentials_report.h"
#include "app/daemon.h"
#include "app/preflight.h"
#include "app/status_socket.h"
#include "common/error_text.h"
#include "common/liveness.h"
#include "common/log.h"
#include "common/release_memory.h"
#include "common/utc_time.h"
#include "config/config_compare.h"
#include "config/config_loader.h"
#include "gatewayd/plugin.h"
#include "plugin_host/plugin_host.h"
#include "plugin_host/plugin_worker.h"
#include "service/notify.h"
#include "service/watchdog.h"

#ifndef GATEWAYD_VERSION
#define GATEWAYD_VERSION "0.0.0-dev"
#endif

namespace {

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) return "gatewayd";
    return name;
}

void print_diagnostics(gwd::Diagnostics diags) {
    diags.sort();
    for (const auto& d : diags.items()) std::fprintf(stderr, "%s\n", d.str().c_str());
}

// Everything a start checks before it touches anything: the file, and the
// state directory.
gwd::ConfigLoadResult load_and_check(const std::filesystem::path& path, gwd::Diagnostics& problems) {
    gwd::ConfigLoadResult loaded = gwd::load_config_file(path, host_name());
    problems = loaded.diagnostics;
    if (loaded.partial) gwd::check_state_dir(*loaded.partial, problems);
    return loaded;
}

// Blocks the signals main() waits for, before any thread exists, so that
// every thread inherits the mask and only sigtimedwait() sees them.
sigset_t block_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    // A peer closing a socket must surface as an error, not kill the daemon.
    signal(SIGPIPE, SIG_IGN);
    return set;
}

void reload(gwd::Daemon& daemon, const std::filesystem::path& path, gwd::Logger& log) {
    log.notice("SIGHUP: reloading " + path.string());
    gwd::service::notify_reloading();
    gwd::Diagnostics problems;
    gwd::ConfigLoadResult loaded = load_and_check(path, problems);
    if (!problems.empty() || !loaded.config) {
        problems.sort();
        for (const auto& d : problems.items()) log.error(d.str());
        log.error("reload refused: the configuration has " + std::to_string(problems.items().size()) +
                  " problem(s); the running configuration stays");
    } else {
        daemon.reload(std::move(*loaded.config));
    }
    gwd::service::notify_ready(gwd::status_summary(daemon.status()));
}

int run_daemon(gwd::Config config, const std::filesystem::path& path, gwd::Logger& log) {
    const sigset_t signals = block_signals();
    gwd::Daemon daemon(std::move(config), log, GATEWAYD_VERSION);
    std::string error;
    if (!daemon.start(error)) {
        log.error(error);
        return gwd::kExitConfig;
    }
    gwd::service::notify_ready(gwd::status_summary(daemon.status()));

    // With WatchdogSec=, this loop is watched too: it goes round at least
    // four times per interval, and the pinger looks twice.
    const auto watchdog = gwd::service::watchdog_interval();
    std::chrono::microseconds every = std::chrono::seconds(5);
    if (watchdog.count() > 0) every = std::min(every, watchdog / 4);
    const struct timespec status_every = {static_cast<time_t>(every.count() / 1000000),
                                          static_cast<long>(every.count() % 1000000) * 1000};
    const std::shared_ptr<gwd::Heartbeat> heart = gwd::process_liveness().enroll("the main loop");
    std::unique_ptr<gwd::service::WatchdogPinger> pinger;
    if (watchdog.count() > 0) {
        pinger = std::make_unique<gwd::service::WatchdogPinger>(watchdog, log.child("watchdog"));
        log.info("systemd's watchdog is on (WatchdogSec=" +
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(watchdog).count()) + "ms)");
    }
    while (true) {
        heart->beat();
        siginfo_t info{};
        const int sig = sigtimedwait(&signals, &info, &status_every);
        if (sig == SIGTERM || sig == SIGINT) {
            log.notice(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
            break;
        }
        if (sig == SIGHUP) {
            // Bounded by shutdown_timeout and plugin_timeout, whatever plugins do.
            gwd::Heartbeat::Excuse excuse(heart.get());
            reload(daemon, path, log);
        }
        daemon.report_drops();
        daemon.watch_plugins();
        gwd::service::notify_status(gwd::status_summary(daemon.status()));
    }
    pinger.reset();
    gwd::service::notify_stopping();
    daemon.stop();
    daemon.report_drops();
    if (daemon.abandoned_threads() > 0) {
        // A thread is still inside a plugin: destructors run now could pull
        // the host out from under it. The queues are closed and synced.
        log.notice("exiting now, leaving " + std::to_string(daemon.abandoned_threads()) + " stuck plugin thread(s)");
        std::_Exit(0);
    }
    return 0;
}

int show_status(const gwd::CliOptions& options) {
    std::filesystem::path socket = options.socket;
    if (socket.empty()) {
        // Only [gateway] matters here: a problem elsewhere (a secret this
        // user may not read) must not hide the daemon's answer.
        gwd::ConfigLoadResult loaded = gwd::load_config_file(options.config, host_name());
        const std::optional<gwd::Config>& config = loaded.config ? loaded.config : loaded.partial;
        if (!config) {
            print_diagnostics(loaded.diagnostics);
            std::fprintf(stderr,
                         "gatewayd: cannot find the status socket without a valid configuration; "
                         "use --socket PATH\n");
            return gwd::kExitConfig;
        }
        socket = gwd::status_socket_path(config->gateway);
    }
    std::string out, error;
    if (!gwd::query_status(socket, options.json, out, error)) {
        if (error == gwd::error_text(EACCES)) {
            // Running, maybe, but not ours to ask: say so, not "not running".
            std::fprintf(stderr,
                         "gatewayd: permission denied on %s: run 'gatewayd status' as root or as a member of the "
                         "socket's group\n",
                         socket.c_str());
            return gwd::kExitNoPermission;
        }
        std::fprintf(stderr, "gatewayd is not running (nothing answers on %s: %s)\n", socket.c_str(), error.c_str());
        return gwd::kExitNotRunning;
    }
    std::fputs(out.c_str(), stdout);
    return 0;
}

int show_credentials(const gwd::CliOptions& options) {
    gwd::ConfigLoadResult loaded = gwd::load_config_file(options.config, host_name());
    if (!loaded.config) {
        print_diagnostics(loaded.diagnostics);
        return gwd::kExitConfig;
    }
    auto at = std::chrono::system_clock::now();
    if (!options.at.empty()) {
        auto parsed = gwd::parse_utc_time(options.at);
        if (!parsed) {
            std::fprintf(stderr, "gatewayd: --at '%s' is not a UTC time such as 2026-11-22T09:15:00Z\n",
                         options.at.c_str());
            return gwd::kExitUsage;
        }
        at = *parsed;
    }
    std::vector<std::string> names;
    for (const auto& u : loaded.config->upstreams) {
        names.push_back(u.name);
        if (u.name != options.upstream) continue;
        std::string error;
        const std::string report = gwd::credentials_report(u, at, options.show_secret, error);
        if (report.empty()) {
            std::fprintf(stderr, "gatewayd: upstream '%s': %s\n", u.name.c_str(), error.c_str());
            return 1;
        }
        std::fputs(report.c_str(), stdout);
        return 0;
    }
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    std::fprintf(stderr, "gatewayd: %s has no upstream '%s' (it has: %s)\n", options.config.c_str(),
                 options.upstream.c_str(), known.c_str());
    return gwd::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
    // A sensor's plugin process (isolation = "process"), started by gatewayd
    // itself as `gatewayd --plugin-worker <sensor> <daemon pid>`, its socket
    // on descriptor 3. Not a user command: --help does not list it.
    if (argc == 4 && std::string_view(argv[1]) == "--plugin-worker") {
        return gwd::run_plugin_worker(3, static_cast<pid_t>(std::atoi(argv[3])));
    }
    std::vector<std::string> args(argv + 1, argv + argc);
    const gwd::CliParseResult parsed = gwd::parse_cli(args);
    if (!parsed.options) {
        std::fprintf(stderr, "gatewayd: %s\nTry 'gatewayd --help'.\n", parsed.error.c_str());
        return gwd::kExitUsage;
    }
    const gwd::CliOptions& options = *parsed.options;
    switch (options.command) {
        case gwd::CliOptions::Command::help: std::fputs(gwd::usage_text().c_str(), stdout); return 0;
        case gwd::CliOptions::Command::version:
            std::printf("gatewayd %s (plugin ABI %u)\n", GATEWAYD_VERSION, GWD_PLUGIN_ABI_VERSION);
            return 0;
        case gwd::CliOptions::Command::status: return show_status(options);
        case gwd::CliOptions::Command::credentials: return show_credentials(options);
        default: break;
    }

    auto sink = std::make_shared<gwd::StderrSink>();
    gwd::Logger log(sink, gwd::LogLevel::info);

    gwd::Diagnostics problems;
    gwd::ConfigLoadResult loaded = load_and_check(options.config, problems);

    if (options.command == gwd::CliOptions::Command::check_config) {
        // Every problem at once: the plugins' too, even when the rest has some.
        if (loaded.partial) gwd::PluginHost::check(*loaded.partial, problems);
        if (!problems.empty()) {
            print_diagnostics(problems);
            return gwd::kExitConfig;
        }
        for (const auto& w : gwd::secret_file_warnings(*loaded.config))
            std::fprintf(stderr, "%s: warning: %s\n", options.config.c_str(), w.c_str());
        std::printf("%s: OK (%zu sensors, %zu upstreams)\n", options.config.c_str(), loaded.config->sensors.size(),
                    loaded.config->upstreams.size());
        return 0;
    }

    if (!problems.empty() || !loaded.config) {
        print_diagnostics(problems);
        return gwd::kExitConfig;
    }
    gwd::Config config = std::move(*loaded.config);
    log.set_threshold(config.gateway.log_level);
    gwd::keep_large_allocations_out_of_the_heap();
    gwd::Diagnostics state_problems;
    if (!gwd::prepare_state_dir(config, state_problems)) {
        print_diagnostics(state_problems);
        return gwd::kExitConfig;
    }
    log.notice(std::string("gatewayd ") + GATEWAYD_VERSION + " starting with " + options.config.string());
    for (const auto& w : gwd::secret_file_warnings(config)) log.warning(w);
    try {
        return run_daemon(std::move(config), options.config, log);
    } catch (const std::exception& e) {
        log.error(std::string("fatal: ") + e.what());
        return 1;
    }
}
