#include "process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "temp_dir.h"

namespace gwd::test {

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
                           const std::vector<std::string>& env, const std::filesystem::path& cwd)
    : log_file_(log_file) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // Everything the child needs is prepared before fork(): the test process
    // has other threads (Paho's), so the child may only call
    // async-signal-safe functions until exec.
    std::vector<std::string> environment;
    for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
    environment.insert(environment.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string log_path = log_file.string();
    const std::string dir = cwd.string();
    sigset_t none;
    sigemptyset(&none);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, STDIN_FILENO);
        // The test runner may block signals; the child must start clean.
        sigprocmask(SIG_SETMASK, &none, nullptr);
        if (!dir.empty() && chdir(dir.c_str()) != 0) _exit(126);
        execvpe(args[0], args.data(), envp.data());
        _exit(127);
    }
}

ChildProcess::~ChildProcess() {
    if (running()) {
        ::kill(pid_, SIGKILL);
        wait(std::chrono::seconds(10));
    }
}

bool ChildProcess::running() {
    if (status_) return false;
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == 0) return true;
    if (r == pid_)
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    else
        status_ = -1;
    return false;
}

void ChildProcess::signal(int sig) {
    if (running()) ::kill(pid_, sig);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
    eventually([this] { return !running(); }, timeout);
    return status_;
}

std::string ChildProcess::output() const { return read_file(log_file_); }

bool ChildProcess::wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) const {
    return eventually([&] { return output().find(needle) != std::string::npos; }, timeout);
}

int run_command(const std::vector<std::string>& argv, std::string& output, std::chrono::milliseconds timeout) {
    TempDir dir;
    auto log = dir.path() / "output";
    ChildProcess child(argv, log);
    auto status = child.wait(timeout);
    output += child.output();
    return status ? *status : -1;
}

}  // namespace gwd::test
