// The modbus plugin against a Modbus server nobody here wrote the protocol
// of (pymodbus's PDU layer, tests/support/modbus_server.py), over TCP and
// over RTU on a socat pty pair, with a real daemon and mosquitto: every type
// and byte order arrives exactly with its unit and device properties, reads
// are merged into the fewest requests (counted at the server), a silent
// unit, an exception and a server restart stay contained, and commands
// write what they should.
#define BOOST_TEST_MODULE modbus_plugin
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "cloud_platform.h"
#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd;
using namespace gwd::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// modbus_server.py on a TCP port or a serial device; its requests, one per line.
class ModbusServer {
public:
    ModbusServer(const TempDir& dir, std::string map_json, std::vector<std::string> transport, std::string tag = "mb")
        : dir_(dir), transport_(std::move(transport)), tag_(std::move(tag)) {
        map_ = dir_.write(tag_ + "-map.json", map_json);
        log_ = dir_.path() / (tag_ + "-requests.log");
        start();
    }
    static ModbusServer tcp(const TempDir& dir, const std::string& map_json, int port) {
        return ModbusServer(dir, map_json, {"--tcp", std::to_string(port)}, "tcp");
    }

    void start() {
        std::vector<std::string> argv = {"/usr/bin/python3",
                                         (source_dir() / "tests/support/modbus_server.py").string(),
                                         "--map",
                                         map_.string(),
                                         "--log",
                                         log_.string()};
        argv.insert(argv.end(), transport_.begin(), transport_.end());
        process_ = std::make_unique<ChildProcess>(argv, dir_.path() / (tag_ + "-server.out"));
        BOOST_REQUIRE_MESSAGE(process_->wait_for_output("ready", 30s), "modbus_server.py: " + process_->output());
    }
    void stop() {
        process_->signal(SIGTERM);
        BOOST_REQUIRE(process_->wait(10s).has_value());
    }
    std::vector<std::string> requests() const {
        std::ifstream in(log_);
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        return lines;
    }
    size_t count(const std::string& prefix) const {
        const auto all = requests();
        return static_cast<size_t>(
            std::count_if(all.begin(), all.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; }));
    }

private:
    const TempDir& dir_;
    std::vector<std::string> transport_;
    std::string tag_;
    fs::path map_, log_;
    std::unique_ptr<ChildProcess> process_;
};

// The map of unit 1 ("meter") and unit 2 ("io"): every type and order, the
// registers computed by hand (see the comments), not by the plugin's codec.
const char* kMeterMap = R"({"units": {
  "1": {"holding": {
          "0": 65534,
          "1": 65534,
          "2": 4660, "3": 22136,
          "4": 7616, "5": 65534,
          "6": 513, "7": 1027, "8": 1541, "9": 2055,
          "10": 13819, "11": 1166, "12": 57598, "13": 65535,
          "14": 17254, "15": 32768,
          "16": 39322, "17": 39321, "18": 39321, "19": 16313,
          "20": 18263, "21": 17453, "22": 19761,
          "24": 1,
          "25": 655,
          "26": 49343,
          "28": 13330},
        "input": {"0": 0, "1": 20544}},
  "2": {"coils": {"0": 1}, "discrete": {"0": 1}}}})";

// Reading, its registers, and what must arrive.
struct Expected {
    std::string reading, options, payload, unit;
};
const std::vector<Expected> kExpected = {
    {"u16", R"(address = 0, type = "u16")", "65534", ""},
    {"i16", R"(address = 1, type = "i16")", "-2", ""},                                 // 0xfffe
    {"u32", R"(address = 2, type = "u32", order = "ABCD")", "305419896", ""},          // 0x12345678
    {"i32", R"(address = 4, type = "i32", order = "CDAB")", "-123456", ""},            // 0xfffe1dc0, words swapped
    {"u64", R"(address = 6, type = "u64", order = "BADC")", "72623859790382856", ""},  // 0x0102..08, bytes swapped
    {"i64", R"(address = 10, type = "i64", order = "DCBA")", "-1234567890123", ""},    // little-endian
    {"f32", R"(address = 14, type = "f32", unit = "V")", "230.5", "V"},                // 0x43668000
    {"f64", R"(address = 16, type = "f64", order = "CDAB")", "0.1", ""},               // 0x3fb999999999999a
    {"model", R"(address = 20, type = "string", length = 4)", "GWD-M1", ""},           // up to the NUL
    {"flag", R"(address = 24, type = "bool")", "true", ""},
    {"temperature", R"(address = 25, type = "i16", scale = 0.1, offset = -40.0, unit = "°C")", "25.5", "°C"},
    {"f32b", R"(address = 26, type = "f32", order = "BADC")", "-1.5", ""},  // 0xbfc00000
    {"u16b", R"(address = 28, type = "u16", order = "BADC")", "4660", ""},  // 0x1234 stored 0x3412
    {"current", R"(function = "input", address = 0, type = "f32", order = "DCBA", unit = "A")", "3.25", "A"},
};

