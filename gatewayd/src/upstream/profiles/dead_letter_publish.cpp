#include "upstream/profiles/dead_letter_publish.h"

namespace gwd {

DeadLetterPublisher::DeadLetterPublisher(const UpstreamConfig& upstream, std::string gateway_id)
    : gateway_id_(std::move(gateway_id)), upstream_name_(upstream.name), qos_(upstream.qos) {
    if (!upstream.dead_letter_topic.empty()) topic_ = TopicTemplate::compile_checked(upstream.dead_letter_topic);
}

std::optional<PublishRequest> DeadLetterPublisher::encode(const Message& message) const {
    if (!topic_) return std::nullopt;
    PublishRequest r;
    r.topic = topic_->render(TopicVariables{gateway_id_, message.sensor, message.instance, {}, upstream_name_});
    r.payload = message.payload;
    r.qos = qos_;
    r.content_type = message.content_type;
    r.payload_format = message.utf8 ? 1 : 0;
    r.properties = message.properties;
    r.properties.push_back({"error", message.error});
    return r;
}

}  // namespace gwd
