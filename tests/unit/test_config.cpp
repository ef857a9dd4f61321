#define BOOST_TEST_MODULE config
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/file_reference.h"
#include "config/config_loader.h"
#include "temp_dir.h"

using namespace gwd;

namespace {
const std::string kUpstream = R"(
[[upstream]]
name = "cloud"
url = "tcp://127.0.0.1:1883"
)";

ConfigLoadResult parse(const std::string& text) { return parse_config(text, "gw.toml", "edge-host"); }

std::vector<std::string> errors(const std::string& text) {
    std::vector<std::string> out;
    const ConfigLoadResult result = parse(text);
    for (const auto& d : result.diagnostics.items()) out.push_back(d.str());
    return out;
}

std::string only_error(const std::string& text) {
    auto e = errors(text);
    BOOST_TEST_REQUIRE(e.size() == 1u, "expected one error, got " << e.size() << (e.empty() ? "" : ": " + e[0]));
    return e[0];
}
}  // namespace

BOOST_AUTO_TEST_CASE(issue_example_config_loads) {
    test::TempDir dir;
    auto pass = dir.write("cloud.pass", "secret\n");
    std::string text = R"(
[gateway]
id = "gw-01"
plugin_dir = "build/plugins"
state_dir = "/var/lib/gatewayd"

[[sensor]]
name = "field"
plugin = "mqtt_local"
interval = "5s"
[sensor.options]
url = "tcp://127.0.0.1:1883"
topics = ["sensors/gateway01/#"]

[[upstream]]
name = "cloud"
profile = "mqtt"
url = "tcp://127.0.0.1:1883"
client_id = "gw-01"
username = "gw"
password_file = ")" + pass.string() +
                       R"("
mqtt_version = 5
qos = 1
topic = "telemetry/{gateway}/{sensor}"
)";
    auto result = parse(text);
    for (const auto& d : result.diagnostics.items()) BOOST_TEST_MESSAGE(d.str());
    BOOST_REQUIRE(result.config);
    const Config& c = *result.config;
    BOOST_TEST(c.gateway.id == "gw-01");
    BOOST_TEST(c.gateway.plugin_dir == "build/plugins");
    BOOST_TEST(c.gateway.state_dir == "/var/lib/gatewayd");
    BOOST_REQUIRE(c.sensors.size() == 1u);
    BOOST_TEST(c.sensors[0].name == "field");
    BOOST_TEST(c.sensors[0].plugin == "mqtt_local");
    BOOST_TEST(c.sensors[0].interval.count() == 5000);
    BOOST_TEST(c.sensors[0].options.find("url") != nullptr);
    BOOST_TEST(c.sensors[0].options.find("topics")->is_list());
    BOOST_REQUIRE(c.upstreams.size() == 1u);
    const UpstreamConfig& u = c.upstreams[0];
    BOOST_TEST(u.url == "tcp://127.0.0.1:1883");
    BOOST_TEST(!u.tls);
    BOOST_TEST(u.client_id == "gw-01");
    BOOST_TEST(*u.username == "gw");
    BOOST_TEST(u.password_file->string() == pass.string());
    BOOST_TEST(u.mqtt_version == 5);
    BOOST_TEST(u.qos == 1);
    BOOST_TEST(u.topic == "telemetry/{gateway}/{sensor}");
    BOOST_TEST(!u.envelope);
    BOOST_TEST(u.dead_letter_topic == "deadletter/{gateway}/{sensor}");
}

BOOST_AUTO_TEST_CASE(defaults) {
    auto result = parse(kUpstream);
    BOOST_REQUIRE(result.config);
    const Config& c = *result.config;
    BOOST_TEST(c.gateway.id == "edge-host");
    BOOST_TEST(c.gateway.plugin_dir == "/usr/lib/gatewayd/plugins");
    BOOST_TEST(c.gateway.state_dir == "/var/lib/gatewayd");
    BOOST_TEST(c.upstreams[0].client_id == "edge-host");
    BOOST_TEST(c.upstreams[0].keep_alive.count() == 60000);
    BOOST_TEST((c.upstreams[0].outbox == OutboxKind::disk));
    BOOST_TEST(c.upstreams[0].max_bytes == 256ull * 1024 * 1024);
    BOOST_TEST((c.upstreams[0].overflow == OverflowPolicy::drop_oldest));
    BOOST_TEST((c.upstreams[0].fsync == FsyncPolicy::batch));
    BOOST_TEST(c.upstreams[0].fsync_interval.count() == 50);
    BOOST_TEST(!c.upstreams[0].message_expiry.has_value());
    BOOST_TEST(c.upstreams[0].backoff.initial.count() == 1000);
    BOOST_TEST(c.upstreams[0].backoff.max.count() == 120000);
}

