#include "plugin_host/sensor_fingerprint.h"

#include <sys/stat.h>

#include <cstdint>
#include <cstdio>

namespace gwd {

namespace {

// FNV-1a: stable across builds and runs, unlike std::hash.
class Fnv1a {
public:
    void add(std::string_view text) {
        for (unsigned char c : text) {
            hash_ ^= c;
            hash_ *= 1099511628211ull;
        }
        hash_ ^= 0xFF;  // a separator no UTF-8 text contains
        hash_ *= 1099511628211ull;
    }
    std::string hex() const {
        char out[17];
        std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(hash_));
        return out;
    }

private:
    std::uint64_t hash_ = 14695981039346656037ull;
};

void add_option(Fnv1a& h, const OptionValue& v) {
    if (v.is_string()) {
        h.add("s");
        h.add(std::get<std::string>(v.value));
    } else if (v.is_integer()) {
        h.add("i" + std::to_string(std::get<std::int64_t>(v.value)));
    } else if (v.is_float()) {
        char text[40];
        std::snprintf(text, sizeof text, "f%.17g", std::get<double>(v.value));
        h.add(text);
    } else if (v.is_bool()) {
        h.add(std::get<bool>(v.value) ? "true" : "false");
    } else if (v.is_list()) {
        const auto& list = std::get<OptionValue::List>(v.value);
        h.add("[" + std::to_string(list.size()));
        for (const auto& item : list) add_option(h, item);
    } else {
        const auto& table = std::get<OptionValue::Table>(v.value);
        h.add("{" + std::to_string(table.size()));
        for (const auto& [key, value] : table) {
            h.add(key);
            add_option(h, value);
        }
    }
}

}  // namespace

std::string sensor_fingerprint(const SensorConfig& sensor, const std::filesystem::path& plugin_file) {
    Fnv1a h;
    h.add(sensor.name);
    h.add(sensor.plugin);
    h.add(std::to_string(sensor.interval.count()));
    h.add(sensor.enabled ? "enabled" : "disabled");
    if (sensor.isolation == Isolation::process) h.add("isolation=process");
    h.add(sensor.content_type.value_or(""));
    add_option(h, sensor.options);
    struct stat st {};
    if (stat(plugin_file.c_str(), &st) == 0) {
        h.add(std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
              std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ino));
    } else {
        h.add("absent");
    }
    return h.hex();
}

}  // namespace gwd
