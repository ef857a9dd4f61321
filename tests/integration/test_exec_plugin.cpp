// The exec plugin against a real daemon and broker: a shell script and a
// Python script as sensors, each run every interval and kept running, with a
// malformed line, output on stderr, a failing exit status, a crash and a hang
// past the timeout; a simulated sensor beside them keeps forwarding.
#define BOOST_TEST_MODULE exec_plugin
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <algorithm>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

fs::path script(const TempDir& dir, const std::string& name, const std::string& text) {
    const fs::path file = dir.write(name, text);
    ::chmod(file.c_str(), 0755);
    return file;
}

std::string sensor(const std::string& name, const std::string& command, const std::string& options,
                   const std::string& interval = "200ms") {
    return "[[sensor]]\nname = \"" + name + "\"\nplugin = \"exec\"\ninterval = \"" + interval +
           "\"\n[sensor.options]\ncommand = " + command + "\n" + options + "\n\n";
}

size_t on(const TestSubscriber& cloud, const std::string& reading, const std::string& payload = {}) {
    const auto messages = cloud.on_topic("telemetry/gw-01/" + reading);
    return static_cast<size_t>(std::count_if(messages.begin(), messages.end(), [&](const ReceivedMessage& m) {
        return payload.empty() || m.payload == payload;
    }));
}

size_t processes_matching(const std::string& pattern) {
    std::string out;
    run_command({"pgrep", "-f", pattern}, out, 10s);
    return static_cast<size_t>(std::count(out.begin(), out.end(), '\n'));
}

}  // namespace

