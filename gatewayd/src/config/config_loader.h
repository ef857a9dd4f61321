// gatewayd.toml -> Config. Collects every problem it can find in one pass,
// each as "PATH:LINE:COLUMN: message"; unknown keys name the nearest known key.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/diagnostics.h"

namespace gwd {

struct ConfigLoadResult {
    std::optional<Config> config;   // set only when there are no diagnostics
    std::optional<Config> partial;  // what could be read, with or without diagnostics (for --check-config)
    Diagnostics diagnostics;
};

// Reads and checks the file. `hostname` is the default gateway id.
ConfigLoadResult load_config_file(const std::filesystem::path& path, std::string_view hostname);

// The same for text already in memory; `display_path` names it in messages.
ConfigLoadResult parse_config(std::string_view text, const std::string& display_path, std::string_view hostname);

// One TOML value written as text ("5", "\"30s\"", "[\"a\"]"), as a plugin
// declares an option's default. nullopt, with `error` set, unless the text
// is exactly one value.
std::optional<OptionValue> parse_option_literal(std::string_view text, std::string& error);

}  // namespace gwd
