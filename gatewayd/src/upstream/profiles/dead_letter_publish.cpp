#include "upstream/profiles/dead_letter_publish.h"

#include "router/topic_template.h"

namespace gwd {

std::optional<PublishRequest> dead_letter_publish(const UpstreamConfig& upstream, const std::string& gateway_id,
                                                  const Message& message) {
    if (upstream.dead_letter_topic.empty()) return std::nullopt;
    std::string error;
    auto topic = TopicTemplate::compile(upstream.dead_letter_topic, error);
    if (!topic) return std::nullopt;  // checked by the config loader
    PublishRequest r;
    r.topic = topic->render(TopicVariables{gateway_id, message.sensor, message.instance, {}, upstream.name});
    r.payload = message.payload;
    r.qos = upstream.qos;
    r.content_type = message.content_type;
    r.payload_format = message.utf8 ? 1 : 0;
    r.properties = message.properties;
    r.properties.push_back({"error", message.error});
    return r;
}

}  // namespace gwd
