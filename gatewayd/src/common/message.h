// The values that travel through the daemon: a reading as a plugin emitted it
// (borrowed view) and the normalized message the router and upstreams carry.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gwd {

struct UserProperty {
    std::string key;
    std::string value;
    bool operator==(const UserProperty&) const = default;
};
using UserProperties = std::vector<UserProperty>;

struct PropertyView {
    std::string_view key;
    std::string_view value;
};

// A reading exactly as emitted; it borrows the plugin's buffers for the
// duration of emit().
struct ReadingView {
    std::string_view sensor;    // reading name, {sensor} in topics
    std::string_view instance;  // the [[sensor]] entry that produced it
    std::int64_t timestamp_ms = 0;
    std::string_view payload;
    std::optional<std::string_view> content_type;
    std::span<const PropertyView> properties;
    std::uint32_t message_expiry_s = 0;  // its own expiry, counted from now; 0: none
};

// A normalized reading. Immutable once built; shared between upstreams.
struct Message {
    enum class Kind : std::uint8_t { data, dead_letter };

    Kind kind = Kind::data;
    std::string sensor;
    std::string instance;
    std::int64_t timestamp_ms = 0;   // when it was measured (the plugin's clock)
    std::int64_t accepted_ms = 0;    // when the daemon accepted it (wall clock)
    std::int64_t expires_at_ms = 0;  // wall clock after which it is not worth sending; 0: never
    std::string payload;             // decoded bytes
    std::string content_type;        // canonical MIME type
    bool utf8 = false;               // MQTT v5 Payload Format Indicator
    UserProperties properties;       // canonical user properties, in order
    std::string error;               // dead letters: why the payload was refused

    size_t approximate_size() const {
        size_t n =
            sizeof(Message) + sensor.size() + instance.size() + payload.size() + content_type.size() + error.size();
        for (const auto& p : properties) n += sizeof(UserProperty) + p.key.size() + p.value.size();
        return n;
    }
};

}  // namespace gwd
