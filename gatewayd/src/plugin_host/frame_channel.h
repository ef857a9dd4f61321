// One end of the socket between gatewayd and a plugin process: owns the
// descriptor (closed with the last owner, so a late writer never writes to a
// reused number) and sends whole frames, one writer at a time.
#pragma once

#include <chrono>
#include <mutex>
#include <string_view>

namespace gwd {

class FrameChannel {
public:
    using Clock = std::chrono::steady_clock;

    explicit FrameChannel(int fd) : fd_(fd) {}
    ~FrameChannel();
    FrameChannel(const FrameChannel&) = delete;
    FrameChannel& operator=(const FrameChannel&) = delete;

    int fd() const { return fd_; }
    // Writes all of `bytes` (one or more encoded frames), waiting for room
    // until `deadline` on a non-blocking descriptor. False when the peer is
    // gone or did not read in time; the channel is then broken for good (a
    // frame cut in the middle would desynchronise the stream).
    bool send(std::string_view bytes, Clock::time_point deadline = Clock::time_point::max());
    bool broken() const;

private:
    int fd_;
    mutable std::mutex mutex_;
    bool broken_ = false;
};

}  // namespace gwd
