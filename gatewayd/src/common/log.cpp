#include "common/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace gwd {

bool parse_log_level(std::string_view text, LogLevel& out) {
    if (text == "error")
        out = LogLevel::error;
    else if (text == "warning")
        out = LogLevel::warning;
    else if (text == "notice")
        out = LogLevel::notice;
    else if (text == "info")
        out = LogLevel::info;
    else if (text == "debug")
        out = LogLevel::debug;
    else
        return false;
    return true;
}

std::string_view log_level_name(LogLevel level) {
    switch (level) {
        case LogLevel::error: return "error";
        case LogLevel::warning: return "warning";
        case LogLevel::notice: return "notice";
        case LogLevel::info: return "info";
        case LogLevel::debug: return "debug";
    }
    return "info";
}

namespace {
// JOURNAL_STREAM is "DEV:INODE" of the stream journald gave us; it is only
// ours if stderr still is that stream (a child may have inherited the variable).
bool stderr_is_journald() {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (env == nullptr) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) != 0) return false;
    return st.st_dev == dev && st.st_ino == ino;
}
}  // namespace

StderrSink::StderrSink() : journald_(stderr_is_journald()) {}

void StderrSink::write(LogLevel level, std::string_view component, std::string_view message) {
    std::string line;
    line.reserve(message.size() + component.size() + 48);
    if (journald_) {
        line += '<';
        line += static_cast<char>('0' + static_cast<int>(level));
        line += '>';
    } else {
        struct timespec ts {};
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm {};
        gmtime_r(&ts.tv_sec, &tm);
        char stamp[80];
        std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
        line += stamp;
        line += log_level_name(level);
        line += ' ';
    }
    line += component;
    line += ": ";
    line += message;
    line += '\n';
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) break;  // nowhere left to report a logging failure
        p += n;
        left -= static_cast<size_t>(n);
    }
}

void MemorySink::write(LogLevel level, std::string_view component, std::string_view message) {
    std::lock_guard lock(mutex_);
    text_ += log_level_name(level);
    text_ += ' ';
    text_ += component;
    text_ += ": ";
    text_ += message;
    text_ += '\n';
}

std::string MemorySink::text() const {
    std::lock_guard lock(mutex_);
    return text_;
}

bool MemorySink::contains(std::string_view needle) const {
    std::lock_guard lock(mutex_);
    return text_.find(needle) != std::string::npos;
}

Logger::Logger(std::shared_ptr<LogSink> sink, LogLevel threshold, std::string component)
    : sink_(std::move(sink)),
      threshold_(std::make_shared<std::atomic<int>>(static_cast<int>(threshold))),
      component_(std::move(component)) {}

Logger Logger::child(std::string component) const {
    Logger copy = *this;
    copy.component_ = std::move(component);
    return copy;
}

void Logger::log(LogLevel level, std::string_view message) const {
    if (!enabled(level)) return;
    sink_->write(level, component_, message);
}

LogRateLimit::LogRateLimit(int burst, Clock::duration period) : burst_(burst), period_(period) {}

bool LogRateLimit::allow(Clock::time_point now, std::uint64_t& suppressed) {
    std::lock_guard lock(mutex_);
    if (now - window_start_ >= period_) {
        window_start_ = now;
        used_ = 0;
    }
    if (used_ < burst_) {
        ++used_;
        suppressed = suppressed_;
        suppressed_ = 0;
        return true;
    }
    ++suppressed_;
    return false;
}

}  // namespace gwd
