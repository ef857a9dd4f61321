// Any reading a plugin can emit (payload, declared content type, user
// properties): the normalizer settles it or says why, never crashes.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "normalize/normalizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const gwd::Normalizer normalizer{gwd::NormalizerOptions{}};
    FuzzedDataProvider in(data, size);
    std::vector<std::string> strings;
    const int properties = in.ConsumeIntegralInRange(0, 6);
    for (int i = 0; i < 2 * properties; ++i) strings.push_back(in.ConsumeRandomLengthString(64));
    const bool declared = in.ConsumeBool();
    const std::string content_type = in.ConsumeRandomLengthString(64);
    const bool sensor_default = in.ConsumeBool();
    const std::string payload = in.ConsumeRemainingBytesAsString();
    std::vector<gwd::PropertyView> views;
    for (int i = 0; i < properties; ++i) views.push_back({strings[2 * i], strings[2 * i + 1]});
    gwd::ReadingView reading;
    reading.sensor = "s";
    reading.instance = "i";
    reading.payload = payload;
    if (declared) reading.content_type = content_type;
    reading.properties = views;
    gwd::SensorDefaults defaults;
    if (sensor_default) defaults.content_type = "application/json";
    (void)normalizer.normalize(reading, defaults, 1764633600000);
    return 0;
}