std::string meter_device(const std::string& extra = {}) {
    std::string out = "[[sensor.options.devices]]\nname = \"meter\"\nunit_id = 1\n" + extra + "registers = [\n";
    for (const auto& e : kExpected) out += "  { name = \"" + e.reading + "\", " + e.options + " },\n";
    return out + "]\n";
}

const std::string kIoDevice = R"([[sensor.options.devices]]
name = "io"
unit_id = 2
registers = [
  { name = "relay", function = "coil", address = 0 },
  { name = "spare", function = "coil", address = 1 },
  { name = "door", function = "discrete", address = 0 },
]
)";

std::string modbus_sensor(const std::string& name, const std::string& options, const std::string& interval = "300ms",
                          const std::string& extra = {}) {
    return "[[sensor]]\nname = \"" + name + "\"\nplugin = \"modbus\"\ninterval = \"" + interval + "\"\n" + extra +
           "[sensor.options]\n" + options + "\n";
}

std::string cloud_upstream(const Mosquitto& cloud) {
    return "[[upstream]]\nname = \"cloud\"\nurl = \"" + cloud.url() + "\"\nclient_id = \"gw-01\"\n";
}

// Every register arrives as the device holds it, with its properties.
void check_every_value(const TestSubscriber& app, const GatewaydProcess& gw, const std::string& how) {
    for (const auto& e : kExpected) {
        BOOST_TEST_CONTEXT(how << " meter." << e.reading) {
            const auto got = app.on_topic("telemetry/gw-01/meter." + e.reading);
            BOOST_TEST_REQUIRE(!got.empty(), gw.log());
            BOOST_TEST(got.front().payload == e.payload);
            BOOST_TEST(got.front().content_type.value_or("(none)") == "text/plain");
            BOOST_TEST(user_property(got.front(), "device") == "meter");
            BOOST_TEST(user_property(got.front(), "unit") == (e.unit.empty() ? "(none)" : e.unit));
            BOOST_TEST_MESSAGE(how << " meter." << e.reading << " = " << got.front().payload
                                   << (e.unit.empty() ? "" : " " + e.unit));
        }
    }
}

