// A child process for integration tests: started with fork/exec, stdout and
// stderr captured to a file, always killed when the test lets go of it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gwd::test {

class ChildProcess {
public:
    // Starts argv[0] with `argv`; output goes to `log_file`. `env` entries
    // ("NAME=value") are added to the environment.
    ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
                 const std::vector<std::string>& env = {}, const std::filesystem::path& cwd = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    bool running();
    void signal(int sig);
    // The exit status (or 128 + signal) once the process ends within
    // `timeout`; nullopt when it is still running.
    std::optional<int> wait(std::chrono::milliseconds timeout);

    std::string output() const;
    // Polls output() until it contains `needle` or `timeout` passes.
    bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) const;

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path log_file_;
};

// Runs a command to completion (bounded by `timeout`) and returns its exit
// status; its output is appended to `output`.
int run_command(const std::vector<std::string>& argv, std::string& output,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Polls `predicate` every 20 ms until it holds or `timeout` passes.
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout);

// Boost.Test's BOOST_REQUIRE_MESSAGE(condition, message) hands both to one
// function call, and C++ leaves the order of its arguments open: GCC builds
// the message first. A log tail in the message of a condition that waits was
// read before the wait, so a failure showed the log as it was when the wait
// began (a reconnect that came during it seemed never to happen). These
// evaluate the condition first.
#define GWD_REQUIRE(condition, message)                                \
    do {                                                               \
        const bool gwd_condition_held_ = static_cast<bool>(condition); \
        BOOST_REQUIRE_MESSAGE(gwd_condition_held_, message);           \
    } while (false)
#define GWD_CHECK(condition, message)                                  \
    do {                                                               \
        const bool gwd_condition_held_ = static_cast<bool>(condition); \
        BOOST_CHECK_MESSAGE(gwd_condition_held_, message);             \
    } while (false)

}  // namespace gwd::test

#include <thread>

namespace gwd::test {
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout) {
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (predicate()) return true;
        if (std::chrono::steady_clock::now() > give_up) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}
}  // namespace gwd::test
