// Command-line arguments. Pure: no I/O, so every spelling is unit-tested.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gwd {

inline constexpr const char* kDefaultConfigPath = "/etc/gatewayd/gatewayd.toml";

// sysexits.h values the daemon uses.
inline constexpr int kExitUsage = 64;         // EX_USAGE
inline constexpr int kExitConfig = 78;        // EX_CONFIG
inline constexpr int kExitNotRunning = 3;     // as `systemctl status` says of a stopped unit
inline constexpr int kExitNoPermission = 77;  // EX_NOPERM

struct CliOptions {
    enum class Command { run, check_config, status, credentials, version, help };
    Command command = Command::run;
    std::filesystem::path config = kDefaultConfigPath;
    bool json = false;             // status --json
    std::filesystem::path socket;  // status --socket PATH; empty: from the config
    std::string upstream;          // credentials --upstream NAME
    std::string at;                // credentials --at TIME (RFC 3339, UTC); empty: now
    bool show_secret = false;      // credentials --show-secret
};

struct CliParseResult {
    std::optional<CliOptions> options;
    std::string error;  // set when options is empty
};

CliParseResult parse_cli(const std::vector<std::string>& args);  // without argv[0]

std::string usage_text();

}  // namespace gwd
