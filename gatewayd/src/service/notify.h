// The systemd notify protocol (sd_notify). Each call is a no-op outside
// systemd, where NOTIFY_SOCKET is unset.
#pragma once

#include <string>

namespace gwd::service {

void notify_ready(const std::string& status);
void notify_status(const std::string& status);
void notify_stopping();
void notify_reloading();

}  // namespace gwd::service
