#include "plugin_host/plugin_library.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error_text.h"
#include "plugin_host/crash_guard.h"

namespace gwd {

PluginLibrary::PluginLibrary(std::filesystem::path path, void* handle, const gwd_plugin* descriptor,
                             std::vector<OptionSpec> options, int crash_image)
    : path_(std::move(path)),
      handle_(handle),
      descriptor_(descriptor),
      options_(std::move(options)),
      crash_image_(crash_image) {}

PluginLibrary::~PluginLibrary() {
    crash_guard::release_image(crash_image_);
    if (handle_ != nullptr) dlclose(handle_);
}

std::string PluginLibrary::check_file_safety(const std::filesystem::path& path) {
    const uid_t me = geteuid();
    auto check = [&](const std::filesystem::path& p, const char* what) -> std::string {
        struct stat st {};
        if (stat(p.c_str(), &st) != 0) return std::string(what) + " " + p.string() + ": " + gwd::error_text(errno);
        if (st.st_uid != 0 && st.st_uid != me) {
            return std::string(what) + " " + p.string() + " is owned by uid " + std::to_string(st.st_uid) +
                   ", not by root or the daemon's user; refusing to load code others control (chown it)";
        }
        // A sticky directory (like /tmp) lets others create files but not replace ours.
        const bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && !sticky_dir) {
            return std::string(what) + " " + p.string() +
                   " is writable by group or others; refusing to load code others can change (chmod go-w)";
        }
        return {};
    };
    std::string problem = check(path, "plugin file");
    if (!problem.empty()) return problem;
    return check(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path(), "plugin directory");
}

std::string PluginLibrary::check_descriptor(const gwd_plugin* d, std::vector<OptionSpec>* options) {
    if (d == nullptr) return "its entry function returned no descriptor";
    if (d->abi_version < GWD_PLUGIN_ABI_MIN_VERSION || d->abi_version > GWD_PLUGIN_ABI_VERSION) {
        return "it was built for plugin ABI version " + std::to_string(d->abi_version) +
               ", but this gatewayd supports versions " + std::to_string(GWD_PLUGIN_ABI_MIN_VERSION) + " to " +
               std::to_string(GWD_PLUGIN_ABI_VERSION) + "; rebuild it against this gatewayd's plugin.h";
    }
    if (d->name == nullptr || d->name[0] == '\0') return "its descriptor has no name";
    if (d->create == nullptr || d->destroy == nullptr)
        return "its descriptor lacks the required create or destroy function";
    if ((d->flags & GWD_PLUGIN_POLLED) != 0 && d->poll == nullptr)
        return "it is a polled plugin without a poll function";
    if ((d->flags & ~GWD_PLUGIN_POLLED) != 0) return "its descriptor sets flags this gatewayd does not know";
    for (void* r : d->reserved) {
        if (r != nullptr) return "its descriptor fills reserved fields this gatewayd does not know";
    }
    // ABI 1 descriptors had a reserved field where stored() is now.
    if (d->abi_version < 2 && d->stored != nullptr)
        return "its descriptor fills reserved fields this gatewayd does not know";
    // ... and ABI 1 and 2 ones where command() is now.
    if (d->abi_version < 3 && d->command != nullptr)
        return "its descriptor fills reserved fields this gatewayd does not know";
    std::vector<OptionSpec> specs;
    if (std::string problem = read_option_specs(*d, specs); !problem.empty()) return problem;
    if (options != nullptr) *options = std::move(specs);
    return {};
}

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::filesystem::path& path, std::string& error) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        error = "plugin file " + path.string() + " does not exist";
        return nullptr;
    }
    if (std::string problem = check_file_safety(path); !problem.empty()) {
        error = problem;
        return nullptr;
    }
    dlerror();
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        error = "cannot load plugin file " + path.string() + ": " + (why ? why : "unknown dlopen error");
        return nullptr;
    }
    dlerror();
    void* symbol = dlsym(handle, GWD_PLUGIN_ENTRY_SYMBOL);
    if (symbol == nullptr) {
        dlclose(handle);
        error = "plugin file " + path.string() +
                " has no entry symbol '" GWD_PLUGIN_ENTRY_SYMBOL
                "'; is it a gatewayd sensor plugin? (plugins export it with GWD_PLUGIN_EXPORT)";
        return nullptr;
    }
    auto entry = reinterpret_cast<gwd_plugin_entry_fn>(symbol);
    const int crash_image = crash_guard::register_image(path.stem().string(), symbol);
    const gwd_plugin* descriptor = nullptr;
    std::vector<OptionSpec> options;
    {
        crash_guard::InPlugin marker(-1, "gwd_plugin_entry");
        descriptor = entry();
    }
    if (std::string problem = check_descriptor(descriptor, &options); !problem.empty()) {
        crash_guard::release_image(crash_image);
        dlclose(handle);
        error = "refusing plugin file " + path.string() + ": " + problem;
        return nullptr;
    }
    return std::shared_ptr<PluginLibrary>(new PluginLibrary(path, handle, descriptor, std::move(options), crash_image));
}

}  // namespace gwd
