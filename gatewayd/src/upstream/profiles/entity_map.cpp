#include "upstream/profiles/entity_map.h"

#include <algorithm>

namespace gwd {

namespace {
// Readings seen from sensors nobody mapped are remembered too (AWS commands
// may name any sensor), but not without bound.
constexpr size_t kMaxRemembered = 4096;
}  // namespace

EntityMap::EntityMap(std::vector<PlatformMapping> map, std::string only_instance)
    : map_(std::move(map)), only_instance_(std::move(only_instance)) {}

const PlatformMapping* mapping_for(const std::vector<PlatformMapping>& map, std::string_view sensor) {
    for (const auto& m : map) {
        if (m.sensor == sensor) return &m;
    }
    return nullptr;
}

const PlatformMapping* EntityMap::for_sensor(std::string_view sensor) const { return mapping_for(map_, sensor); }

const PlatformMapping* EntityMap::find(const std::function<bool(const PlatformMapping&)>& match) const {
    for (const auto& m : map_) {
        if (match(m)) return &m;
    }
    return nullptr;
}

void EntityMap::remember(const Message& message, const std::string& json_value) {
    if (message.kind != Message::Kind::data) return;
    if (latest_.size() >= kMaxRemembered && latest_.find(message.sensor) == latest_.end()) return;
    learned_instance_[message.sensor] = message.instance;
    Latest& l = latest_[message.sensor];
    if (message.timestamp_ms >= l.timestamp_ms) l = Latest{json_value, message.timestamp_ms};
}

const EntityMap::Latest* EntityMap::latest(std::string_view sensor) const {
    auto it = latest_.find(sensor);
    return it == latest_.end() ? nullptr : &it->second;
}

std::string EntityMap::instance_of(std::string_view sensor) const {
    if (const PlatformMapping* m = for_sensor(sensor); m && !m->instance.empty()) return m->instance;
    if (auto it = learned_instance_.find(sensor); it != learned_instance_.end()) return it->second;
    return only_instance_;
}

std::optional<Command> EntityMap::command_for(std::string_view sensor, std::string name, std::string params,
                                              std::string& error) const {
    std::string instance = instance_of(sensor);
    if (instance.empty()) {
        error = "no reading from sensor '" + std::string(sensor) +
                "' has been delivered yet, so its plugin is not known; set instance in its [[upstream.map]] entry";
        return std::nullopt;
    }
    return Command{std::move(instance), std::string(sensor), std::move(name),
                   params.empty() ? "{}" : std::move(params)};
}

std::string set_params(const std::string& json_value) { return "{\"value\":" + json_value + "}"; }

}  // namespace gwd
