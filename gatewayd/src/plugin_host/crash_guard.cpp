#include "plugin_host/crash_guard.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>

namespace gwd::crash_guard {

namespace {

constexpr int kMaxSensors = 256;
constexpr int kMaxImages = 64;
constexpr int kMaxFrames = 48;

struct SensorEntry {
    std::atomic<bool> used{false};
    char sensor[128];
    char plugin[64];
    char record[448];
};

struct ImageEntry {
    std::atomic<bool> used{false};
    std::uintptr_t start = 0, end = 0;
    char plugin[64];
};

SensorEntry g_sensors[kMaxSensors];
ImageEntry g_images[kMaxImages];
std::mutex g_claim_mutex;  // claim/release only; the handler never takes it
int g_journal_fd = -1;
bool g_journald = false;
std::atomic<bool> g_crashing{false};

thread_local int tl_slot = -1;
thread_local const char* tl_call = nullptr;
thread_local int tl_plugin_thread_slot = -1;

// Copies `text` into `out`, cut to fit, control characters replaced: what
// the handler prints and journals must stay one line.
void copy_field(char* out, size_t capacity, std::string_view text, bool keep_tabs = false) {
    size_t n = 0;
    for (char c : text) {
        if (n + 1 >= capacity) break;
        const bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
        out[n++] = control && !(keep_tabs && c == '\t') ? '?' : c;
    }
    out[n] = '\0';
}

// A line built without allocation.
class Line {
public:
    Line& add(const char* text) {
        while (*text != '\0' && n_ + 1 < sizeof buf_) buf_[n_++] = *text++;
        return *this;
    }
    Line& number(std::uint64_t value, int min_digits = 1) {
        char digits[24];
        int d = 0;
        do {
            digits[d++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0 && d < 24);
        while (d < min_digits && d < 24) digits[d++] = '0';
        while (d > 0 && n_ + 1 < sizeof buf_) buf_[n_++] = digits[--d];
        return *this;
    }
    Line& hex(std::uintptr_t value) {
        add("0x");
        char digits[20];
        int d = 0;
        do {
            digits[d++] = "0123456789abcdef"[value & 0xF];
            value >>= 4;
        } while (value != 0 && d < 20);
        while (d > 0 && n_ + 1 < sizeof buf_) buf_[n_++] = digits[--d];
        return *this;
    }
    void write_to(int fd) const {
        const char* p = buf_;
        size_t left = n_;
        while (left > 0) {
            const ssize_t w = ::write(fd, p, left);
            if (w <= 0) return;
            p += w;
            left -= static_cast<size_t>(w);
        }
    }

private:
    char buf_[1536];
    size_t n_ = 0;
};

// 2026-12-02T01:57:17.548Z, from arithmetic alone (gmtime_r is not
// async-signal-safe). Days to civil date: H. Hinnant's algorithm.
void add_utc_time(Line& line, std::int64_t ms) {
    const std::int64_t seconds = ms / 1000;
    std::int64_t days = seconds / 86400;
    const std::int64_t in_day = seconds % 86400;
    days += 719468;
    const std::int64_t era = days / 146097;
    const std::int64_t doe = days - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    line.number(static_cast<std::uint64_t>(year), 4).add("-").number(static_cast<std::uint64_t>(month), 2).add("-");
    line.number(static_cast<std::uint64_t>(day), 2).add("T").number(static_cast<std::uint64_t>(in_day / 3600), 2);
    line.add(":").number(static_cast<std::uint64_t>(in_day % 3600 / 60), 2).add(":");
    line.number(static_cast<std::uint64_t>(in_day % 60), 2).add(".").number(static_cast<std::uint64_t>(ms % 1000), 3);
    line.add("Z");
}

const char* signal_name(int sig) {
    switch (sig) {
        case SIGSEGV: return "SIGSEGV";
        case SIGBUS: return "SIGBUS";
        case SIGILL: return "SIGILL";
        case SIGFPE: return "SIGFPE";
        case SIGABRT: return "SIGABRT";
        case SIGSYS: return "SIGSYS";
        default: return "a fatal signal";
    }
}

int image_at(std::uintptr_t address) {
    for (int i = 0; i < kMaxImages; ++i) {
        const ImageEntry& image = g_images[i];
        if (image.used.load(std::memory_order_acquire) && address >= image.start && address < image.end) return i;
    }
    return -1;
}

// Unwinding a stack that crashed may itself fault (a jump to a wild address
// leaves no unwind information): a fault during the walk returns here.
sigjmp_buf g_unwind_escape;

void on_fault_while_unwinding(int) { siglongjmp(g_unwind_escape, 1); }

[[gnu::noinline]] int plugin_in_backtrace() {
    void* frames[kMaxFrames];
    const int n = backtrace(frames, kMaxFrames);
    for (int i = 0; i < n; ++i) {
        const int image = image_at(reinterpret_cast<std::uintptr_t>(frames[i]));
        if (image >= 0) return image;
    }
    return -1;
}

// The plugin image with a return address on this thread's stack, or -1.
int plugin_on_stack() {
    struct sigaction escape {
    }, old_segv{}, old_bus{};
    escape.sa_handler = on_fault_while_unwinding;
    escape.sa_flags = SA_ONSTACK | SA_NODEFER;
    sigemptyset(&escape.sa_mask);
    sigaction(SIGSEGV, &escape, &old_segv);
    sigaction(SIGBUS, &escape, &old_bus);
    volatile int image = -1;
    if (sigsetjmp(g_unwind_escape, 1) == 0) image = plugin_in_backtrace();
    sigaction(SIGSEGV, &old_segv, nullptr);
    sigaction(SIGBUS, &old_bus, nullptr);
    return image;
}

std::uintptr_t faulting_pc(void* context) {
    if (context == nullptr) return 0;
    const auto* uc = static_cast<const ucontext_t*>(context);
#if defined(__x86_64__)
    return static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
    return static_cast<std::uintptr_t>(uc->uc_mcontext.pc);
#else
    (void)uc;
    return 0;
#endif
}

void journal(std::int64_t ms, int sig, const char* call, const SensorEntry& sensor) {
    if (g_journal_fd < 0) return;
    Line line;
    line.number(static_cast<std::uint64_t>(ms)).add("\t").add(signal_name(sig)).add("\t").add(call);
    line.add("\t").add(sensor.record).add("\n");
    line.write_to(g_journal_fd);
}

void on_fatal_signal(int sig, siginfo_t* info, void* context) {
    // Another thread crashing at the same time: let the first one report.
    if (g_crashing.exchange(true)) {
        raise(sig);
        return;
    }
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    const std::int64_t ms = static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;

    int slot = tl_slot;
    const char* call = tl_call;
    if (slot < 0 && tl_plugin_thread_slot >= 0) {
        slot = tl_plugin_thread_slot;
        call = "its own thread";
    }
    int image = image_at(faulting_pc(context));
    if (image < 0 && slot < 0) image = plugin_on_stack();
    if (slot >= 0 && !g_sensors[slot].used.load(std::memory_order_acquire)) slot = -1;

    Line line;
    if (g_journald) {
        line.add("<2>");
    } else {
        add_utc_time(line, ms);
        line.add(" error ");
    }
    line.add("plugins: fatal signal ").add(signal_name(sig));
    if (sig == SIGSEGV || sig == SIGBUS)
        line.add(" (address ").hex(reinterpret_cast<std::uintptr_t>(info->si_addr)).add(")");
    if (slot >= 0) {
        const SensorEntry& s = g_sensors[slot];
        line.add(" in sensor '").add(s.sensor).add("' (plugin ").add(s.plugin).add(")");
        line.add(call != nullptr && std::strcmp(call, "its own thread") == 0 ? " on " : " during ");
        line.add(call != nullptr ? call : "a call")
            .add(call != nullptr && std::strcmp(call, "its own thread") != 0 ? "()" : "");
        journal(ms, sig, call != nullptr ? call : "-", s);
    } else if (image >= 0) {
        // The plugin's code is on the stack but the thread was not one the
        // host knows: every sensor of that plugin is a suspect.
        line.add(" in plugin ").add(g_images[image].plugin).add(" (sensors:");
        for (int i = 0; i < kMaxSensors; ++i) {
            const SensorEntry& s = g_sensors[i];
            if (!s.used.load(std::memory_order_acquire) || std::strcmp(s.plugin, g_images[image].plugin) != 0) continue;
            line.add(" '").add(s.sensor).add("'");
            journal(ms, sig, "its own thread", s);
        }
        line.add(")");
    } else {
        line.add(" in gatewayd's own code (no plugin code on the crashing thread); please report it");
    }
    if (slot >= 0 || image >= 0) {
        line.add(
            "; gatewayd stops. A sensor that crashes gatewayd twice within a minute is left disabled at the next "
            "start");
    }
    line.add("\n");
    line.write_to(STDERR_FILENO);
    // SA_RESETHAND restored the default action: the signal, pending until
    // this handler returns, ends the process as it would have (core dump
    // and all). A fault would also recur on return.
    raise(sig);
}

}  // namespace

void install(int journal_fd, bool journald) {
    static std::once_flag once;
    std::call_once(once, [&] {
        g_journal_fd = journal_fd;
        g_journald = journald;
        // backtrace() loads libgcc on its first call, which allocates: do
        // that now, not in the handler.
        void* warm[2];
        backtrace(warm, 2);
        struct sigaction action {};
        action.sa_sigaction = on_fatal_signal;
        // SA_NODEFER: the handler may fault once more while it unwinds the
        // stack (see plugin_on_stack), and must be able to catch that.
        action.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS}) sigaction(sig, &action, nullptr);
    });
}

