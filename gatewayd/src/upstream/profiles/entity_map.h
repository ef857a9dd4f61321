// The [[upstream.map]] entries of one upstream, looked up both ways: a
// reading's name to its platform entity (uplink), and a platform entity back
// to the sensor and the [[sensor]] whose plugin takes its commands
// (downlink). It also remembers each mapped sensor's latest delivered value,
// which answers the platforms' "get property" requests. Pure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/command.h"
#include "common/message.h"
#include "config/config.h"

namespace gwd {

// The entry that maps reading name `sensor`, or nullptr.
const PlatformMapping* mapping_for(const std::vector<PlatformMapping>& map, std::string_view sensor);

class EntityMap {
public:
    // `only_instance`: the one [[sensor]] routed to this upstream, if there
    // is exactly one; it takes every command nobody else claims.
    EntityMap(std::vector<PlatformMapping> map, std::string only_instance);

    const PlatformMapping* for_sensor(std::string_view sensor) const;
    // The first entry `match` accepts, or nullptr.
    const PlatformMapping* find(const std::function<bool(const PlatformMapping&)>& match) const;
    const std::vector<PlatformMapping>& entries() const { return map_; }

    // A delivered reading: its [[sensor]] and latest value.
    void remember(const Message& message, const std::string& json_value);

    struct Latest {
        std::string json_value;
        std::int64_t timestamp_ms = 0;
    };
    const Latest* latest(std::string_view sensor) const;

    // The [[sensor]] whose plugin owns `sensor`: its entry's `instance`, else
    // the one its readings came from, else the only one routed here; empty
    // when nothing says yet.
    std::string instance_of(std::string_view sensor) const;

    // A command for `sensor`, or nullopt with `error` when no plugin is known
    // to own it yet.
    std::optional<Command> command_for(std::string_view sensor, std::string name, std::string params,
                                       std::string& error) const;

private:
    std::vector<PlatformMapping> map_;
    std::string only_instance_;
    std::map<std::string, std::string, std::less<>> learned_instance_;
    std::map<std::string, Latest, std::less<>> latest_;
};

// The JSON object {"value": <value>} that "set" commands carry.
std::string set_params(const std::string& json_value);

}  // namespace gwd
