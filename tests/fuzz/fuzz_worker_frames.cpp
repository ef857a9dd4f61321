// Any bytes on the socket of a plugin process (a plugin can write to it
// itself): split and decoded into frames, or refused with a reason; a frame
// that decodes encodes back to the very same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "plugin_host/worker_frames.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    gwd::worker::FrameSplitter splitter(1 << 20);
    splitter.feed(std::string_view(reinterpret_cast<const char*>(data), size));
    std::string error;
    while (std::optional<std::string_view> body = splitter.take(error)) {
        std::optional<gwd::worker::Frame> frame = gwd::worker::decode(*body, error);
        if (!frame) continue;
        const std::string again = gwd::worker::encode(*frame);
        if (again.substr(4) != *body) std::abort();
    }
    return 0;
}
