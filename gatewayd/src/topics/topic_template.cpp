#include "topics/topic_template.h"

#include <stdexcept>

#include "common/text.h"

namespace gwd {

TopicTemplate TopicTemplate::compile_checked(std::string_view text) {
    std::string error;
    auto compiled = compile(text, error);
    if (!compiled) throw std::logic_error("unchecked topic template: " + error);
    return std::move(*compiled);
}

const std::vector<std::string>& TopicTemplate::variable_names() {
    static const std::vector<std::string> names = {"gateway", "sensor", "instance", "plugin", "upstream"};
    return names;
}

std::optional<TopicTemplate> TopicTemplate::compile(std::string_view text, std::string& error) {
    if (text.empty()) {
        error = "topic template is empty";
        return std::nullopt;
    }
    TopicTemplate t;
    t.text_ = std::string(text);
    size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (c == '{') {
            size_t close = text.find('}', i);
            if (close == std::string_view::npos) {
                error = "'{' at column " + std::to_string(i + 1) + " of the topic template is not closed";
                return std::nullopt;
            }
            std::string name(text.substr(i + 1, close - i - 1));
            const auto& names = variable_names();
            size_t index = 0;
            while (index < names.size() && names[index] != name) ++index;
            if (index == names.size()) {
                std::string hint = nearest_match(name, names);
                error = "unknown topic variable {" + name + "}";
                if (!hint.empty())
                    error += "; did you mean {" + hint + "}?";
                else
                    error += " (known: {gateway}, {sensor}, {instance}, {plugin}, {upstream})";
                return std::nullopt;
            }
            t.parts_.push_back({true, static_cast<Var>(index), {}});
            i = close + 1;
            continue;
        }
        if (c == '+' || c == '#') {
            error =
                std::string("topic template contains the wildcard '") + c + "', which is not allowed in a topic name";
            return std::nullopt;
        }
        if (c == '\0' || c == '}') {
            error = c == '}' ? "'}' without '{' in the topic template" : "topic template contains a NUL byte";
            return std::nullopt;
        }
        if (t.parts_.empty() || t.parts_.back().is_var) t.parts_.push_back({false, Var::gateway, {}});
        t.parts_.back().literal += c;
        ++i;
    }
    if (std::string problem = mqtt_string_problem(text); !problem.empty()) {
        error = "topic template " + problem;
        return std::nullopt;
    }
    return t;
}

std::string TopicTemplate::render(const TopicVariables& vars) const {
    std::string out;
    out.reserve(text_.size() + vars.sensor.size() + vars.gateway.size());
    for (const auto& part : parts_) {
        if (!part.is_var) {
            out += part.literal;
            continue;
        }
        switch (part.var) {
            case Var::gateway: out += vars.gateway; break;
            case Var::sensor: out += vars.sensor; break;
            case Var::instance: out += vars.instance; break;
            case Var::plugin: out += vars.plugin; break;
            case Var::upstream: out += vars.upstream; break;
        }
    }
    return out;
}

std::string topic_value_problem(std::string_view value) {
    if (value.empty()) return "is empty";
    if (value.size() > 256) return "is longer than 256 bytes";
    for (unsigned char c : value) {
        if (c == '+' || c == '#') return std::string("contains the MQTT wildcard '") + static_cast<char>(c) + "'";
    }
    return mqtt_string_problem(value);
}

}  // namespace gwd
