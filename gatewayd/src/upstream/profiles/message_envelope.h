// A Message folded into one JSON object, for transports without MQTT v5
// properties (profile = "mqtt" on 3.1.1, and Huawei's dead letters):
//
//   {"gateway":"gw-01","sensor":"sensor02","ts":1763803200123,
//    "content_type":"text/plain","properties":{"vendor":"huawei"},"payload":"23.7"}
//
// "payload" is the JSON value itself for application/json, a string for other
// text, and base64 with "payload_encoding":"base64" for binary. Keys that
// repeat in the user properties become arrays of their values, in order. A
// dead letter adds "error".
#pragma once

#include <string>
#include <string_view>

#include "common/message.h"

namespace gwd {

std::string message_envelope(const Message& message, std::string_view gateway_id);

}  // namespace gwd
