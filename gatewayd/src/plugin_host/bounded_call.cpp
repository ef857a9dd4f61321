#include "plugin_host/bounded_call.h"

#include <pthread.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "plugin_host/crash_guard.h"

namespace gwd {

namespace {
struct Completion {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
};
}  // namespace

bool run_bounded(std::function<void()> call, std::chrono::steady_clock::time_point deadline,
                 const std::string& thread_name) {
    auto completion = std::make_shared<Completion>();
    std::thread([call = std::move(call), completion, name = thread_name.substr(0, 15)] {
        pthread_setname_np(pthread_self(), name.c_str());
        crash_guard::AltStack alt_stack;  // a plugin that overflows its stack still gets named
        call();
        {
            std::lock_guard lock(completion->mutex);
            completion->done = true;
        }
        completion->cv.notify_all();
    }).detach();
    std::unique_lock lock(completion->mutex);
    return completion->cv.wait_until(lock, deadline, [&] { return completion->done; });
}

}  // namespace gwd
