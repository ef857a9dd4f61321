// One sensor plugin shared object: safety checks on the file, dlopen, the
// entry symbol and the descriptor's ABI checks. Unloaded (dlclose) when the
// last instance using it is gone, so that a later hot-swap can load a new
// file beside the old one.
#pragma once

#include <chrono>
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
    //
    // With `private_copy_dir`, it loads a private copy made there (removed
    // when the library is unloaded): dlopen() hands back the image it already
    // has for a path, so a replaced plugin file would never run while an
    // instance of the old one lives. Each copy is an image of its own. The
    // directory must allow executing files (not /run, often noexec).
    static std::shared_ptr<PluginLibrary> load(const std::filesystem::path& path, std::string& error,
                                               const std::filesystem::path& private_copy_dir = {});

    ~PluginLibrary();
    PluginLibrary(const PluginLibrary&) = delete;
    PluginLibrary& operator=(const PluginLibrary&) = delete;

    const gwd_plugin& descriptor() const { return *descriptor_; }
    // Its declared options, whatever ABI layout the plugin used.
    const std::vector<OptionSpec>& options() const { return options_; }
    const std::filesystem::path& path() const { return path_; }
    // The file that was mapped: its private copy, or path() without one.
    const std::filesystem::path& image_file() const { return private_copy_.empty() ? path_ : private_copy_; }
    // SHA-256 of the file as it was loaded, in hex.
    const std::string& sha256() const { return sha256_; }
    // "1.2.0 (sha256 3f2a9c01)": which build of the plugin this is, for logs.
    std::string version_label() const;
    std::chrono::system_clock::time_point loaded_at() const { return loaded_at_; }

    // Checks a descriptor as the host will use it; empty when acceptable.
    // Its option specs go to `options` when given.
    static std::string check_descriptor(const gwd_plugin* descriptor, std::vector<OptionSpec>* options = nullptr);

    // Refuses files that someone other than their owner can write, or that
    // are owned by anyone but root or us (loading a file runs its code).
    static std::string check_file_safety(const std::filesystem::path& path);

private:
    PluginLibrary(std::filesystem::path path, void* handle, const gwd_plugin* descriptor,
                  std::vector<OptionSpec> options, int crash_image, std::string sha256,
                  std::filesystem::path private_copy);

    std::filesystem::path path_;
    void* handle_;
    const gwd_plugin* descriptor_;
    std::vector<OptionSpec> options_;
    int crash_image_;  // its code range, for crash reports (crash_guard.h)
    std::string sha256_;
    std::filesystem::path private_copy_;  // removed after dlclose; empty: none
    std::chrono::system_clock::time_point loaded_at_ = std::chrono::system_clock::now();
};

}  // namespace gwd