BOOST_AUTO_TEST_CASE(scripts_in_any_language_are_sensors_and_their_failures_stay_theirs) {
    Mosquitto cloud;
    TempDir dir;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    const fs::path shell_once = script(dir, "once.sh",
                                       "#!/bin/sh\n"
                                       "echo \"temperature 21.5\"\n"
                                       "echo '{\"name\": \"humidity\", \"value\": 40, \"content_type\": "
                                       "\"text/plain\", \"properties\": {\"unit\": \"%\"}}'\n"
                                       "echo '{\"name\": broken'\n"
                                       "echo 'weather,room=lab pressure=1013.2'\n"
                                       "echo \"calibration is overdue\" >&2\n"
                                       "exit 3\n");
    const fs::path python_once = script(dir, "once.py",
                                        "import json, os\n"
                                        "print(json.dumps({'name': 'py_once', 'value': os.environ['GATEWAYD_SENSOR'],"
                                        " 'properties': [['k', 'a'], ['k', 'b']]}))\n");
    const fs::path shell_stream = script(dir, "stream.sh",
                                         "#!/bin/sh\n"
                                         "i=0\n"
                                         "while true; do echo \"sh_tick $i\"; i=$((i + 1)); sleep 0.05; done\n");
    const fs::path python_stream = script(dir, "stream.py",
                                          "import os, signal, sys, time\n"
                                          "for i in range(20):\n"
                                          "    print(f'py_count {i}', flush=True)\n"
                                          "    time.sleep(0.01)\n"
                                          "os.kill(os.getpid(), signal.SIGSEGV)\n");
    const std::string config =
        gateway_section(dir) + sensor("shell_once", "[\"" + shell_once.string() + "\"]", "") +
        sensor("python_once", "[\"python3\", \"" + python_once.string() + "\"]", "format = \"json\"") +
        sensor("shell_stream", "[\"sh\", \"" + shell_stream.string() + "\"]", "mode = \"stream\"") +
        sensor("python_stream", "[\"python3\", \"" + python_stream.string() + "\"]",
               "mode = \"stream\"\nrestart_delay = \"100ms\"\nrestart_delay_max = \"400ms\"") +
        sensor("hang", "[\"sh\", \"-c\", \"echo before 1; exec sleep 61.5\"]", "timeout = \"300ms\"", "500ms") +
        "[[sensor]]\nname = \"sim\"\nplugin = \"simulated\"\ninterval = \"100ms\"\n"
        "[sensor.options]\ndevices = [\"plain\"]\nnames = [\"steady\"]\n\n"
        "[[upstream]]\nname = \"cloud\"\nurl = \"" +
        cloud.url() + "\"\nclient_id = \"gw-01\"\n";
    GatewaydProcess gw(dir, config);

    // One-shot shell: every kind of line, the malformed one skipped, the rest used.
    GWD_REQUIRE(
        eventually([&] { return on(app, "temperature", "21.5") >= 2 && on(app, "weather.pressure") >= 2; }, 30s),
        gw.log());
    const auto humidity = app.on_topic("telemetry/gw-01/humidity");
    GWD_REQUIRE(!humidity.empty(), gw.log());
    BOOST_TEST(humidity.front().payload == "40");
    BOOST_TEST(humidity.front().content_type.value_or("(none)") == "text/plain");
    BOOST_TEST(user_property(humidity.front(), "unit") == "%");
    BOOST_TEST(user_property(app.on_topic("telemetry/gw-01/weather.pressure").front(), "room") == "lab");
    BOOST_TEST(app.on_topic("telemetry/gw-01/weather.pressure").front().payload == "1013.2");
    GWD_CHECK(gw.wait_for_log("skipped a line that is not a reading (not JSON", 30s), gw.log());
    GWD_CHECK(gw.wait_for_log("stderr: calibration is overdue", 30s), gw.log());
    GWD_CHECK(gw.wait_for_log("exited with status 3; the 3 readings it printed were used", 30s), gw.log());
    BOOST_TEST(sensor_field(dir, "shell_once", "state") == "degraded");
    BOOST_TEST(sensor_field(dir, "shell_once", "error").find("exited with status 3") != std::string::npos,
               sensor_field(dir, "shell_once", "error"));

    // One-shot Python, JSON with ordered duplicate properties.
    GWD_REQUIRE(eventually([&] { return on(app, "py_once", "python_once") >= 2; }, 30s), gw.log());
    const auto py = app.on_topic("telemetry/gw-01/py_once").front();
    BOOST_TEST(py.user_properties.size() >= 2u);
    BOOST_TEST(sensor_field(dir, "python_once", "state") == "running");

    // Long-running shell: its lines as they come, in order.
    GWD_REQUIRE(eventually([&] { return on(app, "sh_tick") >= 20; }, 30s), gw.log());
    const auto ticks = app.on_topic("telemetry/gw-01/sh_tick");
    for (size_t i = 0; i < 20; ++i) BOOST_TEST(ticks[i].payload == std::to_string(i));

    // Long-running Python that crashes after 20 lines: all 20 of every run
    // are used, and it is started again with a doubling delay.
    GWD_REQUIRE(gw.wait_for_log("killed by SIGSEGV after 20 readings; starting it again in 100 ms", 30s), gw.log());
    GWD_REQUIRE(gw.wait_for_log("killed by SIGSEGV after 20 readings; starting it again in 200 ms", 30s), gw.log());
    GWD_REQUIRE(gw.wait_for_log("killed by SIGSEGV after 20 readings; starting it again in 400 ms", 30s), gw.log());
    GWD_REQUIRE(eventually([&] { return on(app, "py_count", "19") >= 3; }, 30s), gw.log());
    for (int i = 0; i < 20; ++i) BOOST_TEST(on(app, "py_count", std::to_string(i)) >= 3u, "py_count " << i);

    // A hang past the timeout: killed with its group, what it printed used.
    GWD_REQUIRE(gw.wait_for_log("did not finish within 300 ms: killed (SIGTERM, then SIGKILL); 1 readings", 30s),
                gw.log());
    GWD_REQUIRE(eventually([&] { return on(app, "before", "1") >= 2; }, 30s), gw.log());
    BOOST_TEST(sensor_field(dir, "hang", "error").find("did not finish within its timeout") != std::string::npos,
               sensor_field(dir, "hang", "error"));

    // Nothing of it reached the daemon or the other sensors.
    const size_t steady = on(app, "steady");
    GWD_CHECK(eventually([&] { return on(app, "steady") >= steady + 5; }, 30s), gw.log());
    BOOST_TEST(gw.process().running());
    BOOST_TEST(gw.stop().value_or(-1) == 0);
    // The stop took every command's group with it.
    BOOST_TEST(processes_matching("sleep 61.5") == 0u);
    BOOST_TEST(processes_matching(shell_stream.string()) == 0u);
}
