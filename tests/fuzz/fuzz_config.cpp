// Any bytes as a gatewayd.toml: a clear error or a configuration, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)gwd::parse_config(text, "fuzz.toml", "fuzzhost");
    return 0;
}
