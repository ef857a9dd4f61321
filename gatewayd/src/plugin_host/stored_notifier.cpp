#include "plugin_host/stored_notifier.h"

#include <pthread.h>

namespace gwd {

StoredNotifier::StoredNotifier(Deliver deliver, std::string thread_name)
    : deliver_(std::move(deliver)), thread_name_(std::move(thread_name)) {
    thread_ = std::thread([this] { run(); });
}

StoredNotifier::~StoredNotifier() { stop(); }

void StoredNotifier::settled(void* ack_context, bool stored) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        queue_.emplace_back(ack_context, stored);
    }
    cv_.notify_one();
}

void StoredNotifier::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        queue_.clear();
    }
    cv_.notify_one();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::uint64_t StoredNotifier::delivered() const {
    std::lock_guard lock(mutex_);
    return delivered_;
}

void StoredNotifier::run() {
    pthread_setname_np(pthread_self(), thread_name_.substr(0, 15).c_str());
    std::vector<std::pair<void*, bool>> batch;
    std::unique_lock lock(mutex_);
    while (true) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        batch.swap(queue_);
        lock.unlock();
        for (const auto& [context, stored] : batch) deliver_(context, stored);
        lock.lock();
        delivered_ += batch.size();
        batch.clear();
    }
}

}  // namespace gwd
