// Names of MQTT reason codes (v5) and CONNACK return codes (v3.1.1), so that
// logs and status say "Not authorized (0x87)" rather than a bare number.
#pragma once

#include <string>
#include <string_view>

namespace gwd {

// MQTT 5.0 section 2.4: the names of reason codes 0x00..0xA2.
std::string_view mqtt5_reason_name(int code);

// MQTT 3.1.1 section 3.2.2.3: CONNACK return codes 0..5.
std::string_view mqtt311_return_code_name(int code);

// "Not authorized (0x87)".
std::string describe_reason(int mqtt_version, int code);

}  // namespace gwd
