// exec: sensors written in any language. The plugin runs a command (no
// shell) and turns each line of its standard output into a reading
// (line_format.h): every `interval` for `mode = "interval"` (Telegraf's
// exec), or kept running with its lines read as they come for
// `mode = "stream"` (Telegraf's execd). A run that overstays `timeout` is
// killed with everything it started; a stream command that exits is started
// again with a doubling delay; standard error goes to the log at warning; a
// line that is not a reading is logged and counted, and the rest of the
// output is still used.
#include <gatewayd/plugin.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "child_command.h"
#include "line_format.h"

namespace {

using namespace exec_plugin;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Each default is written here once; the README and exec.toml are tested
// against these specs (tests/unit/test_plugin_docs.cpp).
const gwd_option_spec kOptions[] = {
    {"command",
     GWD_OPTION_STRING_LIST,
     1,
     "the program and its arguments, e.g. [\"/usr/local/bin/read-sensor\", \"--bus\", \"1\"] (no shell)",
     nullptr,
     {}},
    {"mode",
     GWD_OPTION_STRING,
     0,
     "\"interval\" (run it every interval) or \"stream\" (keep it running)",
     "\"interval\"",
     {}},
    {"format", GWD_OPTION_STRING, 0, "\"auto\", \"value\", \"json\" or \"influx\"", "\"auto\"", {}},
    {"timeout", GWD_OPTION_DURATION, 0, "a run longer than this is killed (interval mode)", "\"5s\"", {}},
    {"reading",
     GWD_OPTION_STRING,
     0,
     "the name of readings whose line names none (default: the sensor's name)",
     nullptr,
     {}},
    {"restart_delay",
     GWD_OPTION_DURATION,
     0,
     "stream mode: the wait before restarting a command that ended",
     "\"1s\"",
     {}},
    {"restart_delay_max", GWD_OPTION_DURATION, 0, "stream mode: the delay doubles up to this", "\"1m\"", {}},
    {nullptr, 0, 0, nullptr, nullptr, {}},
};

constexpr size_t kMaxLine = 64 * 1024;                 // longer lines are skipped, not buffered
constexpr milliseconds kKillGrace{1000};               // SIGTERM, then SIGKILL
constexpr auto kStableRun = std::chrono::seconds(60);  // a stream run this long resets the restart delay
constexpr int kLogBudget = 20;                         // log lines of one kind per kLogWindow
constexpr auto kLogWindow = std::chrono::seconds(10);

// Keeps a chatty or broken command from flooding the log: at most
// kLogBudget lines per window, then one line saying how many were held back.
class LogBudget {
public:
    // The prefix to log with ("" or "(12 more not logged) "), or nullopt: skip.
    std::optional<std::string> take(Clock::time_point now) {
        if (now - window_start_ >= kLogWindow) {
            window_start_ = now;
            used_ = 0;
        }
        if (used_ >= kLogBudget) {
            ++held_back_;
            return std::nullopt;
        }
        ++used_;
        std::string prefix = held_back_ == 0 ? "" : "(" + std::to_string(held_back_) + " more not logged) ";
        held_back_ = 0;
        return prefix;
    }

private:
    Clock::time_point window_start_{};
    int used_ = 0;
    unsigned long held_back_ = 0;
};

// Splits a pipe's bytes into lines; a line over kMaxLine is reported and dropped.
class LineSplitter {
public:
    template <typename OnLine, typename OnOverlong>
    void feed(const char* data, size_t size, OnLine on_line, OnOverlong on_overlong) {
        for (size_t i = 0; i < size; ++i) {
            const char c = data[i];
            if (c == '\n') {
                if (!skipping_) on_line(std::string_view(buffer_));
                buffer_.clear();
                skipping_ = false;
            } else if (!skipping_) {
                buffer_ += c;
                if (buffer_.size() > kMaxLine) {
                    on_overlong();
                    buffer_.clear();
                    skipping_ = true;
                }
            }
        }
    }
    template <typename OnLine>
    void finish(OnLine on_line) {
        if (!skipping_ && !buffer_.empty()) on_line(std::string_view(buffer_));
        buffer_.clear();
        skipping_ = false;
    }

private:
    std::string buffer_;
    bool skipping_ = false;
};

class Exec {
public:
    Exec(const gwd_host_api* host, gwd_context* ctx) : host_(host), ctx_(ctx) {}
    ~Exec() {
        if (wake_fd_ >= 0) ::close(wake_fd_);
    }

