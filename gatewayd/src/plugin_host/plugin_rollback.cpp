#include "plugin_host/plugin_rollback.h"

#include <sys/stat.h>

#include <charconv>
#include <chrono>

#include "common/text.h"
#include "common/units.h"
#include "common/whole_file.h"
#include "plugin_host/file_digest.h"
#include "plugin_host/plugin_library.h"

namespace gwd {

namespace {

// Record fields are one line of tab-separated text.
std::string field(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return out;
}

bool parse_ms(std::string_view text, std::int64_t& out) {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && ptr == text.data() + text.size();
}

// The record's one line, without its newline; empty when torn.
std::string_view whole_line(std::string_view text) {
    const size_t end = text.find('\n');
    return end == std::string_view::npos ? std::string_view() : text.substr(0, end);
}

std::string version_label(const std::string& version, const std::string& sha) {
    return (version.empty() ? "(no version)" : version) + " (sha256 " + sha.substr(0, 8) + ")";
}

}  // namespace

std::string render_swap_record(const SwapRecord& r) {
    return std::to_string(r.at_ms) + "\t" + field(r.new_sha) + "\t" + field(r.new_version) + "\t" + field(r.kept_sha) +
           "\t" + field(r.kept_version) + "\n";
}

std::optional<SwapRecord> parse_swap_record(std::string_view text) {
    const auto f = split_tabs(whole_line(text));
    SwapRecord r;
    if (f.size() != 5 || !parse_ms(f[0], r.at_ms) || f[1].empty()) return std::nullopt;
    r.new_sha = f[1];
    r.new_version = f[2];
    r.kept_sha = f[3];
    r.kept_version = f[4];
    return r;
}

std::string render_quarantine_record(const QuarantineRecord& r) {
    return std::to_string(r.at_ms) + "\t" + field(r.sha) + "\t" + field(r.version) + "\t" + field(r.reason) + "\n";
}

std::optional<QuarantineRecord> parse_quarantine_record(std::string_view text) {
    const auto f = split_tabs(whole_line(text));
    QuarantineRecord r;
    if (f.size() != 4 || !parse_ms(f[0], r.at_ms) || f[1].empty()) return std::nullopt;
    r.sha = f[1];
    r.version = f[2];
    r.reason = f[3];
    return r;
}

std::optional<CrashRecord> crash_after_swap(const SwapRecord& swap, const std::vector<CrashRecord>& crashes,
                                            std::string_view plugin, std::int64_t window_ms) {
    std::optional<CrashRecord> first;
    for (const auto& c : crashes) {
        if (c.plugin != plugin || c.at_ms < swap.at_ms || c.at_ms - swap.at_ms > window_ms) continue;
        if (!first || c.at_ms < first->at_ms) first = c;
    }
    return first;
}

std::string swap_crash_reason(const SwapRecord& swap, const CrashRecord& crash) {
    const std::int64_t after_s = (crash.at_ms - swap.at_ms) / 1000;
    return "it crashed gatewayd (" + crash_cause(crash) + " of sensor '" + crash.sensor + "') " +
           std::to_string(after_s) + " s after it was swapped in";
}

PluginRollback::PluginRollback(std::filesystem::path dir) : dir_(std::move(dir)) {}

std::filesystem::path PluginRollback::record_file(const std::string& plugin, const char* kind) const {
    return dir_ / (plugin + "." + kind);
}

std::optional<QuarantineRecord> PluginRollback::quarantined(const std::string& plugin) const {
    std::string text;
    if (!read_whole_file(record_file(plugin, "quarantine"), text)) return std::nullopt;
    return parse_quarantine_record(text);
}

void PluginRollback::lift_quarantine(const std::string& plugin) {
    std::error_code ec;
    std::filesystem::remove(record_file(plugin, "quarantine"), ec);
}

void PluginRollback::forget_swap(const std::string& plugin) {
    std::error_code ec;
    std::filesystem::remove(record_file(plugin, "swap"), ec);
}

std::optional<std::string> PluginRollback::swap_record(const std::string& plugin) const {
    std::string text;
    if (!read_whole_file(record_file(plugin, "swap"), text)) return std::nullopt;
    return text;
}

void PluginRollback::restore_swap(const std::string& plugin, const std::optional<std::string>& record) {
    if (!record) {
        forget_swap(plugin);
        return;
    }
    replace_file_durably(record_file(plugin, "swap"), *record);
}

std::string PluginRollback::remember_swap(const std::string& plugin, const PluginLibrary* old,
                                          const PluginLibrary& fresh, std::int64_t now_ms) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    ::chmod(dir_.c_str(), 0700);
    SwapRecord record;
    record.at_ms = now_ms;
    record.new_sha = fresh.sha256();
    record.new_version = fresh.descriptor().version != nullptr ? fresh.descriptor().version : "";
    std::string problem;
    const auto previous = swap_record(plugin);
    const auto on_probation = previous ? parse_swap_record(*previous) : std::nullopt;
    if (on_probation && now_ms - on_probation->at_ms < kSwapProbationMs &&
        (on_probation->kept_sha.empty() || file_sha256(kept_image(plugin)) == on_probation->kept_sha)) {
        // The running build has not proven itself: the way back stays the one before it.
        record.kept_sha = on_probation->kept_sha;
        record.kept_version = on_probation->kept_version;
    } else if (old != nullptr) {
        std::string bytes;
        if (!read_whole_file(old->image_file(), bytes)) {
            problem = "cannot read the running image " + old->image_file().string() + " to keep it";
        } else if (file_sha256(kept_image(plugin)) != old->sha256()) {  // the same build again costs nothing
            problem = replace_file_durably(kept_image(plugin), bytes, 0700);
        }
        if (problem.empty()) {
            record.kept_sha = old->sha256();
            record.kept_version = old->descriptor().version != nullptr ? old->descriptor().version : "";
        }
    }
    // A kept image the record does not name would be a way back to the wrong build.
    if (record.kept_sha.empty()) std::filesystem::remove(kept_image(plugin), ec);
    if (std::string failed = replace_file_durably(record_file(plugin, "swap"), render_swap_record(record));
        !failed.empty())
        problem = failed;
    return problem;
}

