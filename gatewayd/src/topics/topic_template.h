// Topic templates such as "telemetry/{gateway}/{sensor}". Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gwd {

struct TopicVariables {
    std::string_view gateway;   // [gateway] id
    std::string_view sensor;    // the reading's name
    std::string_view instance;  // the [[sensor]] entry that produced it
    std::string_view plugin;    // that entry's plugin
    std::string_view upstream;  // the [[upstream]] name
};

class TopicTemplate {
public:
    static const std::vector<std::string>& variable_names();  // gateway, sensor, instance, plugin, upstream

    // Fails, with a sentence in `error`, on an empty template, an unknown or
    // unclosed {variable} (naming the nearest known one), or a literal '+', '#'
    // or NUL, which are not allowed in topic names.
    static std::optional<TopicTemplate> compile(std::string_view text, std::string& error);
    // For templates the config loader has already checked: a failure here
    // is a bug, and throws std::logic_error.
    static TopicTemplate compile_checked(std::string_view text);

    std::string render(const TopicVariables& vars) const;
    const std::string& text() const { return text_; }

private:
    enum class Var { gateway, sensor, instance, plugin, upstream };
    struct Part {
        bool is_var;
        Var var;
        std::string literal;
    };
    std::vector<Part> parts_;
    std::string text_;
};

// Characters that may not appear in a name that is substituted into a topic.
// Returns a sentence fragment, or empty when `value` is acceptable.
std::string topic_value_problem(std::string_view value);

}  // namespace gwd
