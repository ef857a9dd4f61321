#include "app/status_report.h"

#include <cstdio>
#include <ctime>

#include "common/json.h"
#include "common/units.h"

namespace gwd {

namespace {
using SystemClock = std::chrono::system_clock;

std::string ago(SystemClock::time_point then, SystemClock::time_point now) {
    const auto d = std::chrono::duration_cast<std::chrono::seconds>(now - then);
    return format_duration(std::chrono::duration_cast<Duration>(d));
}

SystemClock::time_point from_ms(std::int64_t ms) { return SystemClock::time_point(std::chrono::milliseconds(ms)); }

std::string state_line(const UpstreamStatus& u, SystemClock::time_point now) {
    std::string line(upstream_state_name(u.state));
    switch (u.state) {
        case UpstreamState::online: line += " since " + iso8601(u.online_since); break;
        case UpstreamState::backoff:
            line += ", next attempt in " +
                    format_duration(std::max(Duration(0), std::chrono::duration_cast<Duration>(u.next_attempt - now))) +
                    " (" + iso8601(u.next_attempt) + ")";
            break;
        case UpstreamState::stopped:
            line += ": " + u.stopped_reason;
            if (u.next_attempt > now) line += " (next attempt " + iso8601(u.next_attempt) + ")";
            break;
        default: break;
    }
    return line;
}
}  // namespace

std::string iso8601(SystemClock::time_point t) {
    const std::time_t seconds = SystemClock::to_time_t(t);
    struct tm tm {};
    gmtime_r(&seconds, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

std::string_view sensor_state_name(SensorState state) {
    switch (state) {
        case SensorState::created: return "created";
        case SensorState::running: return "running";
        case SensorState::degraded: return "degraded";
        case SensorState::stuck: return "stuck";
        case SensorState::stopped: return "stopped";
        case SensorState::failed: return "failed";
        case SensorState::quarantined: return "quarantined";
    }
    return "created";
}

std::string status_text(const DaemonStatus& s, SystemClock::time_point now) {
    std::string out = "gatewayd " + s.version + ", gateway '" + s.gateway_id + "', up " + ago(s.started, now) + "\n";
    for (const auto& u : s.upstreams) {
        out += "\nupstream " + u.name + "  " + u.url + "  client id '" + u.client_id + "'\n";
        out += "  state      " + state_line(u, now) + "\n";
        out += "  attempts   " + std::to_string(u.attempts);
        if (u.last_reason >= 0) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(u.last_reason) & 0xFFu);
            out += ", last reason code " + std::string(hex) + " " + u.last_reason_name;
        }
        out += "\n";
        if (!u.last_error.empty() && u.state != UpstreamState::stopped) out += "  last error " + u.last_error + "\n";
        out += "  messages   sent " + std::to_string(u.sent) + ", dead-lettered " + std::to_string(u.dead_lettered) +
               ", dropped " + std::to_string(u.dropped);
        if (u.refused_by_platform > 0) out += ", refused by the platform " + std::to_string(u.refused_by_platform);
        out += "\n";
        if (u.commands > 0 || u.responses > 0) {
            out += "  commands   " + std::to_string(u.commands) + " to plugins, " + std::to_string(u.responses) +
                   " responses and reports sent\n";
        }
        out += "  queue      " + std::string(u.outbox.durable ? "disk" : "memory") + ", " +
               std::to_string(u.outbox.queued) + " queued";
        if (u.outbox.queued > 0) {
            out += " (" + format_size(u.outbox.bytes);
            if (u.outbox.oldest_accepted_ms > 0) out += ", oldest " + ago(from_ms(u.outbox.oldest_accepted_ms), now);
            out += ")";
        }
        out += ", delivered " + std::to_string(u.outbox.delivered) + ", expired " + std::to_string(u.outbox.expired) +
               ", dropped by overflow " + std::to_string(u.outbox.dropped_overflow);
        if (u.outbox.dropped_disk_full > 0)
            out += " (" + std::to_string(u.outbox.dropped_disk_full) + " for a full disk)";
        if (u.outbox.damaged > 0) out += ", damaged " + std::to_string(u.outbox.damaged);
        if (u.outbox.recovered > 0) out += ", " + std::to_string(u.outbox.recovered) + " found at start";
        out += "\n";
        if (!u.outbox.problem.empty()) out += "  problem    " + u.outbox.problem + "\n";
        if (!u.outbox.found_at_start.empty()) out += "  at start   " + u.outbox.found_at_start + "\n";
        if (u.state == UpstreamState::online) {
            out += "  window     " + std::to_string(u.window) + ", " + std::to_string(u.in_flight) + " in flight";
            if (u.topic_aliases > 0) out += ", " + std::to_string(u.topic_aliases) + " topic aliases";
            if (u.publish_rate_limit > 0)
                out += ", paced to " + std::to_string(static_cast<int>(u.publish_rate_limit)) + "/s";
            out += "\n";
        }
    }
    out += "\n";
    for (const auto& sensor : s.sensors) {
        out += "sensor " + sensor.name + " (" + sensor.plugin + "): " + std::string(sensor_state_name(sensor.state));
        if (!sensor.error.empty()) out += " (" + sensor.error + ")";
        out += ", " + std::to_string(sensor.accepted) + " readings";
        if (sensor.invalid) out += ", " + std::to_string(sensor.invalid) + " invalid";
        if (sensor.oversized) out += ", " + std::to_string(sensor.oversized) + " too large";
        if (sensor.no_memory) out += ", " + std::to_string(sensor.no_memory) + " refused for lack of memory";
        if (sensor.dead_lettered) out += ", " + std::to_string(sensor.dead_lettered) + " dead-lettered";
        if (sensor.dropped) out += ", " + std::to_string(sensor.dropped) + " dropped";
        if (sensor.unrouted) out += ", " + std::to_string(sensor.unrouted) + " unrouted";
        if (sensor.poll_errors) out += ", " + std::to_string(sensor.poll_errors) + " poll errors";
        if (sensor.isolated) out += ", in its own process (" + std::to_string(sensor.restarts) + " restarts)";
        if (!sensor.plugin_version.empty()) out += "; plugin " + sensor.plugin_version;
        if (!sensor.plugin_note.empty()) out += "; " + sensor.plugin_note;
        out += "\n";
        // The plugin's own counters, one line each, indented under the sensor.
        for (const auto& [name, value] : sensor.counters) out += "  " + name + ": " + std::to_string(value) + "\n";
    }
    if (!s.plugins.empty()) out += "\n";
    for (const auto& p : s.plugins) {
        out += "plugin " + p.name + ": ";
        if (p.loaded) {
            out += p.version + " (ABI " + std::to_string(p.abi_version) + "), " + p.path.string() + ", sha256 " +
                   p.sha256 + ", loaded " + iso8601(p.loaded_at);
        } else {
            out += "not loaded, " + p.path.string();
        }
        std::string sensors;
        for (const auto& name : p.sensors) sensors += (sensors.empty() ? "" : ", ") + name;
        out += "; sensors " + sensors;
        if (!p.note.empty()) out += "; " + p.note;
        out += "\n";
    }
    return out;
}

std::string status_json(const DaemonStatus& s, SystemClock::time_point now) {
    auto field = [](const char* key, const std::string& value) { return json_quote(key) + ":" + json_quote(value); };
    auto number = [](const char* key, auto value) { return json_quote(key) + ":" + std::to_string(value); };
    std::string out = "{" + field("version", s.version) + "," + field("gateway", s.gateway_id) + "," +
                      number("uptime_s", std::chrono::duration_cast<std::chrono::seconds>(now - s.started).count()) +
                      ",\"upstreams\":[";
    for (size_t i = 0; i < s.upstreams.size(); ++i) {
        const auto& u = s.upstreams[i];
        if (i) out += ",";
        out += "{" + field("name", u.name) + "," + field("url", u.url) + "," + field("client_id", u.client_id) + "," +
               field("state", std::string(upstream_state_name(u.state))) + ",";
        out += json_quote("stopped_reason") + ":" + (u.stopped_reason.empty() ? "null" : json_quote(u.stopped_reason)) +
               ",";
        out += json_quote("next_attempt") + ":" +
               (u.next_attempt > now ? json_quote(iso8601(u.next_attempt)) : std::string("null")) + ",";
        out += number("attempts", u.attempts) + ",";
        out +=
            json_quote("last_reason_code") + ":" + (u.last_reason >= 0 ? std::to_string(u.last_reason) : "null") + ",";
        out += field("last_reason", u.last_reason_name) + "," + field("last_error", u.last_error) + ",";
        out += number("window", u.window) + "," + number("in_flight", u.in_flight) + "," +
               number("topic_aliases", u.topic_aliases) + ",";
        out +=
            json_quote("publish_rate_limit") + ":" + std::to_string(static_cast<long long>(u.publish_rate_limit)) + ",";
        out += number("sent", u.sent) + "," + number("queued", u.outbox.queued) + "," +
               number("queued_bytes", u.outbox.bytes) + ",";
        out += json_quote("oldest_queued_age_s") + ":" +
               (u.outbox.queued > 0 && u.outbox.oldest_accepted_ms > 0
                    ? std::to_string(
                          std::chrono::duration_cast<std::chrono::seconds>(now - from_ms(u.outbox.oldest_accepted_ms))
                              .count())
                    : std::string("null")) +
               ",";
        out += field("outbox", u.outbox.durable ? "disk" : "memory") + "," + number("delivered", u.outbox.delivered) +
               "," + number("expired", u.outbox.expired) + "," + number("damaged", u.outbox.damaged) + "," +
               number("recovered", u.outbox.recovered) + "," + number("discarded", u.outbox.discarded) + ",";
        out += json_quote("outbox_problem") + ":" +
               (u.outbox.problem.empty() ? std::string("null") : json_quote(u.outbox.problem)) + ",";
        out += json_quote("outbox_found_at_start") + ":" +
               (u.outbox.found_at_start.empty() ? std::string("null") : json_quote(u.outbox.found_at_start)) + ",";
        out += number("dead_lettered", u.dead_lettered) + "," + number("dropped", u.dropped) + "," +
               number("overflowed", u.outbox.dropped_overflow) + "," +
               number("overflowed_disk_full", u.outbox.dropped_disk_full) + "," + number("commands", u.commands) + "," +
               number("responses", u.responses) + "," + number("refused_by_platform", u.refused_by_platform) + "}";
    }
    out += "],\"sensors\":[";
    for (size_t i = 0; i < s.sensors.size(); ++i) {
        const auto& sensor = s.sensors[i];
        if (i) out += ",";
        out += "{" + field("name", sensor.name) + "," + field("plugin", sensor.plugin) + "," +
               field("state", std::string(sensor_state_name(sensor.state))) + "," + field("error", sensor.error) + "," +
               number("accepted", sensor.accepted) + "," + number("invalid", sensor.invalid) + "," +
               number("oversized", sensor.oversized) + "," + number("no_memory", sensor.no_memory) + "," +
               number("dead_lettered", sensor.dead_lettered) + "," + number("dropped", sensor.dropped) + "," +
               number("unrouted", sensor.unrouted) + "," + number("poll_errors", sensor.poll_errors) + "," +
               field("isolation", sensor.isolated ? "process" : "none") + "," + number("restarts", sensor.restarts) +
               "," + field("plugin_version", sensor.plugin_version) + "," + field("plugin_note", sensor.plugin_note) +
               ",\"counters\":{";
        for (size_t k = 0; k < sensor.counters.size(); ++k)
            out += (k ? "," : "") + number(sensor.counters[k].first.c_str(), sensor.counters[k].second);
        out += "}}";
    }
    out += "],\"plugins\":[";
    for (size_t i = 0; i < s.plugins.size(); ++i) {
        const auto& p = s.plugins[i];
        if (i) out += ",";
        auto or_null = [&](const char* key, const std::string& value) {
            return json_quote(key) + ":" + (p.loaded ? json_quote(value) : std::string("null"));
        };
        out += "{" + field("name", p.name) + "," + field("path", p.path.string()) + "," +
               or_null("version", p.version) + "," + json_quote("abi_version") + ":" +
               (p.loaded ? std::to_string(p.abi_version) : std::string("null")) + "," + or_null("sha256", p.sha256) +
               "," + or_null("loaded_at", p.loaded ? iso8601(p.loaded_at) : "") + ",\"sensors\":[";
        for (size_t k = 0; k < p.sensors.size(); ++k) out += (k ? "," : "") + json_quote(p.sensors[k]);
        out += "]," + json_quote("note") + ":" + (p.note.empty() ? std::string("null") : json_quote(p.note)) + "}";
    }
    return out + "]}\n";
}

std::string status_summary(const DaemonStatus& s) {
    std::string line;
    for (const auto& u : s.upstreams) {
        if (!line.empty()) line += "; ";
        line += u.name + " " + std::string(upstream_state_name(u.state));
        if (u.state == UpstreamState::stopped && u.last_reason >= 0) line += " (" + u.last_reason_name + ")";
        line += ", sent " + std::to_string(u.sent) + ", queued " + std::to_string(u.outbox.queued);
        if (u.outbox.dropped_overflow > 0) line += ", overflowed " + std::to_string(u.outbox.dropped_overflow);
        if (u.outbox.expired > 0) line += ", expired " + std::to_string(u.outbox.expired);
        if (u.dead_lettered > 0) line += ", dead-lettered " + std::to_string(u.dead_lettered);
        if (u.dropped > 0) line += ", dropped " + std::to_string(u.dropped);
    }
    std::uint64_t readings = 0;
    int failed = 0;
    for (const auto& sensor : s.sensors) {
        readings += sensor.accepted + sensor.dead_lettered + sensor.dropped + sensor.unrouted;
        if (sensor.state == SensorState::failed || sensor.state == SensorState::stuck ||
            sensor.state == SensorState::quarantined || sensor.state == SensorState::degraded)
            ++failed;
    }
    line += "; readings " + std::to_string(readings);
    if (failed > 0) line += ", " + std::to_string(failed) + " sensors not working";
    return line;
}

}  // namespace gwd