std::optional<QuarantineRecord> PluginRollback::settle_swap(const std::string& plugin,
                                                            const std::vector<CrashRecord>& crashes,
                                                            std::int64_t now_ms) {
    const auto text = swap_record(plugin);
    if (!text) return std::nullopt;
    const auto swap = parse_swap_record(*text);
    const auto crash = swap ? crash_after_swap(*swap, crashes, plugin) : std::nullopt;
    if (!crash) {
        forget_swap(plugin);  // a start settles it
        return std::nullopt;
    }
    QuarantineRecord q{now_ms, swap->new_sha, swap->new_version, swap_crash_reason(*swap, *crash)};
    // The quarantine is written before the swap record goes: whatever stops
    // this start, the next one still knows.
    if (std::string problem = replace_file_durably(record_file(plugin, "quarantine"), render_quarantine_record(q));
        !problem.empty()) {
        q.reason += " (the quarantine could not be recorded: " + problem + ")";
    } else {
        forget_swap(plugin);
    }
    return q;
}

PluginRollback::Choice PluginRollback::choose(const std::string& plugin, const std::filesystem::path& file) {
    Choice choice{file, {}};
    const auto q = quarantined(plugin);
    if (!q) return choice;
    const std::string sha = file_sha256(file);
    if (sha.empty()) return choice;  // unreadable: its load says why; the quarantine stays
    if (sha != q->sha) {
        lift_quarantine(plugin);  // a new file: it gets its chance
        return choice;
    }
    const std::string what =
        "version " + version_label(q->version, q->sha) + " of " + file.string() + " is quarantined: " + q->reason;
    if (file_sha256(kept_image(plugin)).empty()) {
        choice.load.clear();
        choice.note = what + "; no earlier version is kept, so its sensors stay disabled until the file changes";
    } else {
        choice.load = kept_image(plugin);
        choice.note = what + "; the version that ran before it runs instead (kept in " + kept_image(plugin).string() +
                      ") until the file changes";
    }
    return choice;
}

}  // namespace gwd
