// A reading's topic from a user-written template: the one place that knows
// what {gateway}, {sensor}, {instance}, {plugin} and {upstream} stand for, so
// the mqtt and aws profiles (data and dead letters alike) cannot drift apart.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "common/message.h"
#include "topics/topic_template.h"

namespace gwd {

class ReadingTopic {
public:
    // `plugins` maps [[sensor]] names to their plugin, for {plugin}.
    ReadingTopic(std::string gateway_id, std::string upstream_name, std::map<std::string, std::string> plugins)
        : gateway_id_(std::move(gateway_id)), upstream_name_(std::move(upstream_name)), plugins_(std::move(plugins)) {}

    std::string render(const TopicTemplate& topic, const Message& message) const {
        const auto plugin = plugins_.find(message.instance);
        return topic.render(TopicVariables{
            gateway_id_, message.sensor, message.instance,
            plugin == plugins_.end() ? std::string_view() : std::string_view(plugin->second), upstream_name_});
    }
    const std::string& gateway_id() const { return gateway_id_; }

private:
    std::string gateway_id_;
    std::string upstream_name_;
    std::map<std::string, std::string> plugins_;
};

}  // namespace gwd
