// AWS IoT Core's topic limits (its message broker limits,
// https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits): at most 256
// bytes and at most 8 levels, both counted after a leading "$share/<group>/"
// and "$aws/rules/<rule>/" (matched case-insensitively), as aws-c-mqtt's
// aws_mqtt_is_valid_topic_for_iot_core() counts them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gwd {

inline constexpr size_t kAwsMaxTopicBytes = 256;
inline constexpr int kAwsMaxTopicLevels = 8;

// What AWS counts of `topic`: without "$share/<group>/", then without
// "$aws/rules/<rule>/".
std::string_view aws_counted_topic(std::string_view topic);

// The number of levels AWS counts in `topic`.
int aws_topic_levels(std::string_view topic);

// nullopt when AWS accepts `topic`, else the sentence saying why not.
std::optional<std::string> aws_topic_problem(std::string_view topic);

}  // namespace gwd
