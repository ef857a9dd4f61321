#include "plugin_host/plugin_host.h"

#include <algorithm>

#include "common/units.h"
#include "config/config_compare.h"
#include "plugin_host/plugin_options.h"

namespace gwd {

std::string list_available_plugins(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".so") names.push_back(entry.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

namespace {
std::filesystem::path plugin_path(const std::filesystem::path& dir, const std::string& plugin) {
    return dir / (plugin + ".so");
}

std::string explain_load_error(const std::filesystem::path& dir, const std::string& plugin, const std::string& error) {
    std::string message = error;
    std::error_code ec;
    if (!std::filesystem::exists(plugin_path(dir, plugin), ec)) {
        message += " (plugin_dir = " + dir.string() + "; plugins there: " + list_available_plugins(dir) + ")";
    }
    return message;
}
}  // namespace

PluginHost::PluginHost(ReadingSink& sink, Logger log) : sink_(sink), log_(std::move(log)) {}

PluginHost::~PluginHost() { stop(); }

std::shared_ptr<PluginLibrary> PluginHost::library_for(const std::string& plugin, std::string& error) {
    auto it = libraries_.find(plugin);
    if (it != libraries_.end()) return it->second;
    auto library = PluginLibrary::load(plugin_path(plugin_dir_, plugin), error);
    if (library) libraries_[plugin] = library;
    return library;
}

PluginHost::Entry PluginHost::launch(const SensorConfig& sensor) {
    Entry entry{sensor, nullptr, std::nullopt};
    const std::string label = "sensor '" + sensor.name + "'";
    auto disable = [&](const std::string& why) {
        log_.error(Diagnostic{sensor.plugin_where, label + " disabled: " + why}.str());
        SensorStatus s;
        s.name = sensor.name;
        s.plugin = sensor.plugin;
        s.state = SensorState::failed;
        s.error = why;
        entry.disabled = s;
        return std::move(entry);
    };
    if (!sensor.enabled) {
        log_.info(label + " is disabled in the configuration");
        SensorStatus s;
        s.name = sensor.name;
        s.plugin = sensor.plugin;
        s.state = SensorState::stopped;
        s.error = "enabled = false";
        entry.disabled = s;
        return entry;
    }
    std::string error;
    auto library = library_for(sensor.plugin, error);
    if (!library) return disable(explain_load_error(plugin_dir_, sensor.plugin, error));
    Diagnostics option_problems;
    check_plugin_options(sensor.options, library->descriptor().options, sensor.plugin, label, option_problems);
    if (!option_problems.empty()) {
        for (const auto& d : option_problems.items()) log_.error(d.str());
        return disable("its options have " + std::to_string(option_problems.items().size()) +
                       " problem(s), listed above");
    }
    auto instance = std::make_unique<SensorInstance>(sensor, gateway_id_, library, sink_,
                                                     log_.child("sensor " + sensor.name));
    if (instance->create() && instance->start()) {
        if (instance->polled()) poller_.add(*instance);
        log_.info(label + " started (plugin " + sensor.plugin + " " + library->descriptor().version +
                  (instance->polled() ? ", polled every " + format_duration(sensor.interval) : "") + ")");
    }
    entry.instance = std::move(instance);  // a failed one keeps its status visible
    return entry;
}

void PluginHost::retire(Entry& entry) {
    if (!entry.instance) return;
    poller_.remove(*entry.instance);
    entry.instance->stop();
    entry.instance.reset();
}

size_t PluginHost::start(const Config& config) {
    std::lock_guard lock(mutex_);
    gateway_id_ = config.gateway.id;
    plugin_dir_ = config.gateway.plugin_dir;
    size_t running = 0;
    for (const SensorConfig& sensor : config.sensors) {
        entries_.push_back(launch(sensor));
        if (entries_.back().instance && entries_.back().instance->status().state == SensorState::running) ++running;
    }
    return running;
}

SensorChanges PluginHost::apply(const Config& next) {
    std::lock_guard lock(mutex_);
    SensorChanges changes;
    // A new gateway id or plugin directory changes what every sensor sees.
    const bool everything = next.gateway.id != gateway_id_ || next.gateway.plugin_dir != plugin_dir_;
    gateway_id_ = next.gateway.id;
    plugin_dir_ = next.gateway.plugin_dir;
    // Plugin files may have been replaced since they were loaded: look again.
    libraries_.clear();

    std::vector<Entry> kept;
    for (const SensorConfig& sensor : next.sensors) {
        auto old = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.config.name == sensor.name; });
        const bool found = old != entries_.end();
        if (found && !everything && same_settings(old->config, sensor) && old->instance &&
            old->instance->status().state == SensorState::running) {
            old->config = sensor;  // same settings; keep the new source positions
            kept.push_back(std::move(*old));
            entries_.erase(old);
            ++changes.unchanged;
            continue;
        }
        if (found) {
            retire(*old);
            entries_.erase(old);
            ++changes.restarted;
        } else {
            ++changes.started;
        }
        kept.push_back(launch(sensor));
    }
    for (Entry& gone : entries_) {
        retire(gone);
        ++changes.stopped;
        log_.info("sensor '" + gone.config.name + "' stopped: no longer in the configuration");
    }
    entries_ = std::move(kept);
    return changes;
}

void PluginHost::stop() {
    poller_.stop();
    std::lock_guard lock(mutex_);
    for (auto& entry : entries_)
        if (entry.instance) entry.instance->stop();
}

CommandOutcome PluginHost::run_command(const Command& command) {
    // Under the lock, so a reload cannot retire the instance mid-command.
    std::lock_guard lock(mutex_);
    for (auto& e : entries_) {
        if (e.config.name != command.instance) continue;
        if (!e.instance) {
            return CommandOutcome::failure(CommandOutcome::Status::unsupported,
                                           "sensor '" + command.instance + "' is disabled" +
                                               (e.disabled && !e.disabled->error.empty() ? ": " + e.disabled->error : ""));
        }
        return e.instance->command(command);
    }
    return CommandOutcome::failure(CommandOutcome::Status::unsupported, "no [[sensor]] is named '" + command.instance + "'");
}

std::vector<SensorStatus> PluginHost::status() const {
    std::lock_guard lock(mutex_);
    std::vector<SensorStatus> out;
    for (const auto& entry : entries_) out.push_back(entry.instance ? entry.instance->status() : *entry.disabled);
    return out;
}

void PluginHost::check(const Config& config, Diagnostics& diags) {
    std::map<std::string, std::shared_ptr<PluginLibrary>> loaded;
    for (const SensorConfig& sensor : config.sensors) {
        if (!sensor.enabled) continue;
        const std::string label = "sensor '" + sensor.name + "'";
        std::shared_ptr<PluginLibrary> library;
        if (auto it = loaded.find(sensor.plugin); it != loaded.end()) {
            library = it->second;
        } else {
            std::string error;
            library = PluginLibrary::load(plugin_path(config.gateway.plugin_dir, sensor.plugin), error);
            if (!library) {
                diags.error(sensor.plugin_where,
                            label + ": " + explain_load_error(config.gateway.plugin_dir, sensor.plugin, error));
                continue;
            }
            loaded[sensor.plugin] = library;
        }
        check_plugin_options(sensor.options, library->descriptor().options, sensor.plugin, label, diags);
    }
}

}  // namespace gwd
