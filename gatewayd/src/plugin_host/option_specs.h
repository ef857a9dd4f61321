// The options a plugin declares, read once from its descriptor into the
// host's own form: every ABI's gwd_option_spec layout, each default parsed
// and checked against its type. Everything else in the host uses this form.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/option_table.h"
#include "gatewayd/plugin.h"

namespace gwd {

struct OptionSpec {
    std::string name;  // the key in its table: "address"
    std::string path;  // as declared: "devices[].registers[].address"
    int type = 0;      // enum gwd_option_type
    bool required = false;
    std::string help;
    std::string default_text;                  // as the plugin wrote it; empty: none
    std::optional<OptionValue> default_value;  // parsed from default_text
    std::vector<OptionSpec> members;           // GWD_OPTION_TABLE_LIST: each table's keys
};

// Every spec, members after their table list, depth first.
void all_option_specs(const std::vector<OptionSpec>& specs, std::vector<const OptionSpec*>& out);

// The spec a key names, members reached through list indexes
// ("devices.0.registers.2.scale" → devices / registers / scale); nullptr when
// none does.
const OptionSpec* find_option_spec(const std::vector<OptionSpec>& specs, std::string_view key);

// Reads the NULL-terminated spec list of `plugin` (none when options is
// NULL). Returns an empty string, or why the list cannot be used: an unknown
// type, a name given twice, a reserved field set, a default that is not a
// value of the option's type or belongs to a required option, members on an
// option that is not a table list (or none on one).
std::string read_option_specs(const gwd_plugin& plugin, std::vector<OptionSpec>& out);

// "a string", "an integer", ... the value an option of `type` must be.
std::string_view option_type_wanted(int type);

// "string", "integer", ... as the plugin READMEs' option tables name types.
std::string_view option_type_name(int type);

// Empty when `value` suits `type`, else the rest of a sentence saying why not
// ("must be an integer, not a string").
std::string option_type_problem(const OptionValue& value, int type);

}  // namespace gwd
