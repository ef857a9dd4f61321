// One run of a sensor command: a child in a process group of its own (so a
// timeout kills whatever it started too), stdin from /dev/null, stdout and
// stderr on pipes, no descriptor of the daemon's, signals as a fresh
// process has them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace exec_plugin {

class ChildCommand {
public:
    // nullptr with `error` set when it cannot be started (no such file, ...).
    // `env_extra`: "NAME=value" entries added to the daemon's environment.
    static std::unique_ptr<ChildCommand> spawn(const std::vector<std::string>& argv,
                                               const std::vector<std::string>& env_extra, std::string& error);
    ~ChildCommand();  // kills the group and reaps the child if it still runs
    ChildCommand(const ChildCommand&) = delete;
    ChildCommand& operator=(const ChildCommand&) = delete;

    int stdout_fd() const { return out_; }
    int stderr_fd() const { return err_; }
    void close_stdout();
    void close_stderr();
    pid_t pid() const { return pid_; }

    // SIGTERM to the group; SIGKILL once `grace` has passed; then reaped.
    void kill_group(std::chrono::milliseconds grace);
    // Waits for the child to exit (after its pipes closed). "" for status 0,
    // else "exited with status 3" or "killed by signal SIGSEGV".
    std::string wait_exit();

private:
    ChildCommand(pid_t pid, int out, int err) : pid_(pid), out_(out), err_(err) {}
    bool reap(int options);

    pid_t pid_;
    int out_, err_;
    bool reaped_ = false;
    int status_ = 0;
};

}  // namespace exec_plugin
