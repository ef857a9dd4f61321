// Carries store outcomes back to a plugin's stored() callback, on a thread
// of its own: never inside emit() (the plugin may hold its own locks there)
// and never on an outbox's committer (a slow plugin must not hold up the
// disk). Stopping it drops whatever is still queued or settles later.
// Its thread runs plugin code (stored()), so stopping waits only until a
// deadline; a thread stuck in the plugin is then left running, detached.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/store_ticket.h"

namespace gwd {

class StoredNotifier final : public StoreListener {
public:
    using Deliver = std::function<void(void* ack_context, bool stored)>;

    StoredNotifier(Deliver deliver, std::string thread_name);
    ~StoredNotifier() override;

    void settled(void* ack_context, bool stored) override;
    // Delivers nothing more and waits for a delivery in progress until
    // `deadline`; false when one was still running then (the object must
    // then outlive its thread: keep it).
    bool stop(std::chrono::steady_clock::time_point deadline);
    std::uint64_t delivered() const;

private:
    void run();

    Deliver deliver_;
    std::string thread_name_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::pair<void*, bool>> queue_;
    bool stopping_ = false;
    bool finished_ = false;  // the thread has left run()
    std::uint64_t delivered_ = 0;
    std::thread thread_;
};

}  // namespace gwd
