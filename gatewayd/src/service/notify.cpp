#include "service/notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

namespace gwd::service {

namespace {
std::string one_line(std::string text) {
    for (char& c : text)
        if (c == '\n') c = ';';
    return text;
}
}  // namespace

void notify_ready(const std::string& status) { sd_notify(0, ("READY=1\nSTATUS=" + one_line(status)).c_str()); }

void notify_status(const std::string& status) { sd_notify(0, ("STATUS=" + one_line(status)).c_str()); }

void notify_stopping() { sd_notify(0, "STOPPING=1\nSTATUS=stopping"); }

void notify_reloading() {
    // systemd 253 wants MONOTONIC_USEC with RELOADING=1; older ones ignore it.
    struct timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const unsigned long long usec =
        static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL + static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
    sd_notify(0, ("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec)).c_str());
}

}  // namespace gwd::service