// Huawei services of the readings the command test writes: "meter.setpoint" is service "meter_setpoint".
const std::vector<std::string> kWritten = {"meter.setpoint", "meter.limit", "meter.voltage", "io.relay", "locked.mode"};
std::string service_of(std::string sensor) {
    std::replace(sensor.begin(), sensor.end(), '.', '_');
    return sensor;
}
std::string service_maps() {
    std::string out;
    for (const auto& s : kWritten)
        out += "[[upstream.map]]\nsensor = \"" + s + "\"\nservice_id = \"" + service_of(s) + "\"\n";
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_type_and_order_arrives_exactly_over_tcp_in_the_fewest_requests) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    // Unit 3: 40 registers in three clusters (20 holding, 10 holding, 10
    // coils): the protocol allows each cluster in one request, so 3 a poll.
    std::string meter_map = kMeterMap;
    meter_map.replace(meter_map.rfind("}}}"), 3,
                      "}, \"3\": {\"holding\": {\"0\": 1, \"19\": 20, \"1000\": 7}, \"coils\": {\"9\": 1}}}}");
    const int port = free_loopback_port();
    ModbusServer server = ModbusServer::tcp(dir, meter_map, port);
    std::string cluster_device = "[[sensor.options.devices]]\nname = \"plc\"\nunit_id = 3\nregisters = [\n";
    for (int a = 0; a < 20; ++a)
        cluster_device += "  { name = \"h" + std::to_string(a) + "\", address = " + std::to_string(a) + " },\n";
    for (int a = 1000; a < 1010; ++a)
        cluster_device += "  { name = \"h" + std::to_string(a) + "\", address = " + std::to_string(a) + " },\n";
    for (int a = 0; a < 10; ++a)
        cluster_device +=
            "  { name = \"c" + std::to_string(a) + "\", function = \"coil\", address = " + std::to_string(a) + " },\n";
    cluster_device += "]\n";
    GatewaydProcess gw(dir, gateway_section(dir) +
                                modbus_sensor("plant", "port = " + std::to_string(port) + "\n" + meter_device() +
                                                           kIoDevice + cluster_device) +
                                cloud_upstream(cloud));

    GWD_REQUIRE(eventually([&] { return app.on_topic("telemetry/gw-01/plc.c9").size() >= 3; }, 30s), gw.log());
    check_every_value(app, gw, "tcp");
    BOOST_TEST(app.on_topic("telemetry/gw-01/io.relay").front().payload == "true");
    BOOST_TEST(app.on_topic("telemetry/gw-01/io.spare").front().payload == "false");
    BOOST_TEST(app.on_topic("telemetry/gw-01/io.door").front().payload == "true");
    BOOST_TEST(user_property(app.on_topic("telemetry/gw-01/io.door").front(), "device") == "io");
    BOOST_TEST(app.on_topic("telemetry/gw-01/plc.h19").front().payload == "20");
    BOOST_TEST(app.on_topic("telemetry/gw-01/plc.h1000").front().payload == "7");
    BOOST_TEST(app.on_topic("telemetry/gw-01/plc.c9").front().payload == "true");
    BOOST_TEST(gw.stop().value_or(-1) == 0);

    // At the server: unit 3 was asked exactly these three requests, each
    // once per poll; the meter's 14 registers took 2 (holding 0..28, input 0..1).
    std::map<std::string, size_t> unit3, unit1;
    for (const std::string& line : server.requests()) {
        if (line.find(" unit=3 ") != std::string::npos) ++unit3[line];
        if (line.find(" unit=1 ") != std::string::npos) ++unit1[line];
    }
    BOOST_TEST_MESSAGE("unit 3 requests: " << unit3.size() << " kinds");
    for (const auto& [line, n] : unit3) BOOST_TEST_MESSAGE("  " << n << " x " << line);
    for (const auto& [line, n] : unit1) BOOST_TEST_MESSAGE("  " << n << " x " << line);
    BOOST_TEST_REQUIRE(unit3.size() == 3u);
    BOOST_TEST(unit3.count("read unit=3 fc=3 address=0 count=20") == 1u);
    BOOST_TEST(unit3.count("read unit=3 fc=3 address=1000 count=10") == 1u);
    BOOST_TEST(unit3.count("read unit=3 fc=1 address=0 count=10") == 1u);
    const size_t polls = unit3["read unit=3 fc=1 address=0 count=10"];
    for (const auto& [line, n] : unit3) BOOST_TEST(n == polls, line);
    BOOST_TEST(unit1.size() == 2u);
    BOOST_TEST(unit1.count("read unit=1 fc=3 address=0 count=29") == 1u);
    BOOST_TEST(unit1.count("read unit=1 fc=4 address=0 count=2") == 1u);
    BOOST_TEST(app.on_topic("telemetry/gw-01/plc.h0").size() >= std::min<size_t>(polls, 3));
}

BOOST_AUTO_TEST_CASE(every_type_and_order_arrives_exactly_over_rtu) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    // A pty pair stands for the RS-485 line: the server on one end, gatewayd on the other.
    const fs::path server_end = dir.path() / "ttyS-server", client_end = dir.path() / "ttyS-gateway";
    ChildProcess socat({"socat", "-d", "-d", "pty,raw,echo=0,link=" + server_end.string(),
                        "pty,raw,echo=0,link=" + client_end.string()},
                       dir.path() / "socat.out");
    BOOST_REQUIRE_MESSAGE(eventually([&] { return fs::exists(server_end) && fs::exists(client_end); }, 10s),
                          socat.output());
    ModbusServer server(dir, kMeterMap,
                        {"--rtu", server_end.string(), "--baud", "19200", "--parity", "E", "--stopbits", "1"}, "rtu");
    GatewaydProcess gw(
        dir, gateway_section(dir) +
                 modbus_sensor("line", "transport = \"rtu\"\ndevice = \"" + client_end.string() +
                                           "\"\nbaud = 19200\nparity = \"even\"\n" + meter_device() + kIoDevice) +
                 cloud_upstream(cloud));
    GWD_REQUIRE(eventually([&] { return app.on_topic("telemetry/gw-01/io.door").size() >= 2; }, 30s),
                gw.log() + socat.output());
    check_every_value(app, gw, "rtu");
    BOOST_TEST(app.on_topic("telemetry/gw-01/io.relay").front().payload == "true");
    BOOST_TEST(sensor_field(dir, "line", "state") == "running", gw.log());
    BOOST_TEST(gw.stop().value_or(-1) == 0);
    BOOST_TEST(server.count("read unit=1 fc=3 address=0 count=29") >= 2u);
}

