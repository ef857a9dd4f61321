#include "config/config_compare.h"

#include <cstdlib>

namespace gwd {

bool same_option_values(const OptionValue& a, const OptionValue& b) {
    if (a.value.index() != b.value.index()) return false;
    if (a.is_list()) {
        const auto& x = std::get<OptionValue::List>(a.value);
        const auto& y = std::get<OptionValue::List>(b.value);
        if (x.size() != y.size()) return false;
        for (size_t i = 0; i < x.size(); ++i)
            if (!same_option_values(x[i], y[i])) return false;
        return true;
    }
    if (a.is_table()) {
        const auto& x = std::get<OptionValue::Table>(a.value);
        const auto& y = std::get<OptionValue::Table>(b.value);
        if (x.size() != y.size()) return false;
        for (size_t i = 0; i < x.size(); ++i)
            if (x[i].first != y[i].first || !same_option_values(x[i].second, y[i].second)) return false;
        return true;
    }
    if (a.is_string()) return std::get<std::string>(a.value) == std::get<std::string>(b.value);
    if (a.is_integer()) return std::get<std::int64_t>(a.value) == std::get<std::int64_t>(b.value);
    if (a.is_float()) return std::get<double>(a.value) == std::get<double>(b.value);
    return std::get<bool>(a.value) == std::get<bool>(b.value);
}

bool same_settings(const SensorConfig& a, const SensorConfig& b) {
    return a.name == b.name && a.plugin == b.plugin && a.interval == b.interval && a.enabled == b.enabled &&
           a.isolation == b.isolation && a.content_type == b.content_type && same_option_values(a.options, b.options);
}

bool same_settings(const UpstreamConfig& a, const UpstreamConfig& b) {
    UpstreamConfig x = a, y = b;
    x.where = y.where = SourceLocation{};
    // The queue's bounds apply to a running session without a reconnect.
    x.max_bytes = y.max_bytes;
    x.overflow = y.overflow;
    return x == y;
}

std::filesystem::path runtime_dir_of(const GatewayConfig& gateway) {
    if (gateway.runtime_dir) return *gateway.runtime_dir;
    if (const char* env = std::getenv("RUNTIME_DIRECTORY"); env != nullptr && env[0] != '\0') {
        // systemd may list several, separated by ':'; the first is ours.
        std::string first(env);
        return first.substr(0, first.find(':'));
    }
    return "/run/gatewayd";
}

std::filesystem::path status_socket_path(const GatewayConfig& gateway) {
    return runtime_dir_of(gateway) / "gatewayd.sock";
}

}  // namespace gwd
