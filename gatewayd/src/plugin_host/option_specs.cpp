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
constexpr std::uint32_t kFirstAbiWithTables = 6;

bool known_type(int type, std::uint32_t abi) {
    if (type == GWD_OPTION_TABLE_LIST) return abi >= kFirstAbiWithTables;
    return type >= GWD_OPTION_STRING && type <= GWD_OPTION_STRING_LIST;
}

// Where a spec named "devices[].registers[].address" belongs: the members of
// the table list "devices[].registers" declared before it. Top level for a
// name without "[].". nullptr when that list is not declared (yet).
std::vector<OptionSpec>* level_of(std::vector<OptionSpec>& top, std::string_view path) {
    std::vector<OptionSpec>* level = &top;
    size_t start = 0;
    while (true) {
        const size_t mark = path.find("[].", start);
        if (mark == std::string_view::npos) return level;
        const std::string_view list = path.substr(start, mark - start);
        OptionSpec* found = nullptr;
        for (OptionSpec& s : *level)
            if (s.name == list && s.type == GWD_OPTION_TABLE_LIST) found = &s;
        if (found == nullptr) return nullptr;
        level = &found->members;
        start = mark + 3;
    }
}

// A table list without members could hold no key at all.
std::string check_members(const std::vector<OptionSpec>& level) {
    for (const OptionSpec& s : level) {
        if (s.type != GWD_OPTION_TABLE_LIST) continue;
        if (s.members.empty())
            return "its option '" + s.path + "' is a table list that declares no members ('" + s.path + "[].<key>')";
        if (std::string problem = check_members(s.members); !problem.empty()) return problem;
    }
    return {};
}

// Both layouts start alike; only the stride and the ABI 5 tail differ.
template <typename Spec>
std::string read_list(const Spec* specs, std::uint32_t abi, std::vector<OptionSpec>& out) {
    for (const Spec* s = specs; s->name != nullptr; ++s) {
        OptionSpec spec;
        spec.path = s->name;
        spec.type = s->type;
        spec.required = s->required != 0;
        if (s->help != nullptr) spec.help = s->help;
        const std::string label = "its option '" + spec.path + "'";
        if (!known_type(spec.type, abi)) return label + " has an unknown type";
        std::vector<OptionSpec>* level = &out;
        // Before ABI 6 a name is just a name, whatever it holds.
        const size_t mark = abi >= kFirstAbiWithTables ? spec.path.rfind("[].") : std::string::npos;
        spec.name = mark == std::string::npos ? spec.path : spec.path.substr(mark + 3);
        if (mark != std::string::npos) {
            level = level_of(out, spec.path);
            if (level == nullptr)
                return label + " is a member of '" + spec.path.substr(0, mark) +
                       "', which is not declared before it as a table list";
            if (spec.name.empty()) return label + " has an empty member name";
        }
        if (std::any_of(level->begin(), level->end(), [&](const OptionSpec& o) { return o.name == spec.name; }))
            return label + " is declared twice";
        if constexpr (std::is_same_v<Spec, gwd_option_spec>) {
            for (void* r : s->reserved)
                if (r != nullptr) return label + " fills reserved fields this gatewayd does not know";
            if (spec.type == GWD_OPTION_TABLE_LIST && s->default_value != nullptr)
                return label + " is a table list with a default; it cannot have one";
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
        level->push_back(std::move(spec));
    }
    return check_members(out);
}

}  // namespace

std::string read_option_specs(const gwd_plugin& plugin, std::vector<OptionSpec>& out) {
    out.clear();
    if (plugin.options == nullptr) return {};
    if (plugin.abi_version < kFirstAbiWithDefaults)
        return read_list(reinterpret_cast<const OptionSpecAbi1*>(plugin.options), plugin.abi_version, out);
    return read_list(plugin.options, plugin.abi_version, out);
}

void all_option_specs(const std::vector<OptionSpec>& specs, std::vector<const OptionSpec*>& out) {
    for (const OptionSpec& s : specs) {
        out.push_back(&s);
        all_option_specs(s.members, out);
    }
}

const OptionSpec* find_option_spec(const std::vector<OptionSpec>& specs, std::string_view key) {
    for (const OptionSpec& s : specs) {
        if (key == s.name) return &s;
        // A name may hold dots itself ("tls.ca_file"); a table list's members
        // follow its name and an index ("devices.0.unit_id").
        if (s.type != GWD_OPTION_TABLE_LIST || key.size() <= s.name.size() || key.substr(0, s.name.size()) != s.name ||
            key[s.name.size()] != '.')
            continue;
        std::string_view rest = key.substr(s.name.size() + 1);
        const size_t dot = rest.find('.');
        if (dot == 0 || dot == std::string_view::npos ||
            rest.substr(0, dot).find_first_not_of("0123456789") != std::string_view::npos)
            return nullptr;
        return find_option_spec(s.members, rest.substr(dot + 1));
    }
    return nullptr;
}

std::string_view option_type_wanted(int type) {
    switch (type) {
        case GWD_OPTION_STRING: return "a string";
        case GWD_OPTION_INT: return "an integer";
        case GWD_OPTION_FLOAT: return "a number";
        case GWD_OPTION_BOOL: return "true or false";
        case GWD_OPTION_DURATION: return "a duration such as \"5s\"";
        case GWD_OPTION_STRING_LIST: return "a list of strings";
        case GWD_OPTION_TABLE_LIST: return "a list of tables";
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
        case GWD_OPTION_TABLE_LIST: return "tables";
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
        case GWD_OPTION_TABLE_LIST: {
            if (!value.is_list()) break;
            for (const auto& item : std::get<OptionValue::List>(value.value))
                if (!item.is_table()) return "must hold only tables";
            ok = true;
            break;
        }
        default: break;
    }
    if (ok) return {};
    return "must be " + std::string(option_type_wanted(type)) + ", not " + std::string(value.type_description());
}

}  // namespace gwd
