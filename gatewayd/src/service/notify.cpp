#include "service/notify.h"

#include <systemd/sd-daemon.h>

namespace gwd::service {

namespace {
std::string one_line(std::string text) {
    for (char& c : text)
        if (c == '\n') c = ';';
    return text;
}
}  // namespace

void notify_ready(const std::string& status) {
    sd_notify(0, ("READY=1\nSTATUS=" + one_line(status)).c_str());
}

void notify_status(const std::string& status) { sd_notify(0, ("STATUS=" + one_line(status)).c_str()); }

void notify_stopping() { sd_notify(0, "STOPPING=1\nSTATUS=stopping"); }

}  // namespace gwd::service
