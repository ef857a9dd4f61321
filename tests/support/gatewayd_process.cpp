#include "gatewayd_process.h"

#include <signal.h>

namespace gwd::test {

std::filesystem::path gatewayd_binary() { return GWD_TEST_BINARY; }
std::filesystem::path bundled_plugin_dir() { return GWD_TEST_PLUGIN_DIR; }
std::filesystem::path test_plugin_dir() { return GWD_TEST_EXTRA_PLUGIN_DIR; }
std::filesystem::path source_dir() { return GWD_TEST_SOURCE_DIR; }

GatewaydProcess::GatewaydProcess(const TempDir& dir, const std::string& config, const std::string& name)
    : config_(dir.write(name + ".toml", config)) {
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{gatewayd_binary().string(), "--config", config_.string()},
        dir.path() / (name + ".log"));
}

GatewaydProcess::~GatewaydProcess() {
    if (process_->running()) stop(std::chrono::seconds(10));
}

std::optional<int> GatewaydProcess::stop(std::chrono::milliseconds timeout) {
    process_->signal(SIGTERM);
    return process_->wait(timeout);
}

std::filesystem::path all_plugins(const TempDir& dir) {
    namespace fs = std::filesystem;
    const fs::path target = dir.path() / "plugins";
    fs::create_directories(target);
    for (const auto& source : {bundled_plugin_dir(), test_plugin_dir()}) {
        for (const auto& entry : fs::directory_iterator(source)) {
            if (entry.path().extension() != ".so") continue;
            fs::copy_file(entry.path(), target / entry.path().filename(), fs::copy_options::overwrite_existing);
        }
    }
    return target;
}

std::string gateway_section(const TempDir& dir, const std::filesystem::path& plugin_dir, const std::string& id) {
    return "[gateway]\n"
           "id = \"" + id + "\"\n"
           "plugin_dir = \"" + plugin_dir.string() + "\"\n"
           "state_dir = \"" + (dir.path() / "state").string() + "\"\n"
           "runtime_dir = \"" + (dir.path() / "run").string() + "\"\n"
           "log_level = \"debug\"\n\n";
}

}  // namespace gwd::test