    bool configure() {
        const size_t n = host_->option_list_size(ctx_, "command");
        for (size_t i = 0; i < n; ++i) {
            const char* arg = nullptr;
            if (host_->option_list_string(ctx_, "command", i, &arg) == GWD_OK) argv_.emplace_back(arg);
        }
        if (argv_.empty() || argv_[0].empty()) return fail("command is empty: give the program and its arguments");
        const char* text = nullptr;
        host_->option_string(ctx_, "mode", &text);
        const std::string mode = text != nullptr ? text : "interval";
        if (mode != "interval" && mode != "stream")
            return fail("mode = \"" + mode + "\": it must be \"interval\" or \"stream\"");
        stream_ = mode == "stream";
        host_->option_string(ctx_, "format", &text);
        const auto format = line_format_named(text != nullptr ? text : "auto");
        if (!format)
            return fail("format = \"" + std::string(text) +
                        "\": it must be \"auto\", \"value\", \"json\" or \"influx\"");
        format_ = *format;
        std::int64_t ms = 0;
        if (host_->option_duration_ms(ctx_, "timeout", &ms) == GWD_OK) timeout_ = milliseconds(ms);
        if (host_->option_duration_ms(ctx_, "restart_delay", &ms) == GWD_OK) restart_min_ = milliseconds(ms);
        if (host_->option_duration_ms(ctx_, "restart_delay_max", &ms) == GWD_OK) restart_max_ = milliseconds(ms);
        if (timeout_ <= milliseconds(0)) return fail("timeout must be longer than 0");
        if (restart_max_ < restart_min_) return fail("restart_delay_max is shorter than restart_delay");
        reading_ = host_->sensor_name(ctx_);
        if (host_->option_string(ctx_, "reading", &text) == GWD_OK && text != nullptr) reading_ = text;
        interval_ = milliseconds(std::max<std::int64_t>(host_->interval_ms(ctx_), 1));
        env_ = {std::string("GATEWAYD_SENSOR=") + host_->sensor_name(ctx_),
                std::string("GATEWAYD_GATEWAY_ID=") + host_->gateway_id(ctx_),
                "GATEWAYD_INTERVAL_MS=" + std::to_string(interval_.count())};
        return true;
    }

    int start() {
        wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake_fd_ < 0) return GWD_ERR_FAILED;
        try {
            thread_ = std::thread([this] { run(); });
        } catch (...) {
            log(GWD_LOG_ERROR, "cannot start a thread");
            return GWD_ERR_FAILED;
        }
        return GWD_OK;
    }

    void stop() {
        stopping_ = true;
        const std::uint64_t one = 1;
        if (::write(wake_fd_, &one, sizeof one) < 0) {}  // the thread also checks stopping_ at least every poll
        if (thread_.joinable()) thread_.join();
    }

private:
    bool fail(const std::string& why) {
        log(GWD_LOG_ERROR, why);
        return false;
    }
    void log(int level, const std::string& message) { host_->log(ctx_, level, message.c_str()); }
    void set_problem(const std::string& problem) {
        if (host_->abi_version < 4 || problem == problem_) return;
        problem_ = problem;
        host_->set_problem(ctx_, problem.empty() ? nullptr : problem.c_str());
    }
    std::string command_text() const {
        std::string text;
        for (const auto& a : argv_) text += (text.empty() ? "" : " ") + a;
        return text.size() > 200 ? text.substr(0, 200) + "..." : text;
    }

    void run() {
        try {
            if (stream_)
                run_stream();
            else
                run_interval();
        } catch (...) {  // memory ran out: the sensor stops, the daemon does not
            log(GWD_LOG_ERROR, "stopped by an internal error");
        }
    }

