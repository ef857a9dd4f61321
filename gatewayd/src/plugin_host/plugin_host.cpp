#include "plugin_host/plugin_host.h"

#include <algorithm>

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
std::filesystem::path plugin_path(const Config& config, const std::string& plugin) {
    return config.gateway.plugin_dir / (plugin + ".so");
}

std::string explain_load_error(const Config& config, const std::string& plugin, const std::string& error) {
    std::string message = error;
    std::error_code ec;
    if (!std::filesystem::exists(plugin_path(config, plugin), ec)) {
        message += " (plugin_dir = " + config.gateway.plugin_dir.string() +
                   "; plugins there: " + list_available_plugins(config.gateway.plugin_dir) + ")";
    }
    return message;
}
}  // namespace

PluginHost::PluginHost(const Config& config, ReadingSink& sink, Logger log)
    : config_(config), sink_(sink), log_(std::move(log)) {}

PluginHost::~PluginHost() { stop(); }

std::shared_ptr<PluginLibrary> PluginHost::library_for(const std::string& plugin, std::string& error) {
    auto it = libraries_.find(plugin);
    if (it != libraries_.end()) return it->second;
    auto library = PluginLibrary::load(plugin_path(config_, plugin), error);
    if (library) libraries_[plugin] = library;
    return library;
}

size_t PluginHost::start() {
    size_t running = 0;
    for (const SensorConfig& sensor : config_.sensors) {
        if (!sensor.enabled) {
            log_.info("sensor '" + sensor.name + "' is disabled in the configuration");
            continue;
        }
        const std::string label = "sensor '" + sensor.name + "'";
        auto disable = [&](const std::string& why) {
            log_.error(Diagnostic{sensor.plugin_where, label + " disabled: " + why}.str());
            SensorStatus s;
            s.name = sensor.name;
            s.plugin = sensor.plugin;
            s.state = SensorState::failed;
            s.error = why;
            disabled_.push_back(s);
        };
        std::string error;
        auto library = library_for(sensor.plugin, error);
        if (!library) {
            disable(explain_load_error(config_, sensor.plugin, error));
            continue;
        }
        Diagnostics option_problems;
        check_plugin_options(sensor.options, library->descriptor().options, sensor.plugin, label, option_problems);
        if (!option_problems.empty()) {
            for (const auto& d : option_problems.items()) log_.error(d.str());
            disable("its options have " + std::to_string(option_problems.items().size()) + " problem(s), listed above");
            continue;
        }
        auto instance = std::make_unique<SensorInstance>(sensor, config_.gateway.id, library, sink_,
                                                         log_.child("sensor " + sensor.name));
        if (!instance->create() || !instance->start()) {
            instances_.push_back(std::move(instance));  // keeps its failed status visible
            continue;
        }
        if (instance->polled()) poller_.add(*instance);
        log_.info(label + " started (plugin " + sensor.plugin + " " + library->descriptor().version +
                  (instance->polled() ? ", polled every " + std::to_string(sensor.interval.count()) + "ms" : "") + ")");
        instances_.push_back(std::move(instance));
        ++running;
    }
    poller_.start();
    return running;
}

void PluginHost::stop() {
    poller_.stop();
    for (auto& instance : instances_) instance->stop();
}

std::vector<SensorStatus> PluginHost::status() const {
    std::vector<SensorStatus> out;
    for (const auto& instance : instances_) out.push_back(instance->status());
    out.insert(out.end(), disabled_.begin(), disabled_.end());
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
            library = PluginLibrary::load(plugin_path(config, sensor.plugin), error);
            if (!library) {
                diags.error(sensor.plugin_where, label + ": " + explain_load_error(config, sensor.plugin, error));
                continue;
            }
            loaded[sensor.plugin] = library;
        }
        check_plugin_options(sensor.options, library->descriptor().options, sensor.plugin, label, diags);
    }
}

}  // namespace gwd
