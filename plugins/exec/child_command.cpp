#include "child_command.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace exec_plugin {

namespace {

std::string signal_name(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace

std::unique_ptr<ChildCommand> ChildCommand::spawn(const std::vector<std::string>& argv,
                                                  const std::vector<std::string>& env_extra, std::string& error) {
    if (argv.empty()) {
        error = "no command";
        return nullptr;
    }
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        error = std::string("cannot make a pipe: ") + std::strerror(errno);
        return nullptr;
    }
    if (::pipe2(err, O_CLOEXEC) != 0) {
        error = std::string("cannot make a pipe: ") + std::strerror(errno);
        ::close(out[0]);
        ::close(out[1]);
        return nullptr;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    // Nothing of the daemon's (upstream sockets, queue files) reaches the command.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, and signals as a new process has them: the
    // daemon blocks the ones it waits for, and a blocked SIGTERM would make
    // a timeout wait for SIGKILL.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM})
        sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.push_back(*e);
    for (const auto& e : env_extra) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);

    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(err[1]);
    if (rc != 0) {
        error = "cannot run " + argv[0] + ": " + std::strerror(rc);
        ::close(out[0]);
        ::close(err[0]);
        return nullptr;
    }
    return std::unique_ptr<ChildCommand>(new ChildCommand(pid, out[0], err[0]));
}

ChildCommand::~ChildCommand() {
    if (!reaped_) kill_group(std::chrono::milliseconds(0));
    close_stdout();
    close_stderr();
}

void ChildCommand::close_stdout() {
    if (out_ >= 0) ::close(out_);
    out_ = -1;
}

void ChildCommand::close_stderr() {
    if (err_ >= 0) ::close(err_);
    err_ = -1;
}

bool ChildCommand::reap(int options) {
    if (reaped_) return true;
    while (true) {
        const pid_t r = ::waitpid(pid_, &status_, options);
        if (r == pid_) return reaped_ = true;
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return reaped_ = true;  // not ours to wait for any more
        return false;                      // WNOHANG: still running
    }
}

void ChildCommand::kill_group(std::chrono::milliseconds grace) {
    if (reaped_) return;  // its number may belong to someone else by now
    ::kill(-pid_, SIGTERM);
    // Until it is reaped the leader's number cannot be reused, so the group
    // is still its own: watch for its exit without reaping (WNOWAIT).
    const auto give_up = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < give_up) {
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(-pid_, SIGKILL);  // it, if it ignored SIGTERM, and whatever it started
    reap(0);
}

std::string ChildCommand::wait_exit() {
    reap(0);
    if (WIFEXITED(status_)) {
        return WEXITSTATUS(status_) == 0 ? "" : "exited with status " + std::to_string(WEXITSTATUS(status_));
    }
    if (WIFSIGNALED(status_)) return "killed by " + signal_name(WTERMSIG(status_));
    return "ended";
}

}  // namespace exec_plugin
