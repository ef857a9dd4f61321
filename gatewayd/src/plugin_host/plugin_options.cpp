#include "plugin_host/plugin_options.h"

#include "common/text.h"
#include "common/units.h"

namespace gwd {

namespace {
std::string_view wanted_description(int type) {
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

// An empty string when `value` suits `type`, else why not.
std::string type_problem(const OptionValue& value, int type) {
    bool ok = false;
    switch (type) {
        case GWD_OPTION_STRING: ok = value.is_string(); break;
        case GWD_OPTION_INT: ok = value.is_integer(); break;
        case GWD_OPTION_FLOAT: ok = value.is_float() || value.is_integer(); break;
        case GWD_OPTION_BOOL: ok = value.is_bool(); break;
        case GWD_OPTION_DURATION: {
            if (!value.is_string()) break;
            std::string error;
            if (!parse_duration(std::get<std::string>(value.value), error)) return "\"" + std::get<std::string>(value.value) + "\" " + error;
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
    return "must be " + std::string(wanted_description(type)) + ", not " + std::string(value.type_description());
}
}  // namespace

void check_plugin_options(const OptionValue& options, const gwd_option_spec* specs, const std::string& plugin,
                          const std::string& label, Diagnostics& diags) {
    std::vector<std::string> declared;
    if (specs != nullptr)
        for (const gwd_option_spec* s = specs; s->name != nullptr; ++s) declared.emplace_back(s->name);

    std::vector<std::pair<std::string, const OptionValue*>> present;
    flatten_option_keys(options, present);
    for (const auto& [key, value] : present) {
        const gwd_option_spec* spec = nullptr;
        if (specs != nullptr)
            for (const gwd_option_spec* s = specs; s->name != nullptr; ++s)
                if (key == s->name) spec = s;
        if (spec == nullptr) {
            std::string message = label + ": plugin '" + plugin + "' has no option '" + key + "'";
            std::string hint = nearest_match(key, declared);
            if (!hint.empty()) message += "; did you mean '" + hint + "'?";
            else if (declared.empty()) message += " (it takes no options)";
            diags.error(value->key_where.line > 0 ? value->key_where : value->where, message);
            continue;
        }
        if (std::string problem = type_problem(*value, spec->type); !problem.empty()) {
            diags.error(value->where, label + ": option '" + key + "' " + problem);
        }
    }
    if (specs == nullptr) return;
    for (const gwd_option_spec* s = specs; s->name != nullptr; ++s) {
        // A table where a value was declared ("[sensor.options.url]") hides
        // below the leaves checked above; it is no more a string than an integer is.
        const OptionValue* found = options.find(s->name);
        if (found != nullptr && found->is_table() && !std::get<OptionValue::Table>(found->value).empty()) {
            diags.error(found->key_where.line > 0 ? found->key_where : found->where,
                        label + ": option '" + s->name + "' must be " + std::string(wanted_description(s->type)) +
                            ", not a table");
            continue;
        }
        if (!s->required || found != nullptr) continue;
        std::string message = label + ": plugin '" + plugin + "' needs option '" + s->name + "'";
        if (s->help != nullptr && s->help[0] != '\0') message += std::string(" (") + s->help + ")";
        diags.error(options.where, message);
    }
}

std::optional<std::string> option_as_string(const OptionValue& options, const std::string& key) {
    const OptionValue* v = options.find(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::get<std::string>(v->value);
}

std::optional<std::int64_t> option_as_int(const OptionValue& options, const std::string& key) {
    const OptionValue* v = options.find(key);
    if (v == nullptr || !v->is_integer()) return std::nullopt;
    return std::get<std::int64_t>(v->value);
}

std::optional<double> option_as_float(const OptionValue& options, const std::string& key) {
    const OptionValue* v = options.find(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_float()) return std::get<double>(v->value);
    if (v->is_integer()) return static_cast<double>(std::get<std::int64_t>(v->value));
    return std::nullopt;
}

std::optional<bool> option_as_bool(const OptionValue& options, const std::string& key) {
    const OptionValue* v = options.find(key);
    if (v == nullptr || !v->is_bool()) return std::nullopt;
    return std::get<bool>(v->value);
}

std::optional<std::int64_t> option_as_duration_ms(const OptionValue& options, const std::string& key) {
    auto text = option_as_string(options, key);
    if (!text) return std::nullopt;
    std::string error;
    auto d = parse_duration(*text, error);
    if (!d) return std::nullopt;
    return d->count();
}

std::optional<std::vector<std::string>> option_as_string_list(const OptionValue& options, const std::string& key) {
    const OptionValue* v = options.find(key);
    if (v == nullptr || !v->is_list()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& item : std::get<OptionValue::List>(v->value)) {
        if (!item.is_string()) return std::nullopt;
        out.push_back(std::get<std::string>(item.value));
    }
    return out;
}

}  // namespace gwd