    void run_interval() {
        auto next = Clock::now();
        while (!stopping_) {
            const Outcome o = run_once(Clock::now() + timeout_);
            if (o.stopped) return;
            if (o.timed_out) {
                set_problem("`" + command_text() + "` did not finish within its timeout and was killed");
            } else if (!o.how.empty()) {
                set_problem("`" + command_text() + "` " + o.how);
            } else {
                set_problem({});
            }
            next += interval_;
            if (next < Clock::now()) next = Clock::now() + interval_;  // a slow run skips the ticks it missed
            if (wait_until(next)) return;
        }
    }

    void run_stream() {
        milliseconds delay = restart_min_;
        while (!stopping_) {
            const auto started = Clock::now();
            const Outcome o = run_once(std::nullopt);
            if (o.stopped) return;
            if (Clock::now() - started >= kStableRun) delay = restart_min_;
            const std::string what = "`" + command_text() + "` " + (o.how.empty() ? "exited with status 0" : o.how) +
                                     " after " + std::to_string(o.readings) + " readings; starting it again in " +
                                     std::to_string(delay.count()) + " ms";
            log(GWD_LOG_WARNING, what);
            set_problem(what);
            if (wait_until(Clock::now() + delay)) return;
            delay = std::min(delay * 2, restart_max_);
        }
    }

    struct Outcome {
        std::string how;  // "" when it ran and exited with status 0
        size_t readings = 0;
        bool timed_out = false;
        bool stopped = false;
    };

