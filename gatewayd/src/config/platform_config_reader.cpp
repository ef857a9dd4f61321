#include "config/platform_config_reader.h"

#include <algorithm>
#include <set>

#include "common/utc_time.h"
#include "topics/aws_topic.h"
#include "topics/topic_template.h"

namespace gwd {

namespace {

struct ProfileLimits {
    Duration keep_alive_min, keep_alive_max;
    const char* source;
};

// Keep alive ranges the platforms accept: AWS IoT Core's message broker limits
// (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits), Huawei IoTDA's
// "Limitations" (productdesc-iothub iot_04_0010) and OneNET's MQTTS manual
// (https://onenet.hk.chinamobile.com/suben/doc/mqtt/book/device-develop/manual.html).
ProfileLimits limits_of(PlatformProfile profile) {
    if (profile == PlatformProfile::aws)
        return {Duration(30000), Duration(1200000), "AWS IoT Core accepts 30s to 1200s"};
    if (profile == PlatformProfile::huawei)
        return {Duration(30000), Duration(1200000), "Huawei IoTDA accepts 30s to 1200s"};
    return {Duration(10000), Duration(1800000), "OneNET accepts 10s to 1800s"};
}

// The levels and bytes of a topic template with every variable at its
// shortest (one byte), for the AWS limits; a longer sensor name is caught
// per message.
std::string shortest_rendering(const std::string& text, const std::string& gateway, const std::string& upstream) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '{') {
            out += text[i];
            continue;
        }
        const size_t close = text.find('}', i);
        if (close == std::string::npos) return text;
        const std::string var = text.substr(i + 1, close - i - 1);
        out += var == "gateway" ? gateway : var == "upstream" ? upstream : "x";
        i = close;
    }
    return out;
}

bool is_aws_thing_name(std::string_view s) {
    return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
               c == '-';
    });
}

bool is_aws_shadow_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
               c == '-' || c == '$';
    });
}

bool is_plain_identifier(std::string_view s) {
    return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    });
}

// Huawei device ids, service ids and property names go into topics and
// JSON; '/', '+', '#' and control characters would break the former.
bool is_huawei_name(std::string_view s) {
    return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return c > 0x20 && c != 0x7F && c != '/' && c != '+' && c != '#' && c != '"' && c != '\\';
    });
}

void read_huawei(TableReader& r, const std::string& label, HuaweiSettings& h) {
    const std::string table = label + " [upstream.huawei]";
    h.device_id = r.string("device_id", true).value_or("");
    if (!h.device_id.empty() && !is_huawei_name(h.device_id))
        r.error("device_id", table + ": device_id '" + printable(h.device_id) +
                                 "' must be the console's device ID (no spaces, '/', '+' or '#')");
    if (auto f = r.file("secret_file", true)) {
        h.secret_file = *f;
        check_readable_file(r, "secret_file", h.secret_file);
    }
    if (auto v = r.integer("sign_type", 0, 1)) h.sign_type = static_cast<int>(*v);
    if (auto b = r.boolean("legacy_topics")) h.legacy_topics = *b;
    r.finish();
}

