#include "upstream/profiles/aws_topic.h"

#include <algorithm>

namespace gwd {

namespace {

// Drops "<first>/<name>/" from the front of `topic` when it starts with `first`.
std::string_view strip_prefix(std::string_view topic, std::string_view first) {
    if (topic.substr(0, first.size()) != first) return topic;
    const size_t name_end = topic.find('/', first.size());
    return name_end == std::string_view::npos ? std::string_view() : topic.substr(name_end + 1);
}

}  // namespace

int aws_topic_levels(std::string_view topic) {
    std::string_view counted = strip_prefix(topic, "$share/");
    counted = strip_prefix(counted, "$aws/rules/");
    if (counted.empty()) return 0;
    return 1 + static_cast<int>(std::count(counted.begin(), counted.end(), '/'));
}

std::optional<std::string> aws_topic_problem(std::string_view topic) {
    if (topic.size() > kAwsMaxTopicBytes)
        return "the topic is " + std::to_string(topic.size()) + " bytes; AWS IoT Core allows at most " +
               std::to_string(kAwsMaxTopicBytes);
    const int levels = aws_topic_levels(topic);
    if (levels > kAwsMaxTopicLevels)
        return "the topic has " + std::to_string(levels) + " levels; AWS IoT Core allows at most " +
               std::to_string(kAwsMaxTopicLevels) + " (not counting $aws/rules/<rule>/)";
    return std::nullopt;
}

}  // namespace gwd
