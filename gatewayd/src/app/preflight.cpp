#include "app/preflight.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include "common/error_text.h"

namespace gwd {

namespace {
std::string label(const Config& config) { return "state_dir '" + config.gateway.state_dir.string() + "'"; }
}  // namespace

void check_state_dir(const Config& config, Diagnostics& diags) {
    namespace fs = std::filesystem;
    const fs::path& dir = config.gateway.state_dir;
    std::error_code ec;
    if (fs::exists(dir, ec)) {
        if (!fs::is_directory(dir, ec)) {
            diags.error(config.gateway.state_dir_where, label(config) + " exists but is not a directory");
        } else if (access(dir.c_str(), W_OK | X_OK) != 0) {
            diags.error(config.gateway.state_dir_where, label(config) + " is not writable: " + gwd::error_text(errno) +
                                                            " (the daemon keeps its queues there)");
        }
        return;
    }
    // Missing: the nearest existing ancestor must let us create it.
    fs::path ancestor = fs::absolute(dir, ec).parent_path();
    while (!ancestor.empty() && !fs::exists(ancestor, ec)) ancestor = ancestor.parent_path();
    if (ancestor.empty() || access(ancestor.c_str(), W_OK | X_OK) != 0) {
        diags.error(config.gateway.state_dir_where,
                    label(config) + " does not exist and cannot be created under '" + ancestor.string() + "'");
    }
}

std::vector<std::string> secret_file_warnings(const Config& config) {
    std::vector<std::string> warnings;
    for (const auto& u : config.upstreams) {
        std::vector<std::pair<const char*, std::filesystem::path>> secrets;
        if (u.password_file) secrets.emplace_back("password_file", *u.password_file);
        if (u.key_file) secrets.emplace_back("key_file", *u.key_file);
        if (u.profile == PlatformProfile::huawei && !u.huawei.secret_file.empty())
            secrets.emplace_back("secret_file", u.huawei.secret_file);
        if (u.profile == PlatformProfile::onenet && !u.onenet.key_file.empty())
            secrets.emplace_back("key_file", u.onenet.key_file);
        for (const auto& [key, file] : secrets) {
            struct stat st {};
            if (stat(file.c_str(), &st) != 0 || (st.st_mode & S_IROTH) == 0) continue;
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
            warnings.push_back("upstream '" + u.name + "': " + key + " " + file.string() +
                               " is readable by every user of this machine (mode " + mode +
                               "); it holds a secret: chmod o-r " + file.string());
        }
    }
    return warnings;
}

bool prepare_state_dir(const Config& config, Diagnostics& diags) {
    std::error_code ec;
    const auto& dir = config.gateway.state_dir;
    if (!std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) {
            diags.error(config.gateway.state_dir_where, label(config) + " cannot be created: " + ec.message());
            return false;
        }
        chmod(dir.c_str(), 0750);
    }
    Diagnostics found;
    check_state_dir(config, found);
    diags.append(found);
    return found.empty();
}

}  // namespace gwd