void read_onenet(TableReader& r, const std::string& label, OnenetSettings& o) {
    const std::string table = label + " [upstream.onenet]";
    o.product_id = r.string("product_id", true).value_or("");
    o.device_name = r.string("device_name", true).value_or("");
    for (auto [key, value] : {std::pair{"product_id", &o.product_id}, {"device_name", &o.device_name}}) {
        if (!value->empty() && !is_plain_identifier(*value))
            r.error(key, table + ": " + key + " '" + printable(*value) +
                             "' may hold letters, digits, '.', '_' and '-' only (as the OneNET console issues them)");
    }
    if (auto f = r.file("key_file", true)) {
        o.key_file = *f;
        check_readable_file(r, "key_file", o.key_file);
    }
    if (auto m = r.string("method")) {
        if (*m == "md5")
            o.method = OnenetMethod::md5;
        else if (*m == "sha1")
            o.method = OnenetMethod::sha1;
        else if (*m == "sha256")
            o.method = OnenetMethod::sha256;
        else
            r.error("method", table + ": method must be \"md5\", \"sha1\" or \"sha256\" (the token's signature)");
    }
    if (auto d = r.duration("token_validity", Duration(120000))) {
        if (*d > Duration(3650LL * 24 * 3600 * 1000))
            r.error("token_validity", table + ": token_validity must be at most 3650d");
        else
            o.token_validity = *d;
    }
    if (auto at = r.string("token_expires_at")) {
        // A fixed et, as the console's token tool and the official C SDK use.
        if (auto parsed = parse_utc_time(*at))
            o.token_expires_at = *parsed;
        else
            r.error("token_expires_at",
                    table + ": token_expires_at must be a UTC time such as \"2050-01-01T00:00:00Z\"");
        if (r.has("token_validity"))
            r.error("token_expires_at", table + ": set either token_validity or token_expires_at, not both");
    }
    r.finish();
}

void read_aws(TableReader& r, const std::string& label, const Config& config, AwsSettings& a) {
    const std::string table = label + " [upstream.aws]";
    a.thing_name = r.string("thing_name").value_or(config.gateway.id);
    if (!is_aws_thing_name(a.thing_name))
        r.error("thing_name", table + ": thing_name '" + printable(a.thing_name) +
                                  "' must be 1 to 128 letters, digits, ':', '_' or '-' (AWS thing names)");
    if (auto b = r.boolean("shadow")) a.shadow = *b;
    if (auto s = r.string("shadow_name")) {
        if (!s->empty() && !is_aws_shadow_name(*s))
            r.error("shadow_name", table + ": shadow_name must be 1 to 64 letters, digits, '$', ':', '_' or '-'");
        a.shadow_name = *s;
    }
    if (auto d = r.duration("shadow_interval", Duration(1000))) a.shadow_interval = *d;
    if (auto t = r.string("command_topic")) {
        std::string topic = *t;
        for (auto [var, value] :
             {std::pair<std::string, std::string>{"{thing}", a.thing_name}, {"{gateway}", config.gateway.id}}) {
            for (size_t at; (at = topic.find(var)) != std::string::npos;) topic.replace(at, var.size(), value);
        }
        if (!topic.empty()) {
            if (topic.find_first_of("+#") != std::string::npos || topic.find('{') != std::string::npos)
                r.error("command_topic", table +
                                             ": command_topic must be one topic without wildcards; only {thing} "
                                             "and {gateway} are replaced");
            else if (auto problem = aws_topic_problem(topic))
                r.error("command_topic", table + ": command_topic '" + topic + "': " + *problem);
        }
        a.command_topic = topic;
    }
    r.finish();
}