BOOST_AUTO_TEST_CASE(unknown_key_names_line_column_and_nearest_key) {
    std::string text = kUpstream + R"(
[[sensor]]
name = "field"
plugn = "mqtt_local"
)";
    auto e = errors(text);
    BOOST_REQUIRE(e.size() == 2u);
    BOOST_TEST(e[0] == "gw.toml:6:1: sensor 'field' needs 'plugin'");
    BOOST_TEST(e[1] == "gw.toml:8:1: unknown key 'plugn' in sensor 'field'; did you mean 'plugin'?");
}

BOOST_AUTO_TEST_CASE(unknown_top_level_table_and_gateway_key) {
    std::string text = "[gateway]\nid = \"gw\"\nplugin_dri = \"x\"\n\n[normalise]\nsniff = true\n" + kUpstream;
    auto e = errors(text);
    BOOST_REQUIRE(e.size() == 2u);
    BOOST_TEST(e[0] == "gw.toml:3:1: unknown key 'plugin_dri' in [gateway]; did you mean 'plugin_dir'?");
    BOOST_TEST(e[1] == "gw.toml:5:2: unknown key 'normalise' in the top level; did you mean 'normalize'?");
}

BOOST_AUTO_TEST_CASE(toml_syntax_errors_carry_their_position) {
    std::string e = only_error("[gateway]\nid = \"unterminated\n");
    BOOST_TEST(e.rfind("gw.toml:2:", 0) == 0, e);
}

BOOST_AUTO_TEST_CASE(type_errors_name_what_was_expected) {
    BOOST_TEST(only_error(kUpstream + "qos = \"1\"\n") ==
               "gw.toml:5:7: upstream 'cloud': 'qos' must be an integer, not a string");
    BOOST_TEST(only_error(kUpstream + "keep_alive = 30\n") ==
               "gw.toml:5:14: upstream 'cloud': 'keep_alive' needs a unit: write \"30s\" (units: ms, s, m, h, d)");
}

BOOST_AUTO_TEST_CASE(value_errors) {
    BOOST_TEST(only_error(kUpstream + "qos = 2\n").find("qos 2 is not supported; use 1") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "mqtt_version = 3\n").find("use 4 (MQTT 3.1.1) or 5") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "topic = \"t/{sensr}\"\n").find("did you mean {sensor}?") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "topic = \"t/#\"\n").find("wildcard") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "profile = \"mqtt5\"\n").find("did you mean 'mqtt'?") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "overflow = \"drop\"\n").find("drop-oldest") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "max_bytes = \"64 parsecs\"\n").find("unknown unit") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(choices_name_every_allowed_value) {
    BOOST_TEST(only_error(kUpstream + "replay = \"newest-first\"\n") ==
               "gw.toml:5:10: upstream 'cloud': replay must be \"oldest-first\" (the default) or \"live-first\" "
               "(new readings before the backlog), not \"newest-first\"");
    BOOST_TEST(only_error(kUpstream + "fsync = \"sometimes\"\n")
                   .find("fsync must be \"batch\" (the default), \"always\" or \"never\", not \"sometimes\"") !=
               std::string::npos);
    auto r = parse(kUpstream + "replay = \"live-first\"\n\n[normalize]\non_decode_error = \"drop\"\n");
    BOOST_REQUIRE(r.config);
    BOOST_TEST((r.config->upstreams[0].replay == ReplayOrder::live_first));
    BOOST_TEST((r.config->normalize.on_decode_error == DecodeErrorPolicy::drop));
}

