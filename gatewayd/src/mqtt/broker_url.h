// Where a broker is: scheme://host[:port], as the configuration, the
// mqtt_local plugin and a Server Reference name it. One parser for all.
// Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gwd::mqtt {

struct BrokerUrl {
    bool tls = false;
    std::string host;  // a name, IPv4, or IPv6 without its brackets
    int port = 0;
    // tcp://host:port or ssl://host:port, IPv6 in brackets: as Paho takes it.
    std::string str() const;
};

// tcp:// and mqtt:// (port 1883 unless given), ssl://, mqtts:// and tls://
// (8883); a host name, IPv4 or [IPv6]; no path, no user. nullopt with
// `error`, a phrase that follows the URL ("needs a scheme, e.g. ...").
std::optional<BrokerUrl> parse_broker_url(std::string_view url, std::string& error);

// host, host:port or [IPv6]:port; `default_port` when none is given.
// nullopt with `error` as above.
std::optional<BrokerUrl> parse_host_port(std::string_view text, int default_port, std::string& error);

}  // namespace gwd::mqtt
