// Logging: one line per event, levels numbered as syslog priorities.
// Loggers are values handed down from main(); there is no global logger.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>

namespace gwd {

enum class LogLevel : int { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// Parses "error", "warning", "notice", "info", "debug".
bool parse_log_level(std::string_view text, LogLevel& out);
std::string_view log_level_name(LogLevel level);

// Where finished lines go. Implementations must be thread-safe.
class LogSink {
public:
    virtual ~LogSink() = default;
    virtual void write(LogLevel level, std::string_view component, std::string_view message) = 0;
};

// Writes to stderr with one write(2) per line. Under journald (JOURNAL_STREAM
// names our stderr) lines carry a "<N>" priority prefix and no timestamp,
// because journald adds its own; elsewhere an ISO-8601 UTC timestamp.
class StderrSink final : public LogSink {
public:
    StderrSink();
    void write(LogLevel level, std::string_view component, std::string_view message) override;
    bool journald() const { return journald_; }

private:
    bool journald_;
};

// Collects lines in memory; for tests.
class MemorySink final : public LogSink {
public:
    void write(LogLevel level, std::string_view component, std::string_view message) override;
    std::string text() const;
    bool contains(std::string_view needle) const;

private:
    mutable std::mutex mutex_;
    std::string text_;
};

class Logger {
public:
    Logger(std::shared_ptr<LogSink> sink, LogLevel threshold, std::string component = "gatewayd");

    // A logger for a part of the daemon ("upstream cloud"); shares sink and level.
    Logger child(std::string component) const;

    void set_threshold(LogLevel level) { threshold_->store(static_cast<int>(level)); }
    bool enabled(LogLevel level) const {
        return static_cast<int>(level) <= threshold_->load(std::memory_order_relaxed);
    }
    void log(LogLevel level, std::string_view message) const;

    void error(std::string_view m) const { log(LogLevel::error, m); }
    void warning(std::string_view m) const { log(LogLevel::warning, m); }
    void notice(std::string_view m) const { log(LogLevel::notice, m); }
    void info(std::string_view m) const { log(LogLevel::info, m); }
    void debug(std::string_view m) const { log(LogLevel::debug, m); }

    const std::string& component() const { return component_; }
    const std::shared_ptr<LogSink>& sink() const { return sink_; }

private:
    std::shared_ptr<LogSink> sink_;
    std::shared_ptr<std::atomic<int>> threshold_;
    std::string component_;
};

// Lets through at most `burst` lines per `period` and counts the rest, so a
// sensor that sends garbage at 10 kHz cannot flood the journal.
class LogRateLimit {
public:
    using Clock = std::chrono::steady_clock;
    explicit LogRateLimit(int burst = 5, Clock::duration period = std::chrono::seconds(10));

    // True when the caller should log now; `suppressed` then holds how many
    // lines were held back since the last allowed one.
    bool allow(Clock::time_point now, std::uint64_t& suppressed);

private:
    std::mutex mutex_;
    int burst_;
    Clock::duration period_;
    Clock::time_point window_start_{};
    int used_ = 0;
    std::uint64_t suppressed_ = 0;
};

// Builds a string from streamable parts: cat("sensor '", name, "': ", n).
template <typename... Parts>
std::string cat(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

}  // namespace gwd
