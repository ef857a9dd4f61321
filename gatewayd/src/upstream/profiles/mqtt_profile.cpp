#include "upstream/profiles/mqtt_profile.h"

#include "upstream/profiles/batch_envelope.h"
#include "upstream/profiles/message_envelope.h"

namespace gwd {

MqttUplinkCodec::MqttUplinkCodec(const UpstreamConfig& upstream, std::string gateway_id,
                                 std::map<std::string, std::string> plugins)
    : reading_topic_(std::move(gateway_id), upstream.name, std::move(plugins)),
      topic_(TopicTemplate::compile_checked(upstream.topic)),
      qos_(upstream.qos),
      retain_(upstream.retain),
      envelope_(upstream.envelope),
      batch_(upstream.batch) {
    if (!upstream.dead_letter_topic.empty())
        dead_letter_topic_ = TopicTemplate::compile_checked(upstream.dead_letter_topic);
}

std::optional<PublishRequest> MqttUplinkCodec::encode(const Message& message, std::uint64_t) const {
    const bool dead = message.kind == Message::Kind::dead_letter;
    if (dead && !dead_letter_topic_) return std::nullopt;

    PublishRequest request;
    request.topic = reading_topic_.render(dead ? *dead_letter_topic_ : topic_, message);
    request.qos = qos_;
    request.retain = dead ? false : retain_;
    if (envelope_) {
        request.payload = message_envelope(message, reading_topic_.gateway_id());
        request.content_type = "application/json";
        request.payload_format = 1;
        return request;
    }
    if (dead) {
        // Copied: a platform's codec rewrites a dead letter's payload.
        request.payload = message.payload;
        request.content_type = message.content_type;
    } else {
        request.borrow_body(message);
    }
    request.payload_format = message.utf8 ? 1 : 0;
    request.properties = message.properties;
    if (dead) request.properties.push_back({"error", message.error});
    return request;
}

std::string MqttUplinkCodec::batch_key(const Message& message) const {
    if (!batch_.enabled() || message.kind != Message::Kind::data) return {};
    return reading_topic_.render(topic_, message);
}

std::optional<PublishRequest> MqttUplinkCodec::encode_batch(std::span<const UplinkItem> items) const {
    const Message& first = *items.front().message;
    if (!batch_.enabled() || first.kind != Message::Kind::data) return encode(first, items.front().id);
    PublishRequest request;
    request.topic = reading_topic_.render(topic_, first);
    request.qos = qos_;
    request.retain = retain_;
    request.payload = envelope_array(items, reading_topic_.gateway_id());
    request.content_type = "application/json";
    request.payload_format = 1;
    if (!envelope_) request.properties = shared_properties(items);
    return request;
}

}  // namespace gwd
