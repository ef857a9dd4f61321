#include "gatewayd_process.h"

#include <signal.h>

#include <algorithm>

namespace gwd::test {

std::filesystem::path gatewayd_binary() { return GWD_TEST_BINARY; }
std::filesystem::path bundled_plugin_dir() { return GWD_TEST_PLUGIN_DIR; }
std::filesystem::path test_plugin_dir() { return GWD_TEST_EXTRA_PLUGIN_DIR; }
std::filesystem::path source_dir() { return GWD_TEST_SOURCE_DIR; }
std::filesystem::path build_dir() { return GWD_TEST_BUILD_DIR; }

GatewaydProcess::GatewaydProcess(const TempDir& dir, const std::string& config, const std::string& name,
                                 const std::vector<std::string>& env)
    : config_(dir.write(name + ".toml", config)) {
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{gatewayd_binary().string(), "--config", config_.string()},
        dir.path() / (name + ".log"), env);
}

GatewaydProcess::~GatewaydProcess() {
    if (process_->running()) stop(std::chrono::seconds(10));
}

std::optional<int> GatewaydProcess::stop(std::chrono::milliseconds timeout) {
    process_->signal(SIGTERM);
    return process_->wait(timeout);
}

std::optional<JsonValue> daemon_status(const TempDir& dir) {
    std::string out;
    const int rc = run_command(
        {gatewayd_binary().string(), "status", "--json", "--socket", (dir.path() / "run" / "gatewayd.sock").string()},
        out, std::chrono::seconds(10));
    if (rc != 0) return std::nullopt;
    std::string error;
    return json_parse(out, error);
}

const JsonValue* upstream_status(const JsonValue& status, const std::string& name) {
    const JsonValue* list = status.find("upstreams");
    if (list == nullptr || !list->is_array()) return nullptr;
    for (const auto& u : list->as_array())
        if (const JsonValue* n = u.find("name"); n && n->is_string() && n->as_string() == name) return &u;
    return nullptr;
}

long long upstream_number(const TempDir& dir, const std::string& name, const std::string& key) {
    auto status = daemon_status(dir);
    if (!status) return -1;
    const JsonValue* u = upstream_status(*status, name);
    const JsonValue* v = u != nullptr ? u->find(key) : nullptr;
    return v != nullptr && v->is_number() ? static_cast<long long>(v->as_number().value) : -1;
}

std::string status_field(const TempDir& dir, const std::string& list_name, const std::string& name,
                         const std::string& key) {
    auto status = daemon_status(dir);
    if (!status) return "(no status)";
    const std::string missing = "(no " + list_name.substr(0, list_name.size() - 1) + ")";
    const JsonValue* list = status->find(list_name);
    if (list == nullptr || !list->is_array()) return missing;
    for (const auto& s : list->as_array()) {
        const JsonValue* n = s.find("name");
        if (n == nullptr || !n->is_string() || n->as_string() != name) continue;
        const JsonValue* v = s.find(key);
        if (v == nullptr) return "(no field)";
        if (v->is_string()) return v->as_string();
        if (v->is_number()) return std::to_string(static_cast<long long>(v->as_number().value));
        if (v->is_null()) return "(null)";
        if (v->is_array()) {
            std::string items;
            for (const auto& item : v->as_array())
                items += (items.empty() ? "" : ",") + (item.is_string() ? item.as_string() : item.dump());
            return items;
        }
        return "(other)";
    }
    return missing;
}

std::string sensor_field(const TempDir& dir, const std::string& name, const std::string& key) {
    return status_field(dir, "sensors", name, key);
}

int line_of(const std::string& text, const std::string& needle) {
    const size_t at = text.find(needle);
    if (at == std::string::npos) return 0;
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
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
           "id = \"" +
           id +
           "\"\n"
           "plugin_dir = \"" +
           plugin_dir.string() +
           "\"\n"
           "state_dir = \"" +
           (dir.path() / "state").string() +
           "\"\n"
           "runtime_dir = \"" +
           (dir.path() / "run").string() +
           "\"\n"
           "log_level = \"debug\"\n\n";
}

}  // namespace gwd::test
