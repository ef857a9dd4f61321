// The real gatewayd binary under test, run with a config written by the test.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "process.h"
#include "temp_dir.h"

namespace gwd::test {

// Where the build put things (set by tests/CMakeLists.txt).
std::filesystem::path gatewayd_binary();
std::filesystem::path bundled_plugin_dir();  // build/plugins
std::filesystem::path test_plugin_dir();     // build/tests/plugins
std::filesystem::path source_dir();
std::filesystem::path build_dir();  // the top of the build tree (cmake --install takes it)

class GatewaydProcess {
public:
    // Writes `config` to dir/gatewayd.toml and starts the daemon on it;
    // `env` entries ("NAME=value") are added to its environment.
    GatewaydProcess(const TempDir& dir, const std::string& config, const std::string& name = "gatewayd",
                    const std::vector<std::string>& env = {});
    ~GatewaydProcess();

    ChildProcess& process() { return *process_; }
    std::string log() const { return process_->output(); }
    bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
        return process_->wait_for_output(needle, timeout);
    }
    // SIGTERM, then the exit status (nullopt if it did not exit in time).
    std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));
    const std::filesystem::path& config_path() const { return config_; }

private:
    std::filesystem::path config_;
    std::unique_ptr<ChildProcess> process_;
};

// `gatewayd status --json` of the daemon whose [gateway] came from
// gateway_section(dir), parsed; nullopt when it does not answer.
std::optional<JsonValue> daemon_status(const TempDir& dir);
// The status of upstream `name` in such a report, or nullptr.
const JsonValue* upstream_status(const JsonValue& status, const std::string& name);
// Number `key` of upstream `name` in the daemon's status, or -1.
long long upstream_number(const TempDir& dir, const std::string& name, const std::string& key);
// Field `key` of sensor `name` in the daemon's status, as text (numbers in
// decimal); "(no status)", "(no sensor)" or "(no field)" when missing.
std::string sensor_field(const TempDir& dir, const std::string& name, const std::string& key);
// The same for any list of the status ("sensors", "plugins"); lists come as
// "a,b", null as "(null)".
std::string status_field(const TempDir& dir, const std::string& list_name, const std::string& name,
                         const std::string& key);

// The 1-based line of `text` on which `needle` first appears (0 if nowhere),
// so that tests name config positions without counting lines by hand.
int line_of(const std::string& text, const std::string& needle);

// A plugin directory under `dir` holding the bundled and the test plugins.
std::filesystem::path all_plugins(const TempDir& dir);

// The [gateway] table tests use: bundled plugins, state under `dir`.
std::string gateway_section(const TempDir& dir, const std::filesystem::path& plugin_dir = bundled_plugin_dir(),
                            const std::string& id = "gw-01");

}  // namespace gwd::test
