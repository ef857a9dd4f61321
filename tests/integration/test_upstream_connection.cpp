// The upstream connection: a broker that is down at start does not stop the
// daemon; readings accepted meanwhile are delivered once it comes up.
#define BOOST_TEST_MODULE upstream_connection
#include <boost/test/unit_test.hpp>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(broker_down_at_start_then_up_delivers_the_queued_readings) {
    TempDir dir;
    // A broker that keeps sessions across restarts, so a subscriber can
    // register before gatewayd starts, while the broker is then down.
    const std::string persistence =
        "persistence true\npersistence_location " + (dir.path() / "mosquitto").string() + "/\n";
    std::filesystem::create_directories(dir.path() / "mosquitto");
    auto cloud = std::make_unique<Mosquitto>(persistence);
    const int port = cloud->port();
    const std::string url = cloud->url();
    SubscriberOptions durable;
    durable.client_id = "cloud-app";
    durable.persistent = true;
    { TestSubscriber registration(url, {"telemetry/#"}, durable); }
    cloud->stop();

    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                "[[sensor]]\nname = \"burst\"\nplugin = \"test_emitter\"\n"
                                "[sensor.options]\ncount = 50\npayload = \"{seq}\"\n\n"
                                "[[upstream]]\nname = \"cloud\"\nurl = \"" +
                                url +
                                "\"\n"
                                "[upstream.backoff]\ninitial = \"200ms\"\nmax = \"1s\"\n");
    GWD_REQUIRE(gw.wait_for_log("cannot connect to " + url, 10s),
                "running=" << gw.process().running() << " status=" << gw.process().wait(0ms).value_or(-99)
                           << " log=" << gw.log());
    GWD_REQUIRE(gw.wait_for_log("test_emitter finished emitting", 10s), gw.log());
    std::this_thread::sleep_for(1500ms);  // a few more failed attempts
    BOOST_TEST(gw.process().running());

    cloud->start();
    GWD_REQUIRE(gw.wait_for_log("connected to " + url, 15s), gw.log());
    TestSubscriber subscriber(url, {}, durable);
    GWD_REQUIRE(subscriber.wait_for(50, 15s), gw.log());
    const auto messages = subscriber.messages();
    for (size_t i = 0; i < messages.size(); ++i) BOOST_TEST(messages[i].payload == std::to_string(i));

    // The first failure is a warning; the repeats within a minute are quieter
    // (debug; at most a line a minute at info), with growing delays.
    const std::string log = gw.log();
    BOOST_TEST(log.find("warning upstream cloud: cannot connect to " + url) != std::string::npos);
    BOOST_TEST(log.find("debug upstream cloud: cannot connect to " + url) != std::string::npos);
    BOOST_TEST(log.find("info upstream cloud: cannot connect to " + url) == std::string::npos);
    (void)port;
}

BOOST_AUTO_TEST_CASE(broker_restart_reconnects_and_keeps_forwarding) {
    TempDir dir;
    Mosquitto cloud;
    GatewaydProcess gw(dir, gateway_section(dir) +
                                "[[sensor]]\nname = \"lab\"\nplugin = \"simulated\"\ninterval = \"100ms\"\n"
                                "[sensor.options]\nvalues = \"seed\"\ndevices = [\"plain\"]\n\n"
                                "[[upstream]]\nname = \"cloud\"\nurl = \"" +
                                cloud.url() +
                                "\"\n"
                                "[upstream.backoff]\ninitial = \"200ms\"\nmax = \"1s\"\n");
    GWD_REQUIRE(gw.wait_for_log("connected to " + cloud.url(), 10s), gw.log());
    cloud.stop();
    GWD_REQUIRE(gw.wait_for_log("lost", 10s), gw.log());
    cloud.start();
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    GWD_REQUIRE(subscriber.wait_for(3, 15s), gw.log());
    BOOST_TEST(gw.process().running());
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(password_file_is_read_at_connect) {
    TempDir dir;
    auto passwords = dir.path() / "passwords";
    std::string out;
    BOOST_REQUIRE(run_command({"mosquitto_passwd", "-b", "-c", passwords.string(), "gw", "s3cret"}, out) == 0);
    Mosquitto cloud("allow_anonymous false\npassword_file " + passwords.string() + "\n");
    auto secret = dir.write("cloud.pass", "s3cret\n");  // the trailing newline is not part of it
    GatewaydProcess gw(dir, gateway_section(dir) +
                                "[[sensor]]\nname = \"lab\"\nplugin = \"simulated\"\ninterval = \"100ms\"\n\n"
                                "[[upstream]]\nname = \"cloud\"\nurl = \"" +
                                cloud.url() +
                                "\"\n"
                                "username = \"gw\"\npassword_file = \"" +
                                secret.string() + "\"\n");
    GWD_CHECK(gw.wait_for_log("connected to " + cloud.url(), 10s), gw.log());
}
