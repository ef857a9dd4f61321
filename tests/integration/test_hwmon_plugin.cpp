// The hwmon plugin on a sysfs tree the test builds (these machines have no
// hwmon devices): values in their units, labels, the old device/ layout, two
// chips of one name, thermal zones, include and exclude globs, a value that
// changes, a file that cannot be read and a chip that appears later.
#define BOOST_TEST_MODULE hwmon_plugin
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Writes sysfs-like files: file(root, "class/hwmon/hwmon0/name", "coretemp").
void file(const fs::path& root, const std::string& path, const std::string& content) {
    fs::create_directories((root / path).parent_path());
    std::ofstream(root / path) << content << "\n";
}

void build_tree(const fs::path& root) {
    file(root, "class/hwmon/hwmon0/name", "coretemp");
    file(root, "class/hwmon/hwmon0/temp1_input", "45500");
    file(root, "class/hwmon/hwmon0/temp1_label", "Package id 0");
    file(root, "class/hwmon/hwmon0/temp2_input", "43000");
    file(root, "class/hwmon/hwmon0/temp2_label", "Core 0");
    file(root, "class/hwmon/hwmon0/temp2_max", "100000");  // not an input: ignored
    file(root, "class/hwmon/hwmon1/name", "nct6775");
    file(root, "class/hwmon/hwmon1/fan1_input", "1200");
    file(root, "class/hwmon/hwmon1/in0_input", "1104");
    file(root, "class/hwmon/hwmon1/in1_input", "12096");
    file(root, "class/hwmon/hwmon1/in1_label", "+12V");
    file(root, "class/hwmon/hwmon1/curr1_input", "-500");
    file(root, "class/hwmon/hwmon1/power1_input", "15250000");
    file(root, "class/hwmon/hwmon1/fan2_input", "N/A");  // a header with nothing on it
    // An older driver: attributes in device/.
    file(root, "class/hwmon/hwmon2/name", "k10temp");
    file(root, "class/hwmon/hwmon2/device/temp1_input", "38125");
    // Two chips of one name, in numeric (not text) order: hwmon10 after hwmon3.
    file(root, "class/hwmon/hwmon3/name", "nvme");
    file(root, "class/hwmon/hwmon3/temp1_input", "39850");
    file(root, "class/hwmon/hwmon3/temp1_label", "Composite");
    file(root, "class/hwmon/hwmon10/name", "nvme");
    file(root, "class/hwmon/hwmon10/temp1_input", "41000");
    file(root, "class/hwmon/hwmon10/temp1_label", "Composite");
    file(root, "class/thermal/thermal_zone0/type", "x86_pkg_temp");
    file(root, "class/thermal/thermal_zone0/temp", "46000");
    file(root, "class/thermal/thermal_zone1/type", "acpitz");
    file(root, "class/thermal/thermal_zone1/temp", "27800");
    file(root, "class/thermal/cooling_device0/type", "Processor");  // not a zone
}

