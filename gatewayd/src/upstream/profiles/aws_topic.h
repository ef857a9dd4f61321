// AWS IoT Core's topic limits (platforms.md 1.3, TV-AWS-2): at most 256
// bytes, and at most 8 levels, not counting a leading "$share/<group>/" or
// "$aws/rules/<rule>/".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gwd {

inline constexpr size_t kAwsMaxTopicBytes = 256;
inline constexpr int kAwsMaxTopicLevels = 8;

// The number of levels AWS counts in `topic`.
int aws_topic_levels(std::string_view topic);

// nullopt when AWS accepts `topic`, else the sentence saying why not.
std::optional<std::string> aws_topic_problem(std::string_view topic);

}  // namespace gwd
