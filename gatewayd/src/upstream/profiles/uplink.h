// What a profile's uplink codec produces from a canonical Message: one
// platform publish. Kept free of Paho types so codecs stay pure.
#pragma once

#include <optional>
#include <string>

#include "common/message.h"

namespace gwd {

struct PublishRequest {
    std::string topic;
    std::string payload;
    int qos = 1;
    bool retain = false;
    // MQTT v5 properties; ignored on 3.1.1 connections.
    std::optional<std::string> content_type;
    std::optional<int> payload_format;  // 0 bytes, 1 UTF-8
    UserProperties properties;
};

class UplinkCodec {
public:
    virtual ~UplinkCodec() = default;
    // nullopt when this upstream does not carry the message (a dead letter on
    // an upstream without a dead-letter topic).
    virtual std::optional<PublishRequest> encode(const Message& message) const = 0;
};

}  // namespace gwd
