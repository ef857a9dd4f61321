// A plugin's [sensor.options] table, detached from the TOML library so that
// the plugin host can check it against the plugin's declared options and
// answer the plugin's option_* calls. Every value remembers where it was written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/diagnostics.h"

namespace gwd {

class OptionValue {
public:
    struct Entry;  // a key and its value, as first and second
    using List = std::vector<OptionValue>;
    // In file order. A vector of a type declared here, not of std::pair: a
    // pair of an incomplete type is undefined (clang's libstdc++ checks refuse it).
    using Table = std::vector<Entry>;

    std::variant<std::string, std::int64_t, double, bool, List, Table> value;
    SourceLocation where;      // the value
    SourceLocation key_where;  // its key

    bool is_string() const { return std::holds_alternative<std::string>(value); }
    bool is_integer() const { return std::holds_alternative<std::int64_t>(value); }
    bool is_float() const { return std::holds_alternative<double>(value); }
    bool is_bool() const { return std::holds_alternative<bool>(value); }
    bool is_list() const { return std::holds_alternative<List>(value); }
    bool is_table() const { return std::holds_alternative<Table>(value); }

    // "a string", "an integer", ... for error messages.
    std::string_view type_description() const;

    // Looks up a dotted key ("tls.ca_file") in a table value; a number
    // indexes a list ("devices.0.unit_id").
    const OptionValue* find(std::string_view dotted_key) const;
};

struct OptionValue::Entry {
    std::string first;
    OptionValue second;
};

// Every leaf key of a table (empty tables count as leaves) as a dotted path,
// in file order.
void flatten_option_keys(const OptionValue& table, std::vector<std::pair<std::string, const OptionValue*>>& out,
                         const std::string& prefix = {});

}  // namespace gwd
