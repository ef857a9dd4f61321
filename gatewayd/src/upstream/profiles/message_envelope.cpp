#include "upstream/profiles/message_envelope.h"

#include <algorithm>
#include <vector>

#include "common/encoding.h"
#include "common/json.h"

namespace gwd {

std::string message_envelope(const Message& message, std::string_view gateway_id) {
    std::string out;
    out.reserve(message.payload.size() + 160);
    out += "{\"gateway\":" + json_quote(gateway_id);
    out += ",\"sensor\":" + json_quote(message.sensor);
    out += ",\"ts\":" + std::to_string(message.timestamp_ms);
    out += ",\"content_type\":" + json_quote(message.content_type);
    if (!message.properties.empty()) {
        out += ",\"properties\":{";
        // Group repeated keys, keeping first-seen order of keys and values.
        std::vector<std::pair<std::string, std::vector<const std::string*>>> groups;
        for (const auto& p : message.properties) {
            auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == p.key; });
            if (it == groups.end())
                groups.push_back({p.key, {&p.value}});
            else
                it->second.push_back(&p.value);
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
