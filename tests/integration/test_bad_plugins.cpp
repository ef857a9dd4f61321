// Bad plugins and bad readings disable or refuse only themselves: the other
// sensors keep forwarding and the daemon keeps running.
#define BOOST_TEST_MODULE bad_plugins
#include <boost/test/unit_test.hpp>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;

namespace {
std::string upstream(const Mosquitto& cloud) {
    return "[[upstream]]\nname = \"cloud\"\nurl = \"" + cloud.url() + "\"\n";
}

std::string sensor(const std::string& name, const std::string& plugin, const std::string& options = "") {
    return "[[sensor]]\nname = \"" + name + "\"\nplugin = \"" + plugin + "\"\ninterval = \"200ms\"\n" +
           (options.empty() ? "" : "[sensor.options]\n" + options + "\n") + "\n";
}
}  // namespace

BOOST_AUTO_TEST_CASE(wrong_abi_plugin_is_refused_while_another_sensor_keeps_forwarding) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    const std::string config =
        gateway_section(dir, all_plugins(dir)) + sensor("old", "wrong_abi") + sensor("alien", "no_entry") +
        sensor("ghost", "not_installed") + sensor("typo", "simulated", "valuez = \"seed\"") +
        sensor("broken", "test_emitter", "fail_create = true") +
        sensor("good", "simulated", "values = \"seed\"\nnames = [\"good01\", \"good02\", \"good03\"]") +
        upstream(cloud);
    GatewaydProcess gw(dir, config);

    GWD_REQUIRE(subscriber.wait_for(6, 15s), gw.log());
    BOOST_TEST(gw.process().running());
    for (const auto& m : subscriber.messages()) BOOST_TEST(m.topic.rfind("telemetry/gw-01/good0", 0) == 0, m.topic);

    const std::string log = gw.log();
    BOOST_TEST_MESSAGE(log);
    const std::string file = gw.config_path().string();
    const std::string at = ":" + std::to_string(line_of(config, "plugin = \"wrong_abi\"")) + ":10: ";
    BOOST_TEST(log.find(file + at + "sensor 'old' disabled: refusing plugin file") != std::string::npos);
    BOOST_TEST(
        log.find("wrong_abi.so: it was built for plugin ABI version 99, but this gatewayd supports versions 1 to 6") !=
        std::string::npos);
    BOOST_TEST(log.find("sensor 'alien' disabled: plugin file") != std::string::npos);
    BOOST_TEST(log.find("has no entry symbol 'gwd_plugin_entry'") != std::string::npos);
    BOOST_TEST(log.find("sensor 'ghost' disabled: plugin file") != std::string::npos);
    BOOST_TEST(log.find("not_installed.so does not exist (plugin_dir = ") != std::string::npos);
    BOOST_TEST(log.find("plugins there: abi4_options, exec, hwmon, loadavg, misbehaving, modbus, mqtt_local, "
                        "no_create, no_entry, simulated, "
                        "test_emitter, wrong_abi") != std::string::npos);
    BOOST_TEST(log.find("plugin 'simulated' has no option 'valuez'; did you mean 'values'?") != std::string::npos);
    BOOST_TEST(log.find("fail_create is set") != std::string::npos);
    BOOST_TEST(log.find("1 of 6 sensors running") != std::string::npos);
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(malformed_readings_are_refused_and_nothing_else_is_lost) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                sensor("noisy", "test_emitter",
                                       "malformed = true\ncount = 5\npayload = \"{seq}\"\nstart_delay = \"300ms\"") +
                                upstream(cloud));
    GWD_REQUIRE(subscriber.wait_for(5, 15s), gw.log());
    BOOST_TEST(gw.process().running());
    BOOST_TEST(gw.log().find("reading refused: sensor name 'bad/+/name' contains the MQTT wildcard '+'") !=
               std::string::npos);
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}
