// The child side of isolation = "process": what `gatewayd --plugin-worker`
// runs. It loads one sensor's plugin and runs it in a SensorInstance, as
// the daemon would, with two differences: its readings go over the socket
// on `fd` (one frame each, written before emit() returns, so a crash right
// after loses none of them), and its log lines and status go there too. A
// reading the plugin wants stored() for is settled when the daemon says it
// is stored. The daemon drives it: Init, Start, Stop; commands; acks.
#pragma once

#include <sys/types.h>

namespace gwd {

// Returns the process's exit status; exits at once when the daemon is gone.
int run_plugin_worker(int fd, pid_t parent);

}  // namespace gwd
