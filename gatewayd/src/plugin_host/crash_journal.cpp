#include "plugin_host/crash_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/error_text.h"
#include "common/text.h"
#include "common/units.h"
#include "common/whole_file.h"

namespace gwd {

std::string crash_record_tail(std::string_view sensor, std::string_view plugin, std::string_view fingerprint) {
    return std::string(sensor) + "\t" + std::string(plugin) + "\t" + std::string(fingerprint);
}

std::string crash_cause(const CrashRecord& r) {
    if (r.call == "-") return r.signal;
    return r.signal + " in " + r.call + (r.call.find(' ') == std::string::npos ? "()" : "");
}

std::vector<CrashRecord> parse_crash_journal(std::string_view text) {
    std::vector<CrashRecord> records;
    while (!text.empty()) {
        const size_t end = text.find('\n');
        if (end == std::string_view::npos) break;  // torn: the handler writes whole lines
        const std::string_view line = text.substr(0, end);
        text.remove_prefix(end + 1);
        const auto f = split_tabs(line);
        if (f.size() != 6 || f[3].empty()) continue;
        CrashRecord r;
        const auto [ptr, ec] = std::from_chars(f[0].data(), f[0].data() + f[0].size(), r.at_ms);
        if (ec != std::errc() || ptr != f[0].data() + f[0].size()) continue;
        r.signal = f[1];
        r.call = f[2];
        r.sensor = f[3];
        r.plugin = f[4];
        r.fingerprint = f[5];
        records.push_back(std::move(r));
    }
    return records;
}

std::string render_crash_journal(const std::vector<CrashRecord>& records) {
    std::string out;
    for (const auto& r : records) {
        out += std::to_string(r.at_ms) + "\t" + r.signal + "\t" + r.call + "\t" +
               crash_record_tail(r.sensor, r.plugin, r.fingerprint) + "\n";
    }
    return out;
}

std::optional<std::string> quarantine_reason(const std::vector<CrashRecord>& records, std::string_view sensor,
                                             std::string_view fingerprint, std::int64_t window_ms) {
    std::vector<const CrashRecord*> mine;
    for (const auto& r : records)
        if (r.sensor == sensor && r.fingerprint == fingerprint) mine.push_back(&r);
    std::sort(mine.begin(), mine.end(), [](const CrashRecord* a, const CrashRecord* b) { return a->at_ms < b->at_ms; });
    for (size_t i = 1; i < mine.size(); ++i) {
        const std::int64_t apart = mine[i]->at_ms - mine[i - 1]->at_ms;
        if (apart > window_ms) continue;
        const CrashRecord& last = *mine.back();
        return "its plugin crashed gatewayd " + std::to_string(mine.size()) + " times, twice within " +
               format_duration(std::chrono::milliseconds(std::max<std::int64_t>(apart / 1000, 1) * 1000)) +
               " (last: " + crash_cause(last) +
               "); it stays disabled until its plugin file or its [[sensor]] block changes";
    }
    return std::nullopt;
}

CrashJournal::CrashJournal(std::filesystem::path file) : file_(std::move(file)) {
    std::string text;
    if (read_whole_file(file_, text)) records_ = parse_crash_journal(text);
}

CrashJournal::~CrashJournal() {
    if (fd_ >= 0) close(fd_);
}

int CrashJournal::reopen(std::vector<CrashRecord> kept, std::string& error) {
    if (fd_ >= 0) {
        close(fd_);
        fd_ = -1;
    }
    if (kept.size() != records_.size()) {
        if (std::string problem = replace_file_durably(file_, render_crash_journal(kept)); !problem.empty()) {
            error = problem;
            return -1;
        }
        records_ = std::move(kept);
    }
    fd_ = open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) error = "cannot open " + file_.string() + ": " + gwd::error_text(errno);
    return fd_;
}

}  // namespace gwd
