#include "mqtt/broker_url.h"

#include <algorithm>
#include <cctype>

namespace gwd::mqtt {

std::string BrokerUrl::str() const {
    const bool v6 = host.find(':') != std::string::npos;
    return std::string(tls ? "ssl://" : "tcp://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<BrokerUrl> parse_host_port(std::string_view text, int default_port, std::string& error) {
    BrokerUrl out;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos) {
            error = "has an unclosed '[' in its IPv6 address";
            return std::nullopt;
        }
        out.host = std::string(text.substr(1, close - 1));
        const std::string_view after = text.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                error = "has unexpected text after the IPv6 address";
                return std::nullopt;
            }
            port_text = after.substr(1);
        }
    } else {
        const size_t colon = text.rfind(':');
        out.host = std::string(text.substr(0, colon));
        if (colon != std::string_view::npos) port_text = text.substr(colon + 1);
    }
    if (out.host.empty()) {
        error = "has no host";
        return std::nullopt;
    }
    if (out.host.find_first_of("/@") != std::string::npos) {
        error = "must be scheme://host[:port] with no path or user; put credentials in username/password_file";
        return std::nullopt;
    }
    out.port = default_port;
    if (!port_text.empty()) {
        if (port_text.size() > 5 ||
            !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            error = "has an invalid port '" + std::string(port_text) + "'";
            return std::nullopt;
        }
        out.port = std::stoi(std::string(port_text));
        if (out.port < 1 || out.port > 65535) {
            error = "has port " + std::to_string(out.port) + ", outside 1..65535";
            return std::nullopt;
        }
    }
    return out;
}

std::optional<BrokerUrl> parse_broker_url(std::string_view url, std::string& error) {
    const size_t sep = url.find("://");
    if (sep == std::string_view::npos) {
        error =
            "needs a scheme, e.g. \"tcp://" + std::string(url) + ":1883\" or \"ssl://" + std::string(url) + ":8883\"";
        return std::nullopt;
    }
    std::string scheme(url.substr(0, sep));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
    bool tls = false;
    if (scheme == "tcp" || scheme == "mqtt") {
        tls = false;
    } else if (scheme == "ssl" || scheme == "mqtts" || scheme == "tls") {
        tls = true;
    } else {
        error = "has unsupported scheme '" + scheme + "://' (use tcp:// or ssl://)";
        return std::nullopt;
    }
    std::string_view rest = url.substr(sep + 3);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.find('/') != std::string_view::npos || rest.find('@') != std::string_view::npos) {
        error = "must be scheme://host[:port] with no path or user; put credentials in username/password_file";
        return std::nullopt;
    }
    auto out = parse_host_port(rest, tls ? 8883 : 1883, error);
    if (out) out->tls = tls;
    return out;
}

}  // namespace gwd::mqtt
