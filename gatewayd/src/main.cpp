// gatewayd: arguments, signals and sd_notify; the stages are wired in Daemon.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/daemon.h"
#include "app/preflight.h"
#include "common/log.h"
#include "config/config_loader.h"
#include "gatewayd/plugin.h"
#include "plugin_host/plugin_host.h"
#include "service/notify.h"

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

int run_daemon(gwd::Config config, gwd::Logger& log) {
    const sigset_t signals = block_signals();
    gwd::Daemon daemon(std::move(config), log);
    daemon.start();
    gwd::service::notify_ready(daemon.status_line());

    const struct timespec status_every = {5, 0};
    while (true) {
        siginfo_t info{};
        const int sig = sigtimedwait(&signals, &info, &status_every);
        if (sig == SIGTERM || sig == SIGINT) {
            log.notice(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
            break;
        }
        if (sig == SIGHUP) {
            log.warning("SIGHUP received, but reloading the configuration is not supported yet; restart to apply changes");
        }
        daemon.report_drops();
        gwd::service::notify_status(daemon.status_line());
    }
    gwd::service::notify_stopping();
    daemon.stop();
    daemon.report_drops();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    const gwd::CliParseResult parsed = gwd::parse_cli(args);
    if (!parsed.options) {
        std::fprintf(stderr, "gatewayd: %s\nTry 'gatewayd --help'.\n", parsed.error.c_str());
        return gwd::kExitUsage;
    }
    const gwd::CliOptions& options = *parsed.options;
    switch (options.command) {
        case gwd::CliOptions::Command::help:
            std::fputs(gwd::usage_text().c_str(), stdout);
            return 0;
        case gwd::CliOptions::Command::version:
            std::printf("gatewayd %s (plugin ABI %u)\n", GATEWAYD_VERSION, GWD_PLUGIN_ABI_VERSION);
            return 0;
        default:
            break;
    }

    auto sink = std::make_shared<gwd::StderrSink>();
    gwd::Logger log(sink, gwd::LogLevel::info);

    gwd::ConfigLoadResult loaded = gwd::load_config_file(options.config, host_name());
    gwd::Diagnostics problems = loaded.diagnostics;
    if (loaded.config) gwd::check_state_dir(*loaded.config, problems);

    if (options.command == gwd::CliOptions::Command::check_config) {
        if (loaded.config) gwd::PluginHost::check(*loaded.config, problems);
        if (!problems.empty()) {
            print_diagnostics(problems);
            return gwd::kExitConfig;
        }
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
    gwd::Diagnostics state_problems;
    if (!gwd::prepare_state_dir(config, state_problems)) {
        print_diagnostics(state_problems);
        return gwd::kExitConfig;
    }
    log.notice(std::string("gatewayd ") + GATEWAYD_VERSION + " starting with " + options.config.string());
    try {
        return run_daemon(std::move(config), log);
    } catch (const std::exception& e) {
        log.error(std::string("fatal: ") + e.what());
        return 1;
    }
}
