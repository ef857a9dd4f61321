#include "plugin_host/command_dispatcher.h"

#include <pthread.h>

namespace gwd {

CommandDispatcher::CommandDispatcher(Runner runner) : runner_(std::move(runner)) {
    thread_ = std::thread([this] { run(); });
}

CommandDispatcher::~CommandDispatcher() {
    if (!stop(std::chrono::steady_clock::now() + std::chrono::seconds(30))) thread_.detach();
}

void CommandDispatcher::dispatch(Command command, std::function<void(CommandOutcome)> done) {
    bool stopping;
    {
        std::lock_guard lock(mutex_);
        stopping = stopping_;
        if (!stopping_ && queue_.size() < kMaxQueued) {
            queue_.emplace_back(std::move(command), std::move(done));
            cv_.notify_all();
            return;
        }
    }
    done(CommandOutcome::failure(CommandOutcome::Status::failed,
                                 stopping ? "gatewayd is stopping" : "too many commands are waiting; try again"));
}

bool CommandDispatcher::stop(std::chrono::steady_clock::time_point deadline) {
    std::deque<std::pair<Command, std::function<void(CommandOutcome)>>> left;
    std::unique_lock lock(mutex_);
    if (stopping_ && !thread_.joinable()) return true;
    stopping_ = true;
    left.swap(queue_);
    cv_.notify_all();
    const bool finished = cv_.wait_until(lock, deadline, [&] { return finished_; });
    lock.unlock();
    if (finished && thread_.joinable()) thread_.join();
    for (auto& [command, done] : left)
        done(CommandOutcome::failure(CommandOutcome::Status::failed, "gatewayd is stopping"));
    return finished;
}

void CommandDispatcher::run() {
    pthread_setname_np(pthread_self(), "commands");
    while (true) {
        std::pair<Command, std::function<void(CommandOutcome)>> next;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) {
                finished_ = true;
                cv_.notify_all();
                return;
            }
            next = std::move(queue_.front());
            queue_.pop_front();
        }
        next.second(runner_(next.first));
    }
}

}  // namespace gwd
