// profile = "mqtt": any MQTT broker. Topic from the upstream's template; on
// MQTT v5 the canonical metadata travels as properties (Content Type, Payload
// Format Indicator, user properties); with `envelope` (the default on 3.1.1,
// which has no properties) it is folded into a JSON payload
// (message_envelope.h). With `batch`, readings for one topic travel together
// as a JSON array of envelopes (batch_envelope.h).
#pragma once

#include <map>
#include <string>

#include "config/config.h"
#include "topics/topic_template.h"
#include "upstream/profiles/reading_topic.h"
#include "upstream/profiles/uplink.h"

namespace gwd {

class MqttUplinkCodec final : public UplinkCodec {
public:
    // `plugins` maps [[sensor]] names to their plugin, for {plugin}.
    MqttUplinkCodec(const UpstreamConfig& upstream, std::string gateway_id, std::map<std::string, std::string> plugins);

    std::optional<PublishRequest> encode(const Message& message, std::uint64_t id) const override;
    std::string batch_key(const Message& message) const override;
    size_t max_batch(std::string_view) const override { return batch_.max_readings; }
    std::optional<PublishRequest> encode_batch(std::span<const UplinkItem> items) const override;

private:
    ReadingTopic reading_topic_;
    TopicTemplate topic_;
    std::optional<TopicTemplate> dead_letter_topic_;
    int qos_;
    bool retain_;
    bool envelope_;
    BatchConfig batch_;
};

}  // namespace gwd
