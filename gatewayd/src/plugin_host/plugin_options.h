// A sensor's [sensor.options] checked against the options its plugin
// declares, and the lookups behind the host API's option_* functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "config/option_table.h"
#include "plugin_host/option_specs.h"

namespace gwd {

// Reports unknown keys (with the nearest declared one), values of the wrong
// type, and missing required options. `label` is e.g. "sensor 'field'".
void check_plugin_options(const OptionValue& options, const std::vector<OptionSpec>& specs, const std::string& plugin,
                          const std::string& label, Diagnostics& diags);

// The value a plugin gets for `key`: the one in `options`, else the spec's
// default; nullptr when neither.
const OptionValue* effective_option(const OptionValue& options, const std::vector<OptionSpec>& specs,
                                    std::string_view key);

// Typed views of one value; nullopt when absent (nullptr) or of another type.
std::optional<std::string> option_as_string(const OptionValue* value);
std::optional<std::int64_t> option_as_int(const OptionValue* value);
std::optional<double> option_as_float(const OptionValue* value);
std::optional<bool> option_as_bool(const OptionValue* value);
std::optional<std::int64_t> option_as_duration_ms(const OptionValue* value);
std::optional<std::vector<std::string>> option_as_string_list(const OptionValue* value);

}  // namespace gwd