// In a process of its own (isolation = "process"), so its tables of options,
// problem and counters cross the worker frames too.
BOOST_AUTO_TEST_CASE(a_silent_unit_an_exception_and_a_server_restart_stay_contained) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    const int port = free_loopback_port();
    ModbusServer server = ModbusServer::tcp(
        dir, R"({"units": {"1": {"holding": {"0": 42}}, "7": {"exception": 2}}, "silent_units": [9]})", port);
    GatewaydProcess gw(dir, gateway_section(dir) +
                                modbus_sensor("plant", "port = " + std::to_string(port) + R"(
[[sensor.options.devices]]
name = "good"
unit_id = 1
registers = [{ name = "value", address = 0 }]
[[sensor.options.devices]]
name = "broken"
unit_id = 7
registers = [{ name = "a", address = 0 }, { name = "b", address = 1, type = "u32" }]
[[sensor.options.devices]]
name = "gone"
unit_id = 9
timeout = "300ms"
registers = [{ name = "x", address = 0 }]
)",
                                              "200ms", "isolation = \"process\"\n") +
                                R"([[sensor]]
name = "sim"
plugin = "simulated"
interval = "100ms"
[sensor.options]
devices = ["plain"]
names = ["steady"]
)" + cloud_upstream(cloud));

    // The good device keeps its interval while unit 9 is asked ever more
    // rarely (backoff) and unit 7 answers its exception at every poll.
    GWD_REQUIRE(eventually([&] { return app.on_topic("telemetry/gw-01/good.value").size() >= 30; }, 60s), gw.log());
    const size_t good_reads = server.count("read unit=1 "), gone_asks = server.count("silent unit=9 "),
                 broken_asks = server.count("exception unit=7 ");
    BOOST_TEST_MESSAGE("after 30 readings of good.value: unit 1 read "
                       << good_reads << " times, unit 9 asked " << gone_asks << ", unit 7 asked " << broken_asks);
    {
        // How evenly the good device was read (reported, not asserted: timings
        // on a shared machine are not a test's business).
        const auto good = app.on_topic("telemetry/gw-01/good.value");
        std::vector<long> gaps;
        for (size_t i = 1; i < good.size(); ++i)
            gaps.push_back(static_cast<long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(good[i].received_at - good[i - 1].received_at)
                    .count()));
        std::sort(gaps.begin(), gaps.end());
        BOOST_TEST_MESSAGE("good.value arrival gaps (interval 200 ms, unit 9's timeout 300 ms): median "
                           << gaps[gaps.size() / 2] << " ms, max " << gaps.back() << " ms, "
                           << std::count_if(gaps.begin(), gaps.end(), [](long g) { return g > 400; }) << " of "
                           << gaps.size() << " over 400 ms");
    }
    BOOST_TEST(gone_asks >= 1u);
    BOOST_TEST(gone_asks * 2 <= good_reads);
    BOOST_TEST(broken_asks >= good_reads - 1);  // every poll: an exception costs one round trip only
    BOOST_TEST(app.on_topic("telemetry/gw-01/broken.a").empty());
    BOOST_TEST(app.on_topic("telemetry/gw-01/good.value").front().payload == "42");
    // Logged once per state change, however many polls.
    const std::string log = gw.log();
    auto occurrences = [&](const std::string& needle) {
        size_t n = 0;
        for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
        return n;
    };
    BOOST_TEST(occurrences("device broken (unit 7): holding 0..2 answers exception 2 (illegal data address)") == 1u,
               log);
    BOOST_TEST(occurrences("device gone (unit 9): no answer within 300 ms") == 1u, log);
    // Status: degraded with the reasons, the counts per register.
    const auto status = daemon_status(dir);
    BOOST_TEST_REQUIRE(status.has_value());
    const JsonValue* plant = nullptr;
    for (const auto& s : status->find("sensors")->as_array())
        if (s.find("name")->as_string() == "plant") plant = &s;
    BOOST_TEST_REQUIRE(plant != nullptr);
    BOOST_TEST(plant->find("state")->as_string() == "degraded");
    BOOST_TEST(plant->find("isolation")->as_string() == "process");
    BOOST_TEST_MESSAGE("status error: " << plant->find("error")->as_string());
    BOOST_TEST(plant->find("error")->as_string().find("exception 2 (illegal data address)") != std::string::npos);
    BOOST_TEST(plant->find("error")->as_string().find("device gone (unit 9)") != std::string::npos);
    const JsonValue* counters = plant->find("counters");
    BOOST_TEST_REQUIRE(counters != nullptr);
    BOOST_TEST_MESSAGE("counters: " << counters->dump());
    BOOST_TEST(counters->find("broken.a exceptions")->as_number().value >= 1);
    BOOST_TEST(counters->find("broken.b exceptions")->as_number().value >= 1);
    BOOST_TEST(counters->find("gone.x timeouts")->as_number().value >= 1);
    BOOST_TEST(counters->find("good.value timeouts") == nullptr);

    // The server goes away and comes back: logged once, counted, reconnected.
    server.stop();
    GWD_REQUIRE(gw.wait_for_log(":" + std::to_string(port) + ": the connection failed", 30s) ||
                    gw.wait_for_log(":" + std::to_string(port) + ": cannot connect", 30s),
                gw.log());
    const size_t steady_before = app.on_topic("telemetry/gw-01/steady").size();
    GWD_REQUIRE(eventually([&] { return sensor_field(dir, "plant", "state") == "degraded"; }, 10s), gw.log());
    server.start();
    GWD_REQUIRE(gw.wait_for_log(":" + std::to_string(port) + ": connected again", 90s), gw.log());
    const size_t good_now = app.on_topic("telemetry/gw-01/good.value").size();
    GWD_REQUIRE(eventually([&] { return app.on_topic("telemetry/gw-01/good.value").size() >= good_now + 5; }, 30s),
                gw.log());
    // The other sensor never noticed.
    BOOST_TEST(app.on_topic("telemetry/gw-01/steady").size() > steady_before);
    const auto after = daemon_status(dir);
    BOOST_TEST_REQUIRE(after.has_value());
    for (const auto& s : after->find("sensors")->as_array())
        if (s.find("name")->as_string() == "plant")
            BOOST_TEST(s.find("counters")->find("connection failures")->as_number().value >= 1);
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(commands_write_registers_and_coils_and_refuse_input_registers) {
    TempDir dir;
    avoid_hour_boundary();
    HuaweiLikeBroker platform(dir, "5e06bfee334dd4f33759f5b3_gw01");
    TestSubscriber cloud(platform.broker->url(), {platform.base + "commands/response/#"});
    const int port = free_loopback_port();
    ModbusServer server = ModbusServer::tcp(
        dir,
        R"({"units": {"1": {"holding": {"200": 100}, "input": {"0": 5}}, "2": {"coils": {"0": 0}}, "4": {"exception": 2}}})",
        port);
    GatewaydProcess gw(dir, gateway_section(dir) + modbus_sensor("plant", "port = " + std::to_string(port) + R"(
[[sensor.options.devices]]
name = "meter"
unit_id = 1
registers = [
  { name = "setpoint", address = 200, type = "i16", scale = 0.1, offset = -40.0, unit = "°C" },
  { name = "limit", address = 202, type = "u32", order = "CDAB" },
  { name = "voltage", function = "input", address = 0 },
]
[[sensor.options.devices]]
name = "io"
unit_id = 2
registers = [{ name = "relay", function = "coil", address = 0 }]
[[sensor.options.devices]]
name = "locked"
unit_id = 4
registers = [{ name = "mode", address = 0 }]
)") + "[[upstream]]\nname = \"iotda\"\nprofile = \"huawei\"\nurl = \"" +
                                platform.broker->url() + "\"\n" + platform.huawei_table() + service_maps());
    TestPublisher iotda(platform.broker->url());
    auto command = [&](const std::string& id, const std::string& sensor, const std::string& paras) {
        iotda.publish(platform.base + "commands/request_id=" + id,
                      R"({"service_id":")" + service_of(sensor) + R"(","command_name":"set","paras":)" + paras + "}");
        auto answer = wait_for_message(cloud, platform.base + "commands/response/request_id=" + id, any_json, 20s);
        BOOST_TEST_MESSAGE(id << " " << sensor << " " << paras << " -> "
                              << (answer ? answer->payload : std::string("(no answer)")));
        return answer ? answer->payload : std::string("(no answer)");
    };
    GWD_REQUIRE(gw.wait_for_log("answers exception 2", 30s), gw.log());

    // 21.5 °C = (21.5 + 40) / 0.1 = 615 in the register; a u32 in CDAB; a coil.
    BOOST_TEST(command("c1", "meter.setpoint", R"({"value":21.5})") ==
               R"({"result_code":0,"response_name":"set","paras":{"value":21.5}})");
    BOOST_TEST(command("c2", "meter.limit", R"({"value":305419896})") ==
               R"({"result_code":0,"response_name":"set","paras":{"value":305419896}})");
    BOOST_TEST(command("c3", "io.relay", R"({"value":true})") ==
               R"({"result_code":0,"response_name":"set","paras":{"value":true}})");
    const auto requests = server.requests();
    auto wrote = [&](const std::string& line) {
        return std::find(requests.begin(), requests.end(), line) != requests.end();
    };
    BOOST_TEST(wrote("write unit=1 fc=6 address=200 values=615"));
    BOOST_TEST(wrote("write unit=1 fc=16 address=202 values=22136,4660"));
    BOOST_TEST(wrote("write unit=2 fc=5 address=0 values=1"));

    // Refused before the wire: an input register, a value the type cannot hold.
    const std::string input = command("c4", "meter.voltage", R"({"value":7})");
    BOOST_TEST(input.find("\"result_code\":1") != std::string::npos, input);
    BOOST_TEST(input.find("meter.voltage is an input register, which Modbus cannot write") != std::string::npos, input);
    const std::string too_big = command("c5", "meter.setpoint", R"({"value":5000})");
    BOOST_TEST(too_big.find("5000 does not fit an i16") != std::string::npos, too_big);
    // Refused by the device: its exception in words.
    const std::string locked = command("c6", "locked.mode", R"({"value":1})");
    BOOST_TEST(locked.find("device locked (unit 4) refused the write: exception 2 (illegal data address)") !=
                   std::string::npos,
               locked);
    BOOST_TEST(server.count("write unit=1 fc=4") + server.count("write unit=1 fc=6 address=0") == 0u);
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(check_config_names_the_option_and_its_line) {
    TempDir dir;
    const std::string sensor = modbus_sensor("plant", R"(port = 1502
[[sensor.options.devices]]
name = "meter"
registers = [
  { name = "voltage", address = 0, type = "f32", order = "ABDC" },
  { name = "voltage", address = 2 },
  { name = "energy", address = 65535, type = "u32" },
]
)");
    const std::string text =
        gateway_section(dir) + sensor + "[[upstream]]\nname = \"u\"\nurl = \"tcp://127.0.0.1:1\"\n";
    const fs::path config = dir.write("bad.toml", text);
    std::string out;
    const int rc = run_command({gatewayd_binary().string(), "--check-config", "--config", config.string()}, out);
    BOOST_TEST_MESSAGE(out);
    BOOST_TEST(rc == 78);
    const std::string at = config.string() + ":";
    BOOST_TEST(out.find(at + std::to_string(line_of(text, "ABDC")) +
                        ":50: sensor 'plant': devices[0].registers[0].order: unknown byte order 'ABDC'; use ABCD, "
                        "CDAB, BADC or DCBA") != std::string::npos,
               out);
    BOOST_TEST(
        out.find("devices[0].registers[1].name: 'voltage' is read twice from device 'meter'") != std::string::npos,
        out);
    BOOST_TEST(out.find("devices[0].registers[2].address: a u32 at 65535 needs 2 registers and runs past the last "
                        "address, 65535") != std::string::npos,
               out);
}