std::string hwmon_sensor(const std::string& name, const fs::path& root, const std::string& options) {
    return "[[sensor]]\nname = \"" + name +
           "\"\nplugin = \"hwmon\"\ninterval = \"200ms\"\n[sensor.options]\nsysfs_root = \"" + root.string() + "\"\n" +
           options + "\n";
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_generated_sysfs_tree_arrives_with_labels_units_and_globs) {
    Mosquitto cloud;
    TempDir dir;
    const fs::path root = dir.path() / "sys";
    build_tree(root);
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, gateway_section(dir) + hwmon_sensor("board", root, "exclude = [\"nct6775.in0\"]") +
                                hwmon_sensor("zones", root, "include = [\"thermal.*\"]\nhwmon = false") +
                                "[[upstream]]\nname = \"cloud\"\nurl = \"" + cloud.url() +
                                "\"\nclient_id = \"gw-01\"\n");
    const std::string t = "telemetry/gw-01/";
    GWD_REQUIRE(eventually([&] { return app.on_topic(t + "thermal.acpitz").size() >= 4; }, 30s), gw.log());

    struct Expected {
        std::string reading, value, unit, kind, device;
    };
    const std::vector<Expected> expected = {
        {"coretemp.Package_id_0", "45.5", "°C", "temperature", "coretemp"},
        {"coretemp.Core_0", "43", "°C", "temperature", "coretemp"},
        {"nct6775.fan1", "1200", "RPM", "fan", "nct6775"},
        {"nct6775.12V", "12.096", "V", "voltage", "nct6775"},
        {"nct6775.curr1", "-0.5", "A", "current", "nct6775"},
        {"nct6775.power1", "15.25", "W", "power", "nct6775"},
        {"k10temp.temp1", "38.125", "°C", "temperature", "k10temp"},
        {"nvme.Composite", "39.85", "°C", "temperature", "nvme"},
        {"nvme.Composite_2", "41", "°C", "temperature", "nvme"},
        {"thermal.x86_pkg_temp", "46", "°C", "temperature", "x86_pkg_temp"},
        {"thermal.acpitz", "27.8", "°C", "temperature", "acpitz"},
    };
    for (const auto& e : expected) {
        BOOST_TEST_CONTEXT(e.reading) {
            const auto got = app.on_topic(t + e.reading);
            BOOST_TEST_REQUIRE(!got.empty(), gw.log());
            BOOST_TEST(got.front().payload == e.value);
            BOOST_TEST(got.front().content_type.value_or("(none)") == "text/plain");
            BOOST_TEST(user_property(got.front(), "unit") == e.unit);
            BOOST_TEST(user_property(got.front(), "kind") == e.kind);
            BOOST_TEST(user_property(got.front(), "device") == e.device);
            BOOST_TEST_MESSAGE(e.reading << " = " << got.front().payload << " " << e.unit);
        }
    }
    // Globs: in0 excluded from "board"; "zones" reads thermal zones only, so
    // each zone arrives from both sensors and nothing else twice.
    BOOST_TEST(app.on_topic(t + "nct6775.in0").empty());
    const size_t package = app.on_topic(t + "coretemp.Package_id_0").size();
    const size_t zone = app.on_topic(t + "thermal.acpitz").size();
    BOOST_TEST(zone >= 2 * package - 2, "thermal.acpitz " << zone << ", coretemp " << package);
    BOOST_TEST(app.on_topic(t + "temp2_max").empty());

    // The unreadable fan: logged once, counted, the sensor degraded, the rest read.
    GWD_CHECK(gw.wait_for_log("nct6775.fan2: cannot read", 10s), gw.log());
    BOOST_TEST(sensor_field(dir, "board", "state") == "degraded");
    BOOST_TEST(sensor_field(dir, "board", "error") == "1 of 12 sensors cannot be read",
               sensor_field(dir, "board", "error"));
    BOOST_TEST(sensor_field(dir, "zones", "state") == "running");

    // A value that changes, a fan that starts answering, a chip that appears.
    file(root, "class/hwmon/hwmon0/temp1_input", "51250");
    file(root, "class/hwmon/hwmon1/fan2_input", "900");
    file(root, "class/hwmon/hwmon4/name", "drivetemp");
    file(root, "class/hwmon/hwmon4/temp1_input", "33000");
    auto arrived = [&](const std::string& reading, const std::string& value) {
        const auto all = app.on_topic(t + reading);
        return std::any_of(all.begin(), all.end(), [&](const ReceivedMessage& m) { return m.payload == value; });
    };
    GWD_REQUIRE(eventually(
                    [&] {
                        return arrived("coretemp.Package_id_0", "51.25") && arrived("nct6775.fan2", "900") &&
                               arrived("drivetemp.temp1", "33");
                    },
                    30s),
                gw.log());
    GWD_CHECK(gw.wait_for_log("nct6775.fan2: readable again", 10s), gw.log());
    GWD_CHECK(eventually([&] { return sensor_field(dir, "board", "state") == "running"; }, 10s), gw.log());
    const std::string log = gw.log();
    size_t warnings = 0;
    for (size_t at = log.find("nct6775.fan2: cannot read"); at != std::string::npos;
         at = log.find("nct6775.fan2: cannot read", at + 1))
        ++warnings;
    BOOST_TEST(warnings == 1u, log);
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(check_config_refuses_an_empty_selection_and_a_relative_root) {
    TempDir dir;
    const std::string text = gateway_section(dir) +
                             "[[sensor]]\nname = \"b\"\nplugin = \"hwmon\"\n[sensor.options]\nsysfs_root = \"sys\"\n"
                             "[[sensor]]\nname = \"c\"\nplugin = \"hwmon\"\n[sensor.options]\nhwmon = false\n"
                             "thermal_zones = false\n"
                             "[[upstream]]\nname = \"u\"\nurl = \"tcp://127.0.0.1:1\"\n";
    const fs::path config = dir.write("bad.toml", text);
    std::string out;
    BOOST_TEST(run_command({gatewayd_binary().string(), "--check-config", "--config", config.string()}, out) == 78);
    BOOST_TEST_MESSAGE(out);
    BOOST_TEST(out.find(config.string() + ":" + std::to_string(line_of(text, "sysfs_root")) +
                        ":1: sensor 'b': sysfs_root: 'sys' is not an absolute path") != std::string::npos,
               out);
    BOOST_TEST(out.find("sensor 'c': hwmon: hwmon and thermal_zones are both false; there is nothing to read") !=
                   std::string::npos,
               out);
}
