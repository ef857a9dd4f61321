#include "plugin_host/command_dispatcher.h"

#include <pthread.h>

namespace gwd {

CommandDispatcher::CommandDispatcher(Runner runner) : runner_(std::move(runner)) {
    thread_ = std::thread([this] { run(); });
}

CommandDispatcher::~CommandDispatcher() { stop(); }

void CommandDispatcher::dispatch(Command command, std::function<void(CommandOutcome)> done) {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_ && queue_.size() < kMaxQueued) {
            queue_.emplace_back(std::move(command), std::move(done));
            cv_.notify_one();
            return;
        }
    }
    done(CommandOutcome::failure(CommandOutcome::Status::failed,
                                 stopping_ ? "gatewayd is stopping" : "too many commands are waiting; try again"));
}

void CommandDispatcher::stop() {
    std::deque<std::pair<Command, std::function<void(CommandOutcome)>>> left;
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
        left.swap(queue_);
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (auto& [command, done] : left)
        done(CommandOutcome::failure(CommandOutcome::Status::failed, "gatewayd is stopping"));
}

void CommandDispatcher::run() {
    pthread_setname_np(pthread_self(), "commands");
    while (true) {
        std::pair<Command, std::function<void(CommandOutcome)>> next;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            next = std::move(queue_.front());
            queue_.pop_front();
        }
        next.second(runner_(next.first));
    }
}

}  // namespace gwd