void read_mapping(TableReader& r, PlatformProfile profile, const std::string& label, const Config& config,
                  PlatformMapping& m) {
    m.where = r.where();
    m.sensor = r.string("sensor", true).value_or("");
    if (!m.sensor.empty()) {
        const std::string problem = topic_value_problem(m.sensor);
        if (!problem.empty()) r.error("sensor", label + ": sensor '" + printable(m.sensor) + "' " + problem);
    }
    if (auto i = r.string("instance")) {
        m.instance = *i;
        const bool known = std::any_of(config.sensors.begin(), config.sensors.end(),
                                       [&](const SensorConfig& s) { return s.name == *i; });
        if (!known) {
            std::vector<std::string> names;
            for (const auto& s : config.sensors) names.push_back(s.name);
            const std::string hint = nearest_match(*i, names);
            r.error("instance", label + ": instance '" + *i + "' names no [[sensor]]" +
                                    (hint.empty() ? std::string() : "; did you mean '" + hint + "'?"));
        }
    }
    if (auto c = r.string_list("commands")) m.commands = *c;
    if (profile == PlatformProfile::huawei) {
        m.service_id = r.string("service_id").value_or(m.sensor);
        m.property = r.string("property").value_or("value");
        m.device_id = r.string("device_id").value_or("");
        for (auto [key, value] : {std::pair{"service_id", &m.service_id}, {"property", &m.property}}) {
            if (!value->empty() && !is_huawei_name(*value))
                r.error(key, label + ": " + key + " '" + printable(*value) +
                                 "' must be a product model name "
                                 "(no spaces, quotes, '/', '+' or '#')");
        }
        if (!m.device_id.empty() && !is_huawei_name(m.device_id))
            r.error("device_id", label + ": device_id '" + printable(m.device_id) + "' is not a device ID");
    } else if (profile == PlatformProfile::onenet) {
        m.property = r.string("identifier").value_or(m.sensor);
        if (!is_plain_identifier(m.property))
            r.error("identifier", label + ": identifier '" + printable(m.property) +
                                      "' must be a thing-model identifier (letters, digits, '_', '-', '.')");
    } else if (profile == PlatformProfile::aws) {
        m.property = r.string("shadow_field").value_or(m.sensor);
        if (m.property.empty() || m.property.size() > 128)
            r.error("shadow_field", label + ": shadow_field must be 1 to 128 bytes");
    }
    r.finish();
}

}  // namespace

void apply_profile_defaults(UpstreamConfig& u, const Config& config) {
    if (u.profile == PlatformProfile::aws) {
        u.mqtt_version = 5;
        u.topic = "dt/{gateway}/{sensor}";
        u.max_publish_rate = 100;     // per connection, inbound and outbound together
        u.max_payload = 128 * 1024;   // AWS refuses larger PUBLISH packets
        u.dead_letter_topic.clear();  // the policy must allow a topic first
    } else if (u.profile == PlatformProfile::huawei) {
        u.mqtt_version = 4;
        u.max_publish_rate = 50;
        u.max_payload = 64 * 1024;        // a property report's limit (usermanual iot_01_0326)
        u.keep_alive = Duration(120000);  // the platform's recommendation
        u.dead_letter_topic.clear();      // the device's messages/up, once its id is known
    } else if (u.profile == PlatformProfile::onenet) {
        u.mqtt_version = 4;
        u.max_payload = 64 * 1024;  // [UNVERIFIED] platform limit; configurable
        u.keep_alive = Duration(120000);
        u.dead_letter_topic.clear();
    }
    (void)config;
}

