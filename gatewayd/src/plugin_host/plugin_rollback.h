// Crash rollback for hot swaps. Before a new version of a plugin runs, the
// image of the version it replaces is kept under state_dir/plugin-rollback
// (<plugin>.so) with a swap record (<plugin>.swap). If the new version
// crashes gatewayd within a minute of the swap (the crash journal names its
// plugin), the next start quarantines it by SHA-256 (<plugin>.quarantine)
// and runs the kept image instead, saying so loudly. The plugin file is
// tried again only once its content changes. Without a kept image (the
// plugin had not run before) the plugin's sensors stay disabled instead.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin_host/crash_journal.h"

namespace gwd {

class PluginLibrary;

// One swap: when, and which build replaced which (empty kept_*: none ran).
struct SwapRecord {
    std::int64_t at_ms = 0;
    std::string new_sha, new_version, kept_sha, kept_version;
};

// A build of a plugin that must not run again until its file changes.
struct QuarantineRecord {
    std::int64_t at_ms = 0;
    std::string sha, version, reason;
};

std::string render_swap_record(const SwapRecord& record);
std::optional<SwapRecord> parse_swap_record(std::string_view text);
std::string render_quarantine_record(const QuarantineRecord& record);
std::optional<QuarantineRecord> parse_quarantine_record(std::string_view text);

// How long a swapped-in build is on probation: a crash of its plugin within
// this time after the swap is taken for its fault.
constexpr std::int64_t kSwapProbationMs = 60000;

// The first crash of `plugin` from the swap until `window_ms` after it, or
// nullopt: that crash is the new version's.
std::optional<CrashRecord> crash_after_swap(const SwapRecord& swap, const std::vector<CrashRecord>& crashes,
                                            std::string_view plugin, std::int64_t window_ms = kSwapProbationMs);

// "it crashed gatewayd (SIGSEGV in poll() of sensor 'sw') 2 s after it was
// swapped in": the reason a quarantine gives.
std::string swap_crash_reason(const SwapRecord& swap, const CrashRecord& crash);

class PluginRollback {
public:
    explicit PluginRollback(std::filesystem::path dir);

    // At start: consumes the plugin's swap record. A crash of the swapped-in
    // version within the window (in `crashes`) quarantines that build, which
    // is returned.
    std::optional<QuarantineRecord> settle_swap(const std::string& plugin, const std::vector<CrashRecord>& crashes,
                                                std::int64_t now_ms);

    // What to load for `plugin`, whose file in plugin_dir is `file`: the
    // file, or the kept image while the file holds a quarantined build (a
    // changed file lifts the quarantine).
    struct Choice {
        std::filesystem::path load;  // empty: nothing may run
        std::string note;            // why not the file, for status and the log ("" when it is)
    };
    Choice choose(const std::string& plugin, const std::filesystem::path& file);

    // Before `fresh` runs in place of `old` (nullptr: nothing ran): keeps
    // old's image and records the swap. A build still on probation is not
    // kept: the way back stays the one its own swap kept. "" or why there is
    // no way back (the swap is recorded all the same, and goes ahead).
    std::string remember_swap(const std::string& plugin, const PluginLibrary* old, const PluginLibrary& fresh,
                              std::int64_t now_ms);
    // The plugin's swap record as it is now, to put back with restore_swap()
    // when a swap is refused after remember_swap() (nullopt: there was none).
    std::optional<std::string> swap_record(const std::string& plugin) const;
    void restore_swap(const std::string& plugin, const std::optional<std::string>& record);

    // The quarantined build of `plugin`, if any.
    std::optional<QuarantineRecord> quarantined(const std::string& plugin) const;
    void lift_quarantine(const std::string& plugin);

    std::filesystem::path kept_image(const std::string& plugin) const { return dir_ / (plugin + ".so"); }

private:
    std::filesystem::path record_file(const std::string& plugin, const char* kind) const;
    void forget_swap(const std::string& plugin);

    std::filesystem::path dir_;
};

}  // namespace gwd
