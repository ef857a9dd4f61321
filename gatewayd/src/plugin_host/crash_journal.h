// What the crash handler leaves for the next start: one line per crash that
// plugin code caused, in state_dir/plugin-crashes:
//
//   <unix ms> TAB <signal> TAB <call> TAB <sensor> TAB <plugin> TAB <fingerprint>
//
// The fingerprint names the plugin file and the [[sensor]] block as they were
// (sensor_fingerprint.h). A sensor that crashed the daemon twice within a
// minute with the same fingerprint it has now is quarantined: left disabled,
// so the rest of the gateway comes up instead of crashing again under
// systemd's restarts. A changed plugin file or block changes the fingerprint,
// and the sensor is tried again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gwd {

struct CrashRecord {
    std::int64_t at_ms = 0;
    std::string signal;
    std::string call;
    std::string sensor;
    std::string plugin;
    std::string fingerprint;
};

// The tail of a journal line that only the crash handler completes.
std::string crash_record_tail(std::string_view sensor, std::string_view plugin, std::string_view fingerprint);

// "SIGSEGV in poll()", "SIGABRT in its own thread", "SIGBUS": what killed
// the daemon, for messages.
std::string crash_cause(const CrashRecord& record);

// Parses journal text; lines that are not records (a torn last line) are skipped.
std::vector<CrashRecord> parse_crash_journal(std::string_view text);
std::string render_crash_journal(const std::vector<CrashRecord>& records);

// Why `sensor` stays disabled: it crashed twice within `window` with this
// `fingerprint`; nullopt when it may run.
std::optional<std::string> quarantine_reason(const std::vector<CrashRecord>& records, std::string_view sensor,
                                             std::string_view fingerprint, std::int64_t window_ms = 60000);

// The file: read at start, pruned to what still matters, then opened for
// appending by the crash handler.
class CrashJournal {
public:
    explicit CrashJournal(std::filesystem::path file);
    ~CrashJournal();
    CrashJournal(const CrashJournal&) = delete;
    CrashJournal& operator=(const CrashJournal&) = delete;

    const std::vector<CrashRecord>& records() const { return records_; }
    // Keeps only the records `keep` accepts (rewriting the file when that
    // drops any), then opens it for the handler. Returns the descriptor, or
    // -1 with `error` set.
    template <typename Keep>
    int open_for_crashes(Keep keep, std::string& error) {
        std::vector<CrashRecord> kept;
        for (const auto& r : records_)
            if (keep(r)) kept.push_back(r);
        return reopen(std::move(kept), error);
    }
    const std::filesystem::path& file() const { return file_; }

private:
    int reopen(std::vector<CrashRecord> kept, std::string& error);

    std::filesystem::path file_;
    std::vector<CrashRecord> records_;
    int fd_ = -1;
};

}  // namespace gwd
