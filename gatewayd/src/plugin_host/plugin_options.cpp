#include "plugin_host/plugin_options.h"

#include "common/text.h"
#include "common/units.h"

namespace gwd {

namespace {

// Checks one table of options against `specs`; `path` names where it sits
// ("" at the top, "devices[1]." inside a table list) for the messages.
void check_table(const OptionValue& options, const std::vector<OptionSpec>& specs, const std::string& plugin,
                 const std::string& label, const std::string& path, Diagnostics& diags) {
    std::vector<std::string> declared;
    for (const OptionSpec& s : specs) declared.push_back(s.name);

    std::vector<std::pair<std::string, const OptionValue*>> present;
    flatten_option_keys(options, present);
    for (const auto& [key, value] : present) {
        const OptionSpec* spec = nullptr;
        for (const OptionSpec& s : specs)
            if (key == s.name) spec = &s;
        if (spec == nullptr) {
            std::string message = label + ": plugin '" + plugin + "' has no option '" + path + key + "'";
            std::string hint = nearest_match(key, declared);
            if (!hint.empty())
                message += "; did you mean '" + path + hint + "'?";
            else if (declared.empty())
                message += " (it takes no options)";
            diags.error(value->key_where.line > 0 ? value->key_where : value->where, message);
            continue;
        }
        if (std::string problem = option_type_problem(*value, spec->type); !problem.empty()) {
            diags.error(value->where, label + ": option '" + path + key + "' " + problem);
            continue;
        }
        if (spec->type == GWD_OPTION_TABLE_LIST) {
            const auto& list = std::get<OptionValue::List>(value->value);
            for (size_t i = 0; i < list.size(); ++i)
                check_table(list[i], spec->members, plugin, label, path + key + "[" + std::to_string(i) + "].", diags);
        }
    }
    for (const OptionSpec& spec : specs) {
        // A table where a value was declared ("[sensor.options.url]") hides
        // below the leaves checked above; it is no more a string than an integer is.
        const OptionValue* found = options.find(spec.name);
        if (found != nullptr && found->is_table() && !std::get<OptionValue::Table>(found->value).empty()) {
            diags.error(found->key_where.line > 0 ? found->key_where : found->where,
                        label + ": option '" + path + spec.name + "' must be " +
                            std::string(option_type_wanted(spec.type)) + ", not a table");
            continue;
        }
        if (!spec.required || found != nullptr) continue;
        std::string message = label + ": plugin '" + plugin + "' needs option '" + path + spec.name + "'";
        if (!spec.help.empty()) message += " (" + spec.help + ")";
        diags.error(options.where, message);
    }
}

}  // namespace

void check_plugin_options(const OptionValue& options, const std::vector<OptionSpec>& specs, const std::string& plugin,
                          const std::string& label, Diagnostics& diags) {
    check_table(options, specs, plugin, label, "", diags);
}

const OptionValue* effective_option(const OptionValue& options, const std::vector<OptionSpec>& specs,
                                    std::string_view key) {
    if (const OptionValue* set = options.find(key)) return set;
    const OptionSpec* spec = find_option_spec(specs, key);
    if (spec == nullptr || !spec->default_value) return nullptr;
    // A member's default stands only for a table that exists.
    if (key.size() > spec->name.size()) {
        const OptionValue* table = options.find(key.substr(0, key.size() - spec->name.size() - 1));
        if (table == nullptr || !table->is_table()) return nullptr;
    }
    return &*spec->default_value;
}

std::optional<std::string> option_as_string(const OptionValue* v) {
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::get<std::string>(v->value);
}

std::optional<std::int64_t> option_as_int(const OptionValue* v) {
    if (v == nullptr || !v->is_integer()) return std::nullopt;
    return std::get<std::int64_t>(v->value);
}

std::optional<double> option_as_float(const OptionValue* v) {
    if (v == nullptr) return std::nullopt;
    if (v->is_float()) return std::get<double>(v->value);
    if (v->is_integer()) return static_cast<double>(std::get<std::int64_t>(v->value));
    return std::nullopt;
}

std::optional<bool> option_as_bool(const OptionValue* v) {
    if (v == nullptr || !v->is_bool()) return std::nullopt;
    return std::get<bool>(v->value);
}

std::optional<std::int64_t> option_as_duration_ms(const OptionValue* v) {
    auto text = option_as_string(v);
    if (!text) return std::nullopt;
    std::string error;
    auto d = parse_duration(*text, error);
    if (!d) return std::nullopt;
    return d->count();
}

std::optional<std::vector<std::string>> option_as_string_list(const OptionValue* v) {
    if (v == nullptr || !v->is_list()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& item : std::get<OptionValue::List>(v->value)) {
        if (!item.is_string()) return std::nullopt;
        out.push_back(std::get<std::string>(item.value));
    }
    return out;
}

}  // namespace gwd
