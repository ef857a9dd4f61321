#include "upstream/profiles/mqtt_profile.h"

#include <algorithm>
#include <stdexcept>

#include "common/encoding.h"
#include "common/json.h"
#include "normalize/content_type.h"

namespace gwd {


MqttUplinkCodec::MqttUplinkCodec(const UpstreamConfig& upstream, std::string gateway_id,
                                 std::map<std::string, std::string> plugins)
    : upstream_name_(upstream.name),
      gateway_id_(std::move(gateway_id)),
      plugins_(std::move(plugins)),
      topic_(TopicTemplate::compile_checked(upstream.topic)),
      qos_(upstream.qos),
      retain_(upstream.retain),
      envelope_(upstream.envelope) {
    if (!upstream.dead_letter_topic.empty()) dead_letter_topic_ = TopicTemplate::compile_checked(upstream.dead_letter_topic);
}

std::optional<PublishRequest> MqttUplinkCodec::encode(const Message& message, std::uint64_t) const {
    const bool dead = message.kind == Message::Kind::dead_letter;
    if (dead && !dead_letter_topic_) return std::nullopt;

    auto plugin = plugins_.find(message.instance);
    TopicVariables vars{gateway_id_, message.sensor, message.instance,
                        plugin == plugins_.end() ? std::string_view() : std::string_view(plugin->second),
                        upstream_name_};
    PublishRequest request;
    request.topic = dead ? dead_letter_topic_->render(vars) : topic_.render(vars);
    request.qos = qos_;
    request.retain = dead ? false : retain_;
    if (envelope_) {
        request.payload = envelope(message);
        request.content_type = "application/json";
        request.payload_format = 1;
        return request;
    }
    request.payload = message.payload;
    request.content_type = message.content_type;
    request.payload_format = message.utf8 ? 1 : 0;
    request.properties = message.properties;
    if (dead) request.properties.push_back({"error", message.error});
    return request;
}

std::string MqttUplinkCodec::envelope(const Message& message) const {
    std::string out;
    out.reserve(message.payload.size() + 160);
    out += "{\"gateway\":" + json_quote(gateway_id_);
    out += ",\"sensor\":" + json_quote(message.sensor);
    out += ",\"ts\":" + std::to_string(message.timestamp_ms);
    out += ",\"content_type\":" + json_quote(message.content_type);
    if (!message.properties.empty()) {
        out += ",\"properties\":{";
        // Group repeated keys, keeping first-seen order of keys and values.
        std::vector<std::pair<std::string, std::vector<const std::string*>>> groups;
        for (const auto& p : message.properties) {
            auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == p.key; });
            if (it == groups.end()) groups.push_back({p.key, {&p.value}});
            else it->second.push_back(&p.value);
        }
        bool first = true;
        for (const auto& [key, values] : groups) {
            if (!first) out += ',';
            first = false;
            out += json_quote(key) + ":";
            if (values.size() == 1) {
                out += json_quote(*values.front());
            } else {
                out += '[';
                for (size_t i = 0; i < values.size(); ++i) {
                    if (i != 0) out += ',';
                    out += json_quote(*values[i]);
                }
                out += ']';
            }
        }
        out += '}';
    }
    if (message.kind == Message::Kind::dead_letter) out += ",\"error\":" + json_quote(message.error);
    const bool json_payload = message.content_type.starts_with("application/json") && json_is_valid(message.payload);
    if (json_payload) {
        out += ",\"payload\":";
        out += message.payload;
    } else if (message.utf8) {
        out += ",\"payload\":" + json_quote(message.payload);
    } else {
        out += ",\"payload_encoding\":\"base64\",\"payload\":" + json_quote(base64_encode(message.payload));
    }
    out += '}';
    return out;
}

}  // namespace gwd