    // One run: reads stdout and stderr until both close; past `deadline`
    // or on stop() the command's group is killed.
    Outcome run_once(std::optional<Clock::time_point> deadline) {
        Outcome o;
        std::string error;
        auto child = ChildCommand::spawn(argv_, env_, error);
        if (!child) {
            o.how = "could not be started: " + error;
            if (auto prefix = start_budget_.take(Clock::now())) log(GWD_LOG_ERROR, *prefix + error);
            return o;
        }
        LineSplitter out_lines, err_lines;
        auto on_out = [&](std::string_view line) {
            o.readings += handle_line(line);
            if (stream_ && o.readings > 0) set_problem({});
        };
        auto on_err = [&](std::string_view line) {
            if (auto prefix = stderr_budget_.take(Clock::now()))
                log(GWD_LOG_WARNING, *prefix + "stderr: " + std::string(line));
        };
        auto overlong = [&] { malformed("a line longer than " + std::to_string(kMaxLine) + " bytes", {}); };
        char buffer[16 * 1024];
        while (child->stdout_fd() >= 0 || child->stderr_fd() >= 0) {
            int wait_ms = 1000;
            if (deadline) {
                const auto left = std::chrono::duration_cast<milliseconds>(*deadline - Clock::now()).count();
                if (left <= 0) {
                    o.timed_out = true;
                    break;
                }
                wait_ms = static_cast<int>(std::min<long long>(left, wait_ms));
            }
            pollfd fds[3] = {{child->stdout_fd(), POLLIN, 0}, {child->stderr_fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
            const int ready = ::poll(fds, 3, wait_ms);
            if (ready < 0 && errno != EINTR) break;
            if (stopping_) {
                o.stopped = true;
                break;
            }
            for (int i = 0; i < 2; ++i) {
                if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
                const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
                if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
                LineSplitter& lines = i == 0 ? out_lines : err_lines;
                if (n <= 0) {
                    if (i == 0) {
                        lines.finish(on_out);
                        child->close_stdout();
                    } else {
                        lines.finish(on_err);
                        child->close_stderr();
                    }
                    continue;
                }
                if (i == 0)
                    lines.feed(buffer, static_cast<size_t>(n), on_out, overlong);
                else
                    lines.feed(buffer, static_cast<size_t>(n), on_err, [] {});
            }
        }
        if (o.timed_out || o.stopped || child->stdout_fd() >= 0 || child->stderr_fd() >= 0) {
            child->kill_group(kKillGrace);
            if (o.timed_out) {
                log(GWD_LOG_WARNING, "`" + command_text() + "` did not finish within " +
                                         std::to_string(timeout_.count()) + " ms: killed (SIGTERM, then SIGKILL); " +
                                         std::to_string(o.readings) + " readings it printed were used");
            }
            o.how = o.timed_out ? "timed out" : o.how;
            return o;
        }
        o.how = child->wait_exit();
        if (!o.how.empty() && !stream_) {
            log(GWD_LOG_WARNING, "`" + command_text() + "` " + o.how + "; the " + std::to_string(o.readings) +
                                     " readings it printed were used");
        }
        return o;
    }

    // Emits the readings of one line; returns how many were taken.
    size_t handle_line(std::string_view line) {
        ParsedLine parsed = parse_line(line, format_);
        if (!parsed.error.empty()) {
            malformed(parsed.error, line);
            return 0;
        }
        size_t taken = 0;
        for (const LineReading& r : parsed.readings) {
            std::vector<gwd_property> properties;
            properties.reserve(r.properties.size());
            for (const auto& [k, v] : r.properties) properties.push_back({k.c_str(), v.c_str()});
            gwd_reading reading{};
            reading.sensor = r.name.empty() ? reading_.c_str() : r.name.c_str();
            reading.timestamp_ms = r.timestamp_ms;
            reading.payload = r.payload.data();
            reading.payload_len = r.payload.size();
            reading.content_type = r.content_type.empty() ? nullptr : r.content_type.c_str();
            reading.properties = properties.data();
            reading.property_count = properties.size();
            if (host_->emit(ctx_, &reading) == GWD_OK) ++taken;  // a refusal is logged and counted by the host
        }
        return taken;
    }

    void malformed(const std::string& why, std::string_view line) {
        ++malformed_;
        if (auto prefix = malformed_budget_.take(Clock::now())) {
            std::string shown(line.substr(0, 200));
            log(GWD_LOG_WARNING, *prefix + "skipped a line that is not a reading (" + why + ")" +
                                     (shown.empty() ? "" : ": " + shown) + "; " + std::to_string(malformed_) +
                                     " so far");
        }
    }

    // Sleeps until `until`; true when stop() came first.
    bool wait_until(Clock::time_point until) {
        while (!stopping_) {
            const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
            if (left <= 0) return false;
            pollfd fd{wake_fd_, POLLIN, 0};
            ::poll(&fd, 1, static_cast<int>(std::min<long long>(left, 1000)));
        }
        return true;
    }

    const gwd_host_api* host_;
    gwd_context* ctx_;
    std::vector<std::string> argv_;
    std::vector<std::string> env_;
    bool stream_ = false;
    LineFormat format_ = LineFormat::automatic;
    milliseconds timeout_{5000};
    milliseconds restart_min_{1000};
    milliseconds restart_max_{60000};
    milliseconds interval_{10000};
    std::string reading_;
    std::string problem_;  // the plugin thread's
    unsigned long malformed_ = 0;
    LogBudget stderr_budget_, malformed_budget_, start_budget_;
    int wake_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

int create(const gwd_host_api* host, gwd_context* ctx, void** instance) {
    try {
        auto plugin = std::make_unique<Exec>(host, ctx);
        if (!plugin->configure()) return GWD_ERR_INVALID;
        *instance = plugin.release();
        return GWD_OK;
    } catch (...) {
        return GWD_ERR_NO_MEMORY;
    }
}

int start(void* instance) { return static_cast<Exec*>(instance)->start(); }
void stop(void* instance) { static_cast<Exec*>(instance)->stop(); }
void destroy(void* instance) { delete static_cast<Exec*>(instance); }

const gwd_plugin kDescriptor = [] {
    gwd_plugin d{};
    d.abi_version = GWD_PLUGIN_ABI_VERSION;
    d.flags = 0;
    d.name = "exec";
    d.version = "1.0.0";
    d.description = "runs a command and turns each line of its output into a reading";
    d.options = kOptions;
    d.create = create;
    d.start = start;
    d.stop = stop;
    d.destroy = destroy;
    return d;
}();

}  // namespace

extern "C" GWD_PLUGIN_EXPORT const gwd_plugin* gwd_plugin_entry(void) { return &kDescriptor; }
