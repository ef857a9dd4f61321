// A sensor's [sensor.options] checked against the options its plugin
// declares, and the lookups behind the host API's option_* functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "config/option_table.h"
#include "gatewayd/plugin.h"

namespace gwd {

// Reports unknown keys (with the nearest declared one), values of the wrong
// type, and missing required options. `label` is e.g. "sensor 'field'".
void check_plugin_options(const OptionValue& options, const gwd_option_spec* specs, const std::string& plugin,
                          const std::string& label, Diagnostics& diags);

// Typed lookups; nullopt when absent or of another type.
std::optional<std::string> option_as_string(const OptionValue& options, const std::string& key);
std::optional<std::int64_t> option_as_int(const OptionValue& options, const std::string& key);
std::optional<double> option_as_float(const OptionValue& options, const std::string& key);
std::optional<bool> option_as_bool(const OptionValue& options, const std::string& key);
std::optional<std::int64_t> option_as_duration_ms(const OptionValue& options, const std::string& key);
std::optional<std::vector<std::string>> option_as_string_list(const OptionValue& options, const std::string& key);

}  // namespace gwd
