#include "topics/aws_topic.h"

#include <algorithm>
#include <cctype>

namespace gwd {

namespace {

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
}

// Drops "<first><name>/" from the front of `topic` when it starts with `first`.
std::string_view strip_prefix(std::string_view topic, std::string_view first) {
    if (!starts_with_ignoring_case(topic, first)) return topic;
    const size_t name_end = topic.find('/', first.size());
    return name_end == std::string_view::npos ? std::string_view() : topic.substr(name_end + 1);
}

}  // namespace

std::string_view aws_counted_topic(std::string_view topic) {
    return strip_prefix(strip_prefix(topic, "$share/"), "$aws/rules/");
}

int aws_topic_levels(std::string_view topic) {
    const std::string_view counted = aws_counted_topic(topic);
    if (counted.empty()) return 0;
    return 1 + static_cast<int>(std::count(counted.begin(), counted.end(), '/'));
}

std::optional<std::string> aws_topic_problem(std::string_view topic) {
    const std::string_view counted = aws_counted_topic(topic);
    const bool prefixed = counted.size() != topic.size();
    if (counted.size() > kAwsMaxTopicBytes)
        return "the topic is " + std::to_string(counted.size()) + " bytes" +
               (prefixed ? std::string(" after its $aws/rules/<rule>/ prefix") : std::string()) +
               "; AWS IoT Core allows at most " + std::to_string(kAwsMaxTopicBytes);
    const int levels = aws_topic_levels(topic);
    if (levels > kAwsMaxTopicLevels)
        return "the topic has " + std::to_string(levels) + " levels; AWS IoT Core allows at most " +
               std::to_string(kAwsMaxTopicLevels) + " (not counting $aws/rules/<rule>/)";
    return std::nullopt;
}

}  // namespace gwd
