// Carries platform commands from the upstream sessions to the plugins, on a
// thread of its own, so a slow plugin never holds up publishing. One command
// runs at a time; a bounded queue waits behind it, and a command that finds
// the queue full (or the daemon stopping) is answered at once, never dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "common/command.h"

namespace gwd {

class CommandDispatcher final : public CommandRouter {
public:
    static constexpr size_t kMaxQueued = 256;
    using Runner = std::function<CommandOutcome(const Command&)>;

    explicit CommandDispatcher(Runner runner);
    ~CommandDispatcher() override;

    void dispatch(Command command, std::function<void(CommandOutcome)> done) override;
    // Answers what still waits with "gatewayd is stopping" and waits for the
    // command in progress until `deadline`; false when it was still running
    // then (its thread is left to finish: this object must stay alive).
    bool stop(std::chrono::steady_clock::time_point deadline);

private:
    void run();

    Runner runner_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::pair<Command, std::function<void(CommandOutcome)>>> queue_;
    bool stopping_ = false;
    bool finished_ = false;  // run() has returned
    std::thread thread_;
};

}  // namespace gwd
