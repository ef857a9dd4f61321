#include "plugin_host/option_specs.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "common/units.h"
#include "config/config_loader.h"

namespace gwd {

namespace {

// gwd_option_spec as plugins built for ABI 1 to 4 lay it out: the host
// reads their arrays with this stride.
struct OptionSpecAbi1 {
    const char* name;
    int type;
    int required;
    const char* help;
};

constexpr std::uint32_t kFirstAbiWithDefaults = 5;

bool known_type(int type) { return type >= GWD_OPTION_STRING && type <= GWD_OPTION_STRING_LIST; }

// Both layouts start alike; only the stride and the ABI 5 tail differ.
template <typename Spec>
std::string read_list(const Spec* specs, std::vector<OptionSpec>& out) {
    for (const Spec* s = specs; s->name != nullptr; ++s) {
        OptionSpec spec;
        spec.name = s->name;
        spec.type = s->type;
        spec.required = s->required != 0;
        if (s->help != nullptr) spec.help = s->help;
        const std::string label = "its option '" + spec.name + "'";
        if (!known_type(spec.type)) return label + " has an unknown type";
        if (std::any_of(out.begin(), out.end(), [&](const OptionSpec& o) { return o.name == spec.name; }))
            return label + " is declared twice";
        if constexpr (std::is_same_v<Spec, gwd_option_spec>) {
            for (void* r : s->reserved)
                if (r != nullptr) return label + " fills reserved fields this gatewayd does not know";
            if (s->default_value != nullptr) {
                spec.default_text = s->default_value;
                if (spec.required) return label + " is required and has a default; it can only be one";
                std::string error;
                spec.default_value = parse_option_literal(spec.default_text, error);
                if (!spec.default_value) return label + " has a default '" + spec.default_text + "' that " + error;
                if (std::string problem = option_type_problem(*spec.default_value, spec.type); !problem.empty())
                    return label + " has a default " + spec.default_text + " that " + problem;
            }
        }
        out.push_back(std::move(spec));
    }
    return {};
}

}  // namespace

std::string read_option_specs(const gwd_plugin& plugin, std::vector<OptionSpec>& out) {
    out.clear();
    if (plugin.options == nullptr) return {};
    if (plugin.abi_version < kFirstAbiWithDefaults)
        return read_list(reinterpret_cast<const OptionSpecAbi1*>(plugin.options), out);
    return read_list(plugin.options, out);
}

std::string_view option_type_wanted(int type) {
    switch (type) {
        case GWD_OPTION_STRING: return "a string";
        case GWD_OPTION_INT: return "an integer";
        case GWD_OPTION_FLOAT: return "a number";
        case GWD_OPTION_BOOL: return "true or false";
        case GWD_OPTION_DURATION: return "a duration such as \"5s\"";
        case GWD_OPTION_STRING_LIST: return "a list of strings";
        default: return "a value";
    }
}

std::string_view option_type_name(int type) {
    switch (type) {
        case GWD_OPTION_STRING: return "string";
        case GWD_OPTION_INT: return "integer";
        case GWD_OPTION_FLOAT: return "number";
        case GWD_OPTION_BOOL: return "bool";
        case GWD_OPTION_DURATION: return "duration";
        case GWD_OPTION_STRING_LIST: return "list";
        default: return "value";
    }
}

std::string option_type_problem(const OptionValue& value, int type) {
    bool ok = false;
    switch (type) {
        case GWD_OPTION_STRING: ok = value.is_string(); break;
        case GWD_OPTION_INT: ok = value.is_integer(); break;
        case GWD_OPTION_FLOAT: ok = value.is_float() || value.is_integer(); break;
        case GWD_OPTION_BOOL: ok = value.is_bool(); break;
        case GWD_OPTION_DURATION: {
            if (!value.is_string()) break;
            std::string error;
            const auto& text = std::get<std::string>(value.value);
            if (!parse_duration(text, error)) return "\"" + text + "\" " + error;
            ok = true;
            break;
        }
        case GWD_OPTION_STRING_LIST: {
            if (!value.is_list()) break;
            for (const auto& item : std::get<OptionValue::List>(value.value))
                if (!item.is_string()) return "must hold only strings";
            ok = true;
            break;
        }
        default: break;
    }
    if (ok) return {};
    return "must be " + std::string(option_type_wanted(type)) + ", not " + std::string(value.type_description());
}

}  // namespace gwd
