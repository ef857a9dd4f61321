#include "app/daemon.h"

#include <map>

#include "outbox/memory_outbox.h"
#include "upstream/profiles/credentials.h"
#include "upstream/profiles/mqtt_profile.h"

namespace gwd {

Daemon::Daemon(Config config, Logger log) : config_(std::move(config)), log_(std::move(log)) {
    std::map<std::string, std::string> plugins;
    for (const auto& s : config_.sensors) plugins[s.name] = s.plugin;

    for (const UpstreamConfig& upstream : config_.upstreams) {
        auto outbox = std::make_unique<MemoryOutbox>(upstream.max_bytes, upstream.overflow);
        router_.add_route(Router::Route{upstream.name, outbox.get(), upstream.sensors,
                                        !upstream.dead_letter_topic.empty()});
        auto codec = std::make_unique<MqttUplinkCodec>(upstream, config_.gateway.id, plugins);
        auto credentials = std::make_unique<StaticCredentials>(upstream.client_id, upstream.username,
                                                               upstream.password, upstream.password_file);
        sessions_.push_back(std::make_unique<UpstreamSession>(upstream, *outbox, std::move(codec),
                                                              std::move(credentials),
                                                              log_.child("upstream " + upstream.name)));
        outboxes_.push_back(std::move(outbox));
    }
    pipeline_ = std::make_unique<Pipeline>(config_, router_, log_.child("normalize"), system_now_ms);
    plugins_ = std::make_unique<PluginHost>(config_, *pipeline_, log_.child("plugins"));
}

Daemon::~Daemon() { stop(); }

void Daemon::start() {
    for (auto& session : sessions_) session->start();
    const size_t running = plugins_->start();
    running_ = true;
    log_.notice("started: gateway '" + config_.gateway.id + "', " + std::to_string(running) + " of " +
                std::to_string(config_.sensors.size()) + " sensors running, " + std::to_string(sessions_.size()) +
                " upstreams");
}

void Daemon::stop() {
    if (!running_) return;
    running_ = false;
    plugins_->stop();
    const auto deadline = std::chrono::steady_clock::now() + config_.gateway.shutdown_timeout;
    for (auto& session : sessions_) session->stop(deadline);
    log_.notice("stopped: " + status_line());
}

void Daemon::report_drops() {
    reported_drops_.resize(sessions_.size(), 0);
    for (size_t i = 0; i < sessions_.size(); ++i) {
        const UpstreamStatus s = sessions_[i]->status();
        const std::uint64_t dropped = s.outbox.dropped_overflow;
        if (dropped > reported_drops_[i]) {
            const UpstreamConfig& u = config_.upstreams[i];
            log_.warning("upstream " + s.name + ": " + std::to_string(dropped - reported_drops_[i]) +
                         " readings dropped because its queue reached max_bytes (" + std::to_string(u.max_bytes) +
                         " bytes, overflow = \"" +
                         (u.overflow == OverflowPolicy::drop_oldest ? "drop-oldest" : "drop-newest") + "\"); " +
                         std::to_string(dropped) + " in total");
            reported_drops_[i] = dropped;
        }
    }
}

std::string Daemon::status_line() const {
    std::string line;
    for (const auto& session : sessions_) {
        const UpstreamStatus s = session->status();
        if (!line.empty()) line += "; ";
        line += s.name + " " + std::string(upstream_state_name(s.state)) + ", sent " + std::to_string(s.sent) +
                ", queued " + std::to_string(s.outbox.queued);
        if (s.outbox.dropped_overflow > 0) line += ", overflowed " + std::to_string(s.outbox.dropped_overflow);
        if (s.dead_lettered > 0) line += ", dead-lettered " + std::to_string(s.dead_lettered);
        if (s.dropped > 0) line += ", dropped " + std::to_string(s.dropped);
    }
    std::uint64_t readings = 0, failed = 0;
    for (const auto& sensor : plugins_->status()) {
        readings += sensor.accepted + sensor.dead_lettered + sensor.dropped + sensor.unrouted;
        if (sensor.state == SensorState::failed) ++failed;
    }
    line += "; readings " + std::to_string(readings);
    if (failed > 0) line += ", " + std::to_string(failed) + " sensors failed";
    return line;
}

}  // namespace gwd