void read_platform_settings(TableReader& r, const std::string& label, UpstreamConfig& u, const Config& config) {
    const PlatformProfile profile = u.profile;
    const std::string name(profile_name(profile));
    const bool platform = profile != PlatformProfile::mqtt;
    for (const char* table : {"huawei", "onenet", "aws"}) {
        if (table != name && r.has(table)) {
            r.known(table);
            r.error(table, label + ": [upstream." + table + "] belongs to profile = \"" + table +
                               "\", but this upstream has profile = \"" + name + "\"");
        }
    }
    if (!platform) {
        if (r.has("map")) {
            r.known("map");
            r.error("map", label + ": [[upstream.map]] applies to the cloud profiles (aws, huawei, onenet)");
        }
        return;
    }
    const toml::table* settings = r.table(name);
    if (profile != PlatformProfile::aws && settings == nullptr) {
        r.error_here(label + ": profile = \"" + name + "\" needs an [upstream." + name +
                     "] table with the console's device fields (see conf/examples/" + name + ".toml)");
    }
    static const toml::table empty;
    TableReader pr(settings ? *settings : empty, label + " [upstream." + name + "]", r.file(), r.diagnostics());
    if (profile == PlatformProfile::huawei && settings) read_huawei(pr, label, u.huawei);
    if (profile == PlatformProfile::onenet && settings) read_onenet(pr, label, u.onenet);
    if (profile == PlatformProfile::aws) read_aws(pr, label, config, u.aws);

    if (const toml::node* map = r.get("map")) {
        const toml::array* entries = map->as_array();
        if (entries == nullptr || !entries->is_array_of_tables()) {
            r.error("map", label + ": map must be written as [[upstream.map]] tables");
        } else {
            std::set<std::string> seen;
            size_t index = 0;
            for (const auto& node : *entries) {
                ++index;
                TableReader mr(*node.as_table(), label + " [[upstream.map]] #" + std::to_string(index), r.file(),
                               r.diagnostics());
                PlatformMapping m;
                read_mapping(mr, profile, mr.label(), config, m);
                if (!m.sensor.empty() && !seen.insert(m.sensor).second)
                    mr.error("sensor", mr.label() + ": sensor '" + m.sensor + "' is mapped twice");
                u.map.push_back(std::move(m));
            }
        }
    }

    // What the platform derives, the user cannot also set.
    if (profile == PlatformProfile::huawei || profile == PlatformProfile::onenet) {
        for (const char* key : {"client_id", "username", "password", "password_file"}) {
            if (r.has(key))
                r.error(key, label + ": " + key + " is derived from [upstream." + name + "] for profile = \"" + name +
                                 "\"; remove it");
        }
        if (r.has("topic"))
            r.error("topic",
                    label + ": profile = \"" + name + "\" publishes to the platform's own topics; remove topic");
    }
    // For status and the "two upstreams, one identity" check; the real
    // Huawei client id adds the sign type and the hour.
    if (profile == PlatformProfile::huawei) {
        u.client_id = u.huawei.device_id;
        // Device messages: the one topic besides reports that every device
        // may publish to, with content the platform does not check.
        if (!r.has("dead_letter_topic") && !u.huawei.device_id.empty() && !u.huawei.legacy_topics)
            u.dead_letter_topic = "$oc/devices/" + u.huawei.device_id + "/sys/messages/up";
        if (u.huawei.legacy_topics && !u.url.empty() && !u.tls)
            r.error("url", label +
                               ": the legacy OceanConnect topics (legacy_topics = true) are served over MQTTS "
                               "only (iot_06_3009); use ssl://<host>:8883");
    }
    if (profile == PlatformProfile::onenet) u.client_id = u.onenet.device_name;
    if (profile == PlatformProfile::aws) {
        if (!r.has("client_id")) u.client_id = u.aws.thing_name;
        if (!u.url.empty() && !u.tls)
            r.error(
                "url",
                label + ": AWS IoT Core needs TLS: use ssl://<prefix>-ats.iot.<region>.amazonaws.com:8883 (or :443)");
        if (!u.cert_file || !u.key_file)
            r.error_here(label +
                         ": AWS IoT Core authenticates the device certificate: set cert_file and key_file "
                         "(and ca_file, AmazonRootCA1.pem)");
        if (u.url.ends_with(":443") && u.alpn.empty()) u.alpn = "x-amzn-mqtt-ca";
        const std::string topic = shortest_rendering(u.topic, config.gateway.id, u.name);
        if (auto problem = aws_topic_problem(topic)) r.error("topic", label + ": topic '" + u.topic + "': " + *problem);
        if (!u.dead_letter_topic.empty()) {
            if (auto problem = aws_topic_problem(shortest_rendering(u.dead_letter_topic, config.gateway.id, u.name)))
                r.error("dead_letter_topic", label + ": dead_letter_topic '" + u.dead_letter_topic + "': " + *problem);
        }
        if (u.client_id.size() > 128)
            r.error("client_id", label + ": AWS IoT Core allows client ids of up to 128 bytes");
        if (u.qos > 1) r.error("qos", label + ": AWS IoT Core supports QoS 0 and 1 only");
    }
    const ProfileLimits limits = limits_of(profile);
    if (u.keep_alive < limits.keep_alive_min || u.keep_alive > limits.keep_alive_max) {
        r.error("keep_alive", label + ": keep_alive " + format_duration(u.keep_alive) +
                                  " is outside what the platform accepts (" + limits.source + ")");
    }
}

}  // namespace gwd