BOOST_AUTO_TEST_CASE(outbox_settings) {
    auto r = parse(kUpstream + "qos = 0\noutbox = \"memory\"\n");
    BOOST_REQUIRE(r.config);
    BOOST_TEST((r.config->upstreams[0].outbox == OutboxKind::memory));
    BOOST_TEST(r.config->upstreams[0].max_bytes == 8ull * 1024 * 1024);
    r = parse(kUpstream +
              "fsync = \"always\"\nfsync_interval = \"10ms\"\nmax_bytes = \"1GiB\"\n"
              "overflow = \"drop-newest\"\nmessage_expiry = \"1h\"\n");
    BOOST_REQUIRE(r.config);
    const UpstreamConfig& u = r.config->upstreams[0];
    BOOST_TEST((u.fsync == FsyncPolicy::always));
    BOOST_TEST(u.fsync_interval.count() == 10);
    BOOST_TEST(u.max_bytes == 1024ull * 1024 * 1024);
    BOOST_TEST((u.overflow == OverflowPolicy::drop_newest));
    BOOST_TEST(u.message_expiry->count() == 3600000);

    BOOST_TEST(only_error(kUpstream + "outbox = \"memory\"\n").find("allowed only with qos = 0") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "outbox = \"ram\"\n").find("must be \"disk\"") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "fsync = \"sometimes\"\n").find("\"batch\"") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "qos = 0\noutbox = \"memory\"\nfsync = \"always\"\n")
                   .find("applies to outbox = \"disk\" only") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "message_expiry = \"1500ms\"\n").find("whole seconds") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "fsync_interval = \"2m\"\n").find("at most 60s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(batch_settings) {
    auto r = parse(kUpstream);
    BOOST_REQUIRE(r.config);
    BOOST_TEST(!r.config->upstreams[0].batch.enabled());  // off unless asked for
    r = parse(kUpstream + "batch = {}\n");
    BOOST_REQUIRE(r.config);
    BOOST_TEST(r.config->upstreams[0].batch.max_readings == 100u);
    BOOST_TEST(r.config->upstreams[0].batch.max_bytes == 64u * 1024);
    BOOST_TEST(r.config->upstreams[0].batch.linger.count() == 0);
    r = parse(kUpstream + "[upstream.batch]\nmax_readings = 10\nmax_bytes = \"5KB\"\nlinger = \"250ms\"\n");
    BOOST_REQUIRE(r.config);
    const BatchConfig& b = r.config->upstreams[0].batch;
    BOOST_TEST(b.max_readings == 10u);
    BOOST_TEST(b.max_bytes == 5000u);
    BOOST_TEST(b.linger.count() == 250);
    BOOST_TEST(only_error(kUpstream + "batch = { max_readings = 0 }\n").find("max_readings") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "batch = { max_bytes = \"10B\" }\n").find("from 256B to 1MiB") !=
               std::string::npos);
    BOOST_TEST(only_error(kUpstream + "batch = { linger = \"2m\" }\n").find("at most 60s") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "batch = { max_reading = 5 }\n").find("did you mean 'max_readings'") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(replay_settings) {
    auto r = parse(kUpstream);
    BOOST_REQUIRE(r.config);
    BOOST_TEST((r.config->upstreams[0].replay == ReplayOrder::oldest_first));
    r = parse(kUpstream + "replay = \"live-first\"\nreplay_share = 0.25\n");
    BOOST_REQUIRE(r.config);
    BOOST_TEST((r.config->upstreams[0].replay == ReplayOrder::live_first));
    BOOST_TEST(r.config->upstreams[0].replay_share == 0.25);
    BOOST_TEST(only_error(kUpstream + "replay = \"newest\"\n").find("\"live-first\"") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "replay = \"live-first\"\nreplay_share = 1\n").find("between 0 and 1") !=
               std::string::npos);
    BOOST_TEST(only_error(kUpstream + "replay_share = 0.5\n").find("applies to replay = \"live-first\" only") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(sensor_expiry) {
    const std::string sensor = "[[sensor]]\nname = \"s\"\nplugin = \"simulated\"\n";
    auto r = parse(sensor + "expiry = \"10m\"\n" + kUpstream);
    BOOST_REQUIRE(r.config);
    BOOST_TEST(r.config->sensors[0].expiry->count() == 600000);
    BOOST_TEST(only_error(sensor + "expiry = \"500ms\"\n" + kUpstream).find("at least 1s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(urls) {
    auto url_of = [](const std::string& url) {
        auto r = parse("[[upstream]]\nname = \"u\"\nurl = \"" + url + "\"\n");
        return r.config ? r.config->upstreams[0].url : "error: " + r.diagnostics.items()[0].message;
    };
    BOOST_TEST(url_of("tcp://127.0.0.1:1883") == "tcp://127.0.0.1:1883");
    BOOST_TEST(url_of("mqtt://broker") == "tcp://broker:1883");
    BOOST_TEST(url_of("mqtts://broker") == "ssl://broker:8883");
    BOOST_TEST(url_of("ssl://[::1]:8884") == "ssl://[::1]:8884");
    BOOST_TEST(url_of("broker:1883").find("needs a scheme") != std::string::npos);
    BOOST_TEST(url_of("http://broker").find("unsupported scheme") != std::string::npos);
    BOOST_TEST(url_of("tcp://broker:99999").find("outside 1..65535") != std::string::npos);
    BOOST_TEST(url_of("tcp://user@broker").find("no path or user") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secrets_and_tls_files_must_be_readable) {
    BOOST_TEST(only_error(kUpstream + "password_file = \"/nonexistent/cloud.pass\"\n")
                   .find("password_file '/nonexistent/cloud.pass' cannot be read: No such file or directory") !=
               std::string::npos);
    test::TempDir dir;
    auto ca = dir.write("ca.pem", "x");
    BOOST_TEST(only_error(kUpstream + "ca_file = \"" + ca.string() + "\"\n").find("use ssl:// for TLS") !=
               std::string::npos);
    BOOST_TEST(only_error("[[upstream]]\nname = \"u\"\nurl = \"ssl://h\"\ncert_file = \"" + ca.string() + "\"\n")
                   .find("cert_file and key_file go together") != std::string::npos);
    BOOST_TEST(only_error(kUpstream + "password = \"a\"\npassword_file = \"" + ca.string() + "\"\n")
                   .find("either password or password_file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(duplicates_and_references) {
    std::string sensors =
        "[[sensor]]\nname = \"a\"\nplugin = \"simulated\"\n[[sensor]]\nname = \"a\"\nplugin = \"simulated\"\n";
    BOOST_TEST(only_error(sensors + kUpstream).find("sensor 'a' is defined twice (first at line 1)") !=
               std::string::npos);
    std::string routed =
        "[[sensor]]\nname = \"field\"\nplugin = \"simulated\"\n" + kUpstream + "sensors = [\"feild\"]\n";
    BOOST_TEST(only_error(routed).find("no [[sensor]] has that name; did you mean 'field'?") != std::string::npos);
    BOOST_TEST(only_error("").find("no [[upstream]] is configured") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sensor_written_as_a_plain_table) {
    BOOST_TEST(only_error("[sensor]\nname = \"x\"\n" + kUpstream).find("must be written [[sensor]]") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(names_must_be_safe_in_topics_and_file_names) {
    BOOST_TEST(only_error("[[sensor]]\nname = \"a/#\"\nplugin = \"x\"\n" + kUpstream).find("wildcard") !=
               std::string::npos);
    BOOST_TEST(only_error("[[sensor]]\nname = \"a\"\nplugin = \"../evil\"\n" + kUpstream).find("plain name") !=
               std::string::npos);
    BOOST_TEST(only_error("[gateway]\nid = \"gw/1\"\n" + kUpstream).find("contains '/'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(normalize_section) {
    std::string text = R"(
[normalize]
on_decode_error = "drop"
dead_letter_topic = "dl/{sensor}"
deny = ["X-Debug-*"]
builtin_rules = false
[normalize.content_types]
"x-temp" = "text/plain"
[normalize.rename]
"Serial-No" = "serial"
[[normalize.rule]]
keys = ["Device"]
pattern = "{vendor}/{model}"
lowercase = ["vendor"]
)" + kUpstream;
    auto result = parse(text);
    for (const auto& d : result.diagnostics.items()) BOOST_TEST_MESSAGE(d.str());
    BOOST_REQUIRE(result.config);
    const auto& n = result.config->normalize;
    BOOST_TEST((n.on_decode_error == DecodeErrorPolicy::drop));
    BOOST_TEST(result.config->upstreams[0].dead_letter_topic == "dl/{sensor}");
    UserProperties out;
    n.options.rules.apply("Device", "ACME/T1000", out);
    n.options.rules.apply("Serial-No", "42", out);
    n.options.rules.apply("X-Debug-Trace", "1", out);
    n.options.rules.apply("Hardware-Revision", "Xiaomi-rev1", out);  // builtin rules are off
    BOOST_REQUIRE(out.size() == 4u);
    BOOST_TEST(out[0].key == "vendor");
    BOOST_TEST(out[0].value == "acme");
    BOOST_TEST(out[1].key == "model");
    BOOST_TEST(out[2].key == "serial");
    BOOST_TEST(out[3].key == "Hardware-Revision");
    BOOST_TEST(*n.options.aliases.find("X-TEMP") == "text/plain");
}

BOOST_AUTO_TEST_CASE(bad_normalize_rules) {
    BOOST_TEST(only_error("[[normalize.rule]]\nkeys = [\"a\"]\npattern = \"{x}{y}\"\n" + kUpstream)
                   .find("need literal text between them") != std::string::npos);
    BOOST_TEST(only_error("[[normalize.rule]]\npattern = \"{x}\"\n" + kUpstream).find("needs 'keys'") !=
               std::string::npos);
    BOOST_TEST(only_error("[normalize.content_types]\nfoo = \"not a type\"\n" + kUpstream).find("MIME type") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_file_and_directory) {
    auto missing = load_config_file("/nonexistent/gatewayd.toml", "h");
    BOOST_REQUIRE(missing.diagnostics.items().size() == 1u);
    BOOST_TEST(missing.diagnostics.items()[0].str() ==
               "/nonexistent/gatewayd.toml: cannot read the configuration: No such file or directory (pass another "
               "file with --config PATH)");
    auto dir = load_config_file("/tmp", "h");
    BOOST_TEST(dir.diagnostics.items()[0].str().find("is a directory") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(options_keep_their_positions) {
    auto result = parse("[[sensor]]\nname = \"s\"\nplugin = \"p\"\n[sensor.options]\nurl = \"tcp://x\"\n" + kUpstream);
    BOOST_REQUIRE(result.config);
    const OptionValue* url = result.config->sensors[0].options.find("url");
    BOOST_REQUIRE(url);
    BOOST_TEST(url->key_where.line == 5);
    BOOST_TEST(url->key_where.column == 1);
    BOOST_TEST(url->where.column == 7);
}

BOOST_AUTO_TEST_CASE(two_upstreams_with_one_identity_on_one_broker) {
    std::string text =
        "[gateway]\nid = \"gw\"\n"
        "[[upstream]]\nname = \"a\"\nurl = \"tcp://127.0.0.1:1883\"\n"
        "[[upstream]]\nname = \"b\"\nurl = \"tcp://127.0.0.1:1883\"\n";
    BOOST_TEST(only_error(text).find("'b' and upstream 'a' would both connect to tcp://127.0.0.1:1883 as client id "
                                     "'gw'") != std::string::npos);
    BOOST_TEST(errors(text + "client_id = \"gw-b\"\n").empty());
}

BOOST_AUTO_TEST_CASE(session_expiry) {
    auto result = parse(kUpstream + "clean_start = false\nsession_expiry = \"1h\"\n");
    BOOST_REQUIRE(result.config);
    BOOST_TEST(result.config->upstreams[0].session_expiry.count() == 3600000);
    BOOST_TEST(only_error(kUpstream + "session_expiry = \"1500ms\"\n").find("whole seconds") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(huawei_profile_reads_console_fields_and_map) {
    test::TempDir dir;
    auto secret = dir.write("hw.secret", "mysecret123\n");
    auto r = parse(R"(
[[sensor]]
name = "lab"
plugin = "simulated"
[[upstream]]
name = "iotda"
profile = "huawei"
url = "ssl://iot-mqtts.cn-north-4.myhuaweicloud.com:8883"
[upstream.huawei]
device_id = "5e06bfee334dd4f33759f5b3_demo"
secret_file = ")" + secret.string() +
                   R"("
sign_type = 0
[[upstream.map]]
sensor = "lab01"
service_id = "Temperature"
property = "temperature"
commands = ["calibrate"]
[[upstream.map]]
sensor = "lab02"
device_id = "sub-42"
instance = "lab"
)");
    BOOST_TEST_REQUIRE(r.diagnostics.empty(), (r.diagnostics.empty() ? "" : r.diagnostics.items()[0].str()));
    const UpstreamConfig& u = r.config->upstreams.at(0);
    BOOST_TEST(u.mqtt_version == 4);
    BOOST_TEST(u.max_publish_rate == 50.0);
    BOOST_TEST(u.max_payload == 64u * 1024u);  // a property report's limit, usermanual iot_01_0326
    BOOST_TEST(u.keep_alive.count() == 120000);
    // Device messages: a topic every device may publish to (iot_06_v5_3016).
    BOOST_TEST(u.dead_letter_topic == "$oc/devices/5e06bfee334dd4f33759f5b3_demo/sys/messages/up");
    BOOST_TEST(u.huawei.sign_type == 0);
    BOOST_TEST(u.client_id == "5e06bfee334dd4f33759f5b3_demo");
    BOOST_TEST_REQUIRE(u.map.size() == 2u);
    BOOST_TEST(u.map[0].service_id == "Temperature");
    BOOST_TEST(u.map[0].property == "temperature");
    BOOST_TEST(u.map[0].commands.at(0) == "calibrate");
    BOOST_TEST(u.map[1].service_id == "lab02");  // defaults: the sensor's name, property "value"
    BOOST_TEST(u.map[1].property == "value");
    BOOST_TEST(u.map[1].device_id == "sub-42");
}

BOOST_AUTO_TEST_CASE(huawei_dead_letters_and_legacy_topics_need_what_the_platform_offers) {
    test::TempDir dir;
    auto secret = dir.write("hw.secret", "s\n");
    auto upstream = [&](const std::string& url, const std::string& extra, const std::string& table_extra) {
        return "[[upstream]]\nname = \"iotda\"\nprofile = \"huawei\"\nurl = \"" + url + "\"\n" + extra +
               "[upstream.huawei]\ndevice_id = \"gw_demo\"\nsecret_file = \"" + secret.string() + "\"\n" + table_extra;
    };
    // A dead_letter_topic of one's own, or none at all.
    auto own = parse(upstream("tcp://127.0.0.1:1883", "dead_letter_topic = \"$oc/devices/gw_demo/user/dead\"\n", ""));
    BOOST_TEST_REQUIRE(own.config.has_value());
    BOOST_TEST(own.config->upstreams[0].dead_letter_topic == "$oc/devices/gw_demo/user/dead");
    auto none = parse(upstream("tcp://127.0.0.1:1883", "dead_letter_topic = \"\"\nmax_payload = \"128KiB\"\n", ""));
    BOOST_TEST_REQUIRE(none.config.has_value());
    BOOST_TEST(none.config->upstreams[0].dead_letter_topic.empty());
    BOOST_TEST(none.config->upstreams[0].max_payload == 128u * 1024u);
    // The OceanConnect topics are MQTTS only (iot_06_3009).
    BOOST_TEST(only_error(upstream("tcp://127.0.0.1:1883", "", "legacy_topics = true\n"))
                   .find("legacy OceanConnect topics (legacy_topics = true) are served over MQTTS only") !=
               std::string::npos);
    auto legacy = parse(upstream("ssl://127.0.0.1:8883", "", "legacy_topics = true\n"));
    BOOST_TEST_REQUIRE(legacy.config.has_value());
    BOOST_TEST(legacy.config->upstreams[0].dead_letter_topic.empty());  // no messages/up on OceanConnect
}

BOOST_AUTO_TEST_CASE(platform_profile_errors_are_sentences) {
    test::TempDir dir;
    auto key = dir.write("on.key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
    const std::string onenet = R"(
[[upstream]]
name = "onenet"
profile = "onenet"
url = "tcp://127.0.0.1:1883"
)";
    BOOST_TEST(only_error(onenet).find("needs an [upstream.onenet] table") != std::string::npos);
    const std::string fields =
        "[upstream.onenet]\nproduct_id = \"123123\"\ndevice_name = \"mydev\"\nkey_file = \"" + key.string() + "\"\n";
    BOOST_TEST(errors(onenet + fields).empty());
    BOOST_TEST(
        only_error(onenet + "client_id = \"x\"\n" + fields).find("client_id is derived from [upstream.onenet]") !=
        std::string::npos);
    BOOST_TEST(only_error(onenet + "keep_alive = \"5s\"\n" + fields).find("OneNET accepts 10s to 1800s") !=
               std::string::npos);
    BOOST_TEST(only_error(onenet + fields + "method = \"sha512\"\n").find("\"md5\", \"sha1\" or \"sha256\"") !=
               std::string::npos);
    const std::string spaced =
        "[upstream.onenet]\nproduct_id = \"123123\"\ndevice_name = \"my dev\"\nkey_file = \"" + key.string() + "\"\n";
    BOOST_TEST(only_error(onenet + spaced).find("letters, digits") != std::string::npos);
    BOOST_TEST(only_error(onenet + fields + "[[upstream.map]]\nsensor = \"t\"\nidentifier = \"a b\"\n")
                   .find("thing-model identifier") != std::string::npos);
    BOOST_TEST(only_error(onenet + fields + "[[upstream.map]]\nsensor = \"t\"\nshadow_field = \"x\"\n")
                   .find("unknown key 'shadow_field'") != std::string::npos);
    BOOST_TEST(
        only_error(kUpstream + "[upstream.huawei]\ndevice_id = \"d\"\n").find("belongs to profile = \"huawei\"") !=
        std::string::npos);
    BOOST_TEST(only_error(kUpstream + "[[upstream.map]]\nsensor = \"t\"\n").find("applies to the cloud profiles") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(aws_profile_checks_tls_certificates_and_topic_limits) {
    test::TempDir dir;
    auto cert = dir.write("dev.crt", "x");
    auto keyf = dir.write("dev.key", "x");
    const std::string tls = "cert_file = \"" + cert.string() + "\"\nkey_file = \"" + keyf.string() + "\"\n";
    const std::string aws = "[gateway]\nid = \"gw-01\"\n[[upstream]]\nname = \"aws\"\nprofile = \"aws\"\n";
    const auto plain = errors(aws + "url = \"tcp://127.0.0.1:1883\"\n" + tls);
    BOOST_TEST(std::any_of(plain.begin(), plain.end(),
                           [](const std::string& e) { return e.find("AWS IoT Core needs TLS") != std::string::npos; }));
    BOOST_TEST(only_error(aws + "url = \"ssl://127.0.0.1:8883\"\n").find("set cert_file and key_file") !=
               std::string::npos);
    auto r = parse(aws + "url = \"ssl://a1b2c3-ats.iot.eu-west-1.amazonaws.com:443\"\n" + tls);
    BOOST_TEST_REQUIRE(r.diagnostics.empty());
    const UpstreamConfig& u = r.config->upstreams.at(0);
    BOOST_TEST(u.alpn == "x-amzn-mqtt-ca");  // port 443 needs it
    BOOST_TEST(u.client_id == "gw-01");      // the thing name, by default the gateway id
    BOOST_TEST(u.mqtt_version == 5);
    BOOST_TEST(u.max_publish_rate == 100.0);
    BOOST_TEST(u.max_payload == 128u * 1024u);
    BOOST_TEST(u.topic == "dt/{gateway}/{sensor}");
    // 9 levels, and 300 bytes: --check-config says so.
    BOOST_TEST(only_error(aws + "url = \"ssl://h:8883\"\n" + tls + "topic = \"a/b/c/d/e/f/g/h/{sensor}\"\n")
                   .find("9 levels; AWS IoT Core allows at most 8") != std::string::npos);
    BOOST_TEST(only_error(aws + "url = \"ssl://h:8883\"\n" + tls + "topic = \"" + std::string(300, 'a') + "\"\n")
                   .find("300 bytes; AWS IoT Core allows at most 256") != std::string::npos);
    BOOST_TEST(only_error(aws + "url = \"ssl://h:8883\"\n" + tls + "keep_alive = \"1h\"\n")
                   .find("AWS IoT Core accepts 30s to 1200s") != std::string::npos);
    BOOST_TEST(only_error(aws + "url = \"ssl://h:8883\"\n" + tls + "[upstream.aws]\nthing_name = \"a b\"\n")
                   .find("thing_name 'a b' must be") != std::string::npos);
    BOOST_TEST(only_error(aws + "url = \"ssl://h:8883\"\n" + tls +
                          "[upstream.aws]\ncommand_topic = \"cmd/{thing}/a/b/c/d/e/f/g\"\n")
                   .find("command_topic 'cmd/gw-01/a/b/c/d/e/f/g': the topic has 9 levels") != std::string::npos);
}

// conf/examples/{aws,huawei,onenet}.toml load as shipped (with their
// /etc/gatewayd files present).
BOOST_AUTO_TEST_CASE(cloud_examples_load) {
    for (const char* name : {"aws", "huawei", "onenet"}) {
        test::TempDir dir;
        std::ifstream in(std::string(GWD_SOURCE_DIR) + "/conf/examples/" + name + ".toml");
        std::stringstream buffer;
        buffer << in.rdbuf();
        std::string text = buffer.str();
        BOOST_TEST_REQUIRE(!text.empty(), name);
        for (size_t at; (at = text.find("/etc/gatewayd/")) != std::string::npos;) {
            const size_t end = text.find('"', at);
            const std::string file = text.substr(at + 14, end - at - 14);
            const auto path = dir.write(file, "x\n");
            text.replace(at, end - at, path.string());
        }
        auto r = parse(text);
        BOOST_TEST(r.diagnostics.empty(),
                   name << ": " << (r.diagnostics.empty() ? "" : r.diagnostics.items()[0].str()));
    }
}

// systemd credentials (LoadCredential=NAME:path): a *_file key may say
// credential:NAME, found at $CREDENTIALS_DIRECTORY/NAME.
BOOST_AUTO_TEST_CASE(file_keys_may_name_a_systemd_credential) {
    std::string error;
    BOOST_TEST(resolve_file_reference("/etc/gatewayd/pass", nullptr, error)->string() == "/etc/gatewayd/pass");
    BOOST_TEST(resolve_file_reference("credential:mqtt-pass", "/run/credentials/gatewayd.service", error)->string() ==
               "/run/credentials/gatewayd.service/mqtt-pass");
    // From a shell (gatewayd --check-config, status): the running service's credentials.
    BOOST_TEST(resolve_file_reference("credential:mqtt-pass", nullptr, error)->string() ==
               "/run/credentials/gatewayd.service/mqtt-pass");
    BOOST_TEST(!resolve_file_reference("credential:../x", "/run/c", error));
    BOOST_TEST(!resolve_file_reference("credential:", "/run/c", error));

    test::TempDir dir;
    dir.write("creds/broker-pass", "s3cret\n");
    const std::string creds = (dir.path() / "creds").string();
    ::setenv("CREDENTIALS_DIRECTORY", creds.c_str(), 1);
    auto r = parse(kUpstream + "password_file = \"credential:broker-pass\"\n");
    BOOST_TEST_REQUIRE(r.diagnostics.empty(), (r.diagnostics.empty() ? "" : r.diagnostics.items()[0].str()));
    BOOST_TEST(r.config->upstreams[0].password_file->string() == creds + "/broker-pass");
    BOOST_TEST(only_error(kUpstream + "password_file = \"credential:missing\"\n").find("cannot be read") !=
               std::string::npos);
    ::unsetenv("CREDENTIALS_DIRECTORY");
    BOOST_TEST(only_error(kUpstream + "password_file = \"credential:broker-pass\"\n")
                   .find("'/run/credentials/gatewayd.service/broker-pass' cannot be read") != std::string::npos);
}
