// Names the plugin when plugin code kills the daemon. A fatal signal
// (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS) is caught once: the
// handler says on stderr which sensor and plugin was running on the crashing
// thread and in which call, appends a line to the crash journal (so the next
// start can quarantine a sensor that keeps crashing the daemon), and then
// dies of the same signal, as it would have without the handler.
//
// Which sensor: a thread the host runs plugin code on says so (InPlugin)
// while it does; a plugin's own thread is known by the sensor it last
// emitted or logged for (note_plugin_thread); failing both, the return
// addresses on the crashing stack are looked up in the plugins' code
// ranges. Everything the handler reads lives in fixed tables written before
// the crash, so it allocates nothing and calls only async-signal-safe code.
#pragma once

#include <string_view>

namespace gwd::crash_guard {

// Installs the handlers (once per process). `journal_fd` receives one line
// per crash caused by plugin code (or -1 for none). `journald`: stderr is
// journald's stream (lines carry a <priority> prefix instead of a time).
void install(int journal_fd, bool journald);

// One running sensor instance, as the handler names it. `record` is the
// journal line's tail (see crash_journal.h). -1 when the table is full.
int claim_sensor(std::string_view sensor, std::string_view plugin, std::string_view record);
void release_sensor(int slot);

// The code of a loaded plugin file: any address inside it finds the rest.
int register_image(std::string_view plugin, const void* address_inside);
void release_image(int image);

// While alive, this thread runs `call` ("poll", "start", ...) of the sensor
// in `slot` (-1: none). Nests.
class InPlugin {
public:
    InPlugin(int slot, const char* call);
    ~InPlugin();
    InPlugin(const InPlugin&) = delete;
    InPlugin& operator=(const InPlugin&) = delete;

private:
    int previous_slot_;
    const char* previous_call_;
};

// This thread called into the host for the sensor in `slot` (emit, log): if
// it is the plugin's own thread and crashes later, it is that sensor's.
void note_plugin_thread(int slot);

// A small alternate signal stack for this thread, so that a plugin that
// overflows its stack still gets its crash reported. For threads the host
// creates to run plugin code; freed when the object goes.
class AltStack {
public:
    AltStack();
    ~AltStack();
    AltStack(const AltStack&) = delete;
    AltStack& operator=(const AltStack&) = delete;

private:
    void* memory_ = nullptr;
};

}  // namespace gwd::crash_guard
