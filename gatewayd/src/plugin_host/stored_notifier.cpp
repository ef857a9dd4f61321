#include "plugin_host/stored_notifier.h"

#include <pthread.h>

#include "plugin_host/crash_guard.h"

namespace gwd {

StoredNotifier::StoredNotifier(Deliver deliver, std::string thread_name)
    : deliver_(std::move(deliver)), thread_name_(std::move(thread_name)) {
    thread_ = std::thread([this] { run(); });
}

StoredNotifier::~StoredNotifier() {
    stop(std::chrono::steady_clock::now() + std::chrono::seconds(10));
    if (thread_.joinable()) thread_.detach();
}

void StoredNotifier::settled(void* ack_context, bool stored) {
    bool first = false;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        first = queue_.empty();
        queue_.emplace_back(ack_context, stored);
    }
    if (first) cv_.notify_one();  // the rest ride on that wake-up: the thread takes the whole queue
}

bool StoredNotifier::stop(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    queue_.clear();
    cv_.notify_all();
    if (!thread_.joinable() || thread_.get_id() == std::this_thread::get_id()) return true;
    if (!cv_.wait_until(lock, deadline, [&] { return finished_; })) return false;
    lock.unlock();
    thread_.join();
    return true;
}

std::uint64_t StoredNotifier::delivered() const {
    std::lock_guard lock(mutex_);
    return delivered_;
}

void StoredNotifier::run() {
    pthread_setname_np(pthread_self(), thread_name_.substr(0, 15).c_str());
    crash_guard::AltStack alt_stack;
    std::vector<std::pair<void*, bool>> batch;
    std::unique_lock lock(mutex_);
    while (true) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) {
            finished_ = true;
            cv_.notify_all();
            return;
        }
        batch.swap(queue_);
        lock.unlock();
        for (const auto& [context, stored] : batch) deliver_(context, stored);
        lock.lock();
        delivered_ += batch.size();
        batch.clear();
    }
}

}  // namespace gwd
