// profile = "mqtt": any MQTT broker. Topic from the upstream's template; on
// MQTT v5 the canonical metadata travels as properties (Content Type, Payload
// Format Indicator, user properties); with `envelope` (the default on 3.1.1,
// which has no properties) it is folded into a JSON payload
// (message_envelope.h).
#pragma once

#include <map>
#include <string>

#include "config/config.h"
#include "topics/topic_template.h"
#include "upstream/profiles/uplink.h"

namespace gwd {

class MqttUplinkCodec final : public UplinkCodec {
public:
    // `plugins` maps [[sensor]] names to their plugin, for {plugin}.
    MqttUplinkCodec(const UpstreamConfig& upstream, std::string gateway_id, std::map<std::string, std::string> plugins);

    std::optional<PublishRequest> encode(const Message& message, std::uint64_t id) const override;

private:
    std::string upstream_name_;
    std::string gateway_id_;
    std::map<std::string, std::string> plugins_;
    TopicTemplate topic_;
    std::optional<TopicTemplate> dead_letter_topic_;
    int qos_;
    bool retain_;
    bool envelope_;
};

}  // namespace gwd
