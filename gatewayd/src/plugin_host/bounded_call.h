// Runs plugin code that may never return. The host cannot interrupt a
// thread inside a plugin, so it runs each lifecycle call (create, start,
// stop, destroy, command) on a thread of its own and waits only until a
// deadline. A call that is still running then is abandoned: its thread goes
// on, detached, and keeps alive whatever the call captured. The caller
// learns that it must never free, unload or call into that plugin instance
// again.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace gwd {

// True when `call` returned before `deadline`. `thread_name` (at most 15
// characters are kept) names the thread in ps and gdb.
bool run_bounded(std::function<void()> call, std::chrono::steady_clock::time_point deadline,
                 const std::string& thread_name);

}  // namespace gwd