int claim_sensor(std::string_view sensor, std::string_view plugin, std::string_view record) {
    std::lock_guard lock(g_claim_mutex);
    for (int i = 0; i < kMaxSensors; ++i) {
        SensorEntry& s = g_sensors[i];
        if (s.used.load(std::memory_order_relaxed)) continue;
        copy_field(s.sensor, sizeof s.sensor, sensor);
        copy_field(s.plugin, sizeof s.plugin, plugin);
        copy_field(s.record, sizeof s.record, record, true);  // its fields are tab-separated
        s.used.store(true, std::memory_order_release);
        return i;
    }
    return -1;
}

void release_sensor(int slot) {
    if (slot < 0 || slot >= kMaxSensors) return;
    std::lock_guard lock(g_claim_mutex);
    g_sensors[slot].used.store(false, std::memory_order_release);
}

int register_image(std::string_view plugin, const void* address_inside) {
    Dl_info info{};
    if (address_inside == nullptr || dladdr(address_inside, &info) == 0 || info.dli_fbase == nullptr) return -1;
    struct Range {
        const void* base;
        std::uintptr_t start = 0, end = 0;
    } range{info.dli_fbase};
    dl_iterate_phdr(
        [](struct dl_phdr_info* object, size_t, void* data) {
            auto* r = static_cast<Range*>(data);
            std::uintptr_t lowest = UINTPTR_MAX, highest = 0;
            for (int i = 0; i < object->dlpi_phnum; ++i) {
                const ElfW(Phdr)& ph = object->dlpi_phdr[i];
                if (ph.p_type != PT_LOAD) continue;
                const std::uintptr_t start = object->dlpi_addr + ph.p_vaddr;
                lowest = std::min(lowest, start);
                highest = std::max(highest, static_cast<std::uintptr_t>(start + ph.p_memsz));
            }
            if (lowest == UINTPTR_MAX || reinterpret_cast<std::uintptr_t>(r->base) < lowest ||
                reinterpret_cast<std::uintptr_t>(r->base) >= highest)
                return 0;
            r->start = lowest;
            r->end = highest;
            return 1;
        },
        &range);
    if (range.end == 0) return -1;
    std::lock_guard lock(g_claim_mutex);
    for (int i = 0; i < kMaxImages; ++i) {
        ImageEntry& image = g_images[i];
        if (image.used.load(std::memory_order_relaxed)) continue;
        image.start = range.start;
        image.end = range.end;
        copy_field(image.plugin, sizeof image.plugin, plugin);
        image.used.store(true, std::memory_order_release);
        return i;
    }
    return -1;
}

void release_image(int image) {
    if (image < 0 || image >= kMaxImages) return;
    std::lock_guard lock(g_claim_mutex);
    g_images[image].used.store(false, std::memory_order_release);
}

InPlugin::InPlugin(int slot, const char* call) : previous_slot_(tl_slot), previous_call_(tl_call) {
    tl_slot = slot;
    tl_call = call;
}

InPlugin::~InPlugin() {
    tl_slot = previous_slot_;
    tl_call = previous_call_;
}

void note_plugin_thread(int slot) {
    if (tl_slot < 0) tl_plugin_thread_slot = slot;
}

AltStack::AltStack() {
    constexpr size_t kSize = 64 * 1024;
    memory_ = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory_ == MAP_FAILED) {
        memory_ = nullptr;
        return;
    }
    stack_t stack{};
    stack.ss_sp = memory_;
    stack.ss_size = kSize;
    if (sigaltstack(&stack, nullptr) != 0) {
        munmap(memory_, kSize);
        memory_ = nullptr;
    }
}

AltStack::~AltStack() {
    if (memory_ == nullptr) return;
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
    munmap(memory_, 64 * 1024);
}

}  // namespace gwd::crash_guard
