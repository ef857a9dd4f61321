// The running daemon: every stage built from the config and wired in the
// direction a reading travels (plugin host -> pipeline -> outboxes ->
// upstream sessions). Stopping goes the same way: plugins first, so nothing
// new arrives, then the sessions drain what is queued until the deadline.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/pipeline.h"
#include "common/log.h"
#include "config/config.h"
#include "outbox/outbox.h"
#include "plugin_host/plugin_host.h"
#include "router/router.h"
#include "upstream/session.h"

namespace gwd {

class Daemon {
public:
    Daemon(Config config, Logger log);
    ~Daemon();

    void start();
    void stop();

    // One line per upstream and a sensor summary, for sd_notify STATUS= and logs.
    std::string status_line() const;

    // Called every few seconds: logs what was dropped since the last call
    // (one line per upstream, so a flood of drops stays readable).
    void report_drops();

private:
    Config config_;
    Logger log_;
    std::vector<std::unique_ptr<Outbox>> outboxes_;
    Router router_;
    std::unique_ptr<Pipeline> pipeline_;
    std::vector<std::unique_ptr<UpstreamSession>> sessions_;
    std::unique_ptr<PluginHost> plugins_;
    std::vector<std::uint64_t> reported_drops_;
    bool running_ = false;
};

}  // namespace gwd
