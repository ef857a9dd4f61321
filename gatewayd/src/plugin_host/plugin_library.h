// One sensor plugin shared object: safety checks on the file, dlopen, the
// entry symbol and the descriptor's ABI checks. Unloaded (dlclose) when the
// last instance using it is gone, so that a later hot-swap can load a new
// file beside the old one.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gatewayd/plugin.h"
#include "plugin_host/option_specs.h"

namespace gwd {

class PluginLibrary {
public:
    // Loads `path`. On failure returns nullptr and sets `error` to one
    // sentence naming the file and what to do about it.
    static std::shared_ptr<PluginLibrary> load(const std::filesystem::path& path, std::string& error);

    ~PluginLibrary();
    PluginLibrary(const PluginLibrary&) = delete;
    PluginLibrary& operator=(const PluginLibrary&) = delete;

    const gwd_plugin& descriptor() const { return *descriptor_; }
    // Its declared options, whatever ABI layout the plugin used.
    const std::vector<OptionSpec>& options() const { return options_; }
    const std::filesystem::path& path() const { return path_; }

    // Checks a descriptor as the host will use it; empty when acceptable.
    // Its option specs go to `options` when given.
    static std::string check_descriptor(const gwd_plugin* descriptor, std::vector<OptionSpec>* options = nullptr);

    // Refuses files that someone other than their owner can write, or that
    // are owned by anyone but root or us (loading a file runs its code).
    static std::string check_file_safety(const std::filesystem::path& path);

private:
    PluginLibrary(std::filesystem::path path, void* handle, const gwd_plugin* descriptor,
                  std::vector<OptionSpec> options, int crash_image);

    std::filesystem::path path_;
    void* handle_;
    const gwd_plugin* descriptor_;
    std::vector<OptionSpec> options_;
    int crash_image_;  // its code range, for crash reports (crash_guard.h)
};

}  // namespace gwd
