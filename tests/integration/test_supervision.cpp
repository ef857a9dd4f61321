// The connection supervisor against a real mosquitto: ACL refusals become
// dead letters, topic aliases within the broker's maximum, another client
// with our id, a broker killed and restarted, the status command, reloads.
#define BOOST_TEST_MODULE supervision
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <mqtt/async_client.h>

#include <regex>
#include <set>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

std::string emitter(const std::string& options) {
    return "[[sensor]]\nname = \"meter\"\nplugin = \"test_emitter\"\n[sensor.options]\n" + options + "\n\n";
}

std::string upstream(const Mosquitto& broker, const std::string& extra = "") {
    return "[[upstream]]\nname = \"cloud\"\nurl = \"" + broker.url() + "\"\nclient_id = \"gw-01\"\n" + extra +
           "[upstream.backoff]\ninitial = \"100ms\"\nmax = \"1s\"\n";
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_acl_refusal_dead_letters_that_message_only) {
    TempDir dir;
    auto acl = dir.write("acl",
                         "topic readwrite telemetry/gw-01/allowed\ntopic readwrite deadletter/#\n"
                         "topic read telemetry/#\n");
    // Not max_queued_messages 0 here: mosquitto 2.0.11 then ends its
    // process_bad_message path with 0x97 and drops the connection after every
    // refused publish (out_packet_count >= 0 is always true). A large bound
    // keeps the counts honest and the connection up.
    Mosquitto broker("acl_file " + acl.string() + "\nmax_queued_messages 1000000\n");
    TestSubscriber subscriber(broker.url(), {"telemetry/#", "deadletter/#"});
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                "[[sensor]]\nname = \"a\"\nplugin = \"test_emitter\"\n[sensor.options]\n"
                                "sensor = \"denied\"\ncount = 1\npayload = \"no\"\n\n"
                                "[[sensor]]\nname = \"b\"\nplugin = \"test_emitter\"\n[sensor.options]\n"
                                "sensor = \"allowed\"\ncount = 3\npayload = \"{seq}\"\nstart_delay = \"300ms\"\n\n" +
                                upstream(broker));
    GWD_REQUIRE(subscriber.wait_for(4, 15s), gw.log());
    BOOST_TEST(subscriber.on_topic("telemetry/gw-01/allowed").size() == 3u);
    BOOST_TEST(subscriber.on_topic("telemetry/gw-01/denied").empty());
    const auto dead = subscriber.on_topic("deadletter/gw-01/denied");
    BOOST_REQUIRE(dead.size() == 1u);
    BOOST_TEST(dead[0].payload == "no");
    bool has_code = false, has_error = false;
    for (const auto& [k, v] : dead[0].user_properties) {
        has_code |= k == "reason_code" && v == "0x87";
        has_error |= k == "error" && v == "the broker refused it: Not authorized (0x87)";
    }
    BOOST_TEST(has_code);
    BOOST_TEST(has_error);
    BOOST_TEST(gw.log().find("lost") == std::string::npos, gw.log());  // the connection stayed up
    auto status = daemon_status(dir);
    BOOST_REQUIRE(status);
    const auto* cloud = upstream_status(*status, "cloud");
    BOOST_TEST_MESSAGE("ACL refusal: " << cloud->find("attempts")->as_number().value << " connection attempt(s), state "
                                       << cloud->find("state")->as_string() << ", dead-lettered "
                                       << cloud->find("dead_lettered")->as_number().value);
    BOOST_TEST(cloud->find("attempts")->as_number().value == 1);
}

BOOST_AUTO_TEST_CASE(topic_aliases_stay_within_the_brokers_maximum) {
    TempDir dir;
    Mosquitto broker("max_topic_alias 2\n");
    TestSubscriber subscriber(broker.url(), {"telemetry/#"});
    std::string sensors;
    for (int i = 0; i < 4; ++i) {
        sensors += "[[sensor]]\nname = \"s" + std::to_string(i) +
                   "\"\nplugin = \"test_emitter\"\n[sensor.options]\ncount = 5\npayload = \"{seq}\"\n\n";
    }
    GatewaydProcess gw(dir,
                       gateway_section(dir, all_plugins(dir)) + sensors + upstream(broker, "topic_alias = true\n"));
    GWD_REQUIRE(subscriber.wait_for(20, 15s), gw.log());
    for (int i = 0; i < 4; ++i) BOOST_TEST(subscriber.on_topic("telemetry/gw-01/s" + std::to_string(i)).size() == 5u);
    BOOST_TEST(gw.log().find(", 2 topic aliases") != std::string::npos, gw.log());
    auto status = daemon_status(dir);
    BOOST_REQUIRE(status);
    BOOST_TEST(upstream_status(*status, "cloud")->find("topic_aliases")->as_number().value == 2);
    BOOST_TEST(gw.log().find("lost") == std::string::npos);
    BOOST_TEST_MESSAGE("topic aliases within mosquitto's max_topic_alias 2: "
                       << upstream_status(*status, "cloud")->find("attempts")->as_number().value
                       << " connection attempt(s), 20 readings delivered");
}

BOOST_AUTO_TEST_CASE(another_client_with_our_id_stops_the_upstream) {
    TempDir dir;
    Mosquitto broker;
    // A second device configured with the same client id, reconnecting
    // whenever it is kicked out, as clients do.
    auto create = mqtt::create_options_builder().mqtt_version(MQTTVERSION_5).finalize();
    mqtt::async_client twin(broker.url(), "gw-01", create, nullptr);
    auto options = mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_5)
                       .clean_start(true)
                       .automatic_reconnect(std::chrono::milliseconds(200), std::chrono::milliseconds(400))
                       .finalize();
    twin.connect(options)->wait_for(10s);
    GatewaydProcess gw(
        dir, gateway_section(dir, all_plugins(dir)) + emitter("count = 5\npayload = \"{seq}\"") + upstream(broker));
    GWD_REQUIRE(gw.wait_for_log("another client uses client id 'gw-01'", 30s), gw.log());
    auto status = daemon_status(dir);
    BOOST_REQUIRE(status);
    const auto* cloud = upstream_status(*status, "cloud");
    BOOST_TEST(cloud->find("state")->as_string() == "stopped");
    BOOST_TEST_MESSAGE("connects before stopping: " << cloud->find("attempts")->as_number().value);
    try {
        twin.disconnect()->wait_for(2s);
    } catch (const mqtt::exception&) {}
}

BOOST_AUTO_TEST_CASE(broker_killed_and_restarted_loses_nothing_emitted_meanwhile) {
    TempDir dir;
    std::filesystem::create_directories(dir.path() / "mosquitto");
    auto broker = std::make_unique<Mosquitto>("persistence true\npersistence_location " +
                                              (dir.path() / "mosquitto").string() + "/\n");
    SubscriberOptions durable;
    durable.client_id = "cloud-app";
    durable.persistent = true;
    auto subscriber = std::make_unique<TestSubscriber>(broker->url(), std::vector<std::string>{"telemetry/#"}, durable);
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter("count = 100\npayload = \"{seq}\"\nevery = \"40ms\"") + upstream(*broker));
    GWD_REQUIRE(subscriber->wait_for(10, 10s), gw.log());
    std::vector<ReceivedMessage> received = subscriber->messages();
    subscriber.reset();
    broker->stop();  // SIGTERM: the broker writes its persistence, the session survives
    std::this_thread::sleep_for(2500ms);
    broker->start();
    subscriber = std::make_unique<TestSubscriber>(broker->url(), std::vector<std::string>{}, durable);
    GWD_REQUIRE(eventually([&] { return received.size() + subscriber->count() >= 100; }, 30s), gw.log());
    for (auto& m : subscriber->messages()) received.push_back(m);
    std::set<std::string> seen;
    size_t duplicates = 0;
    for (const auto& m : received) duplicates += seen.insert(m.payload).second ? 0 : 1;
    BOOST_TEST_MESSAGE("readings received " << received.size() << ", distinct " << seen.size() << ", duplicates "
                                            << duplicates);
    for (int i = 0; i < 100; ++i) BOOST_TEST(seen.count(std::to_string(i)) == 1u, "reading " << i);
    // Reconnected with jittered, growing delays: more than one attempt while down.
    const std::string log = gw.log();
    const std::regex retrying("retrying in ([0-9.]+m?s)");
    size_t retries = 0;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), retrying); it != std::sregex_iterator(); ++it)
        ++retries;
    BOOST_TEST_MESSAGE("reconnect attempts logged while the broker was down: " << retries);
    BOOST_TEST(retries >= 2u, log);
}

BOOST_AUTO_TEST_CASE(status_command_reports_upstreams_and_sensors) {
    TempDir dir;
    Mosquitto broker;
    TestSubscriber subscriber(broker.url(), {"telemetry/#"});
    GatewaydProcess gw(
        dir, gateway_section(dir, all_plugins(dir)) + emitter("count = 7\npayload = \"{seq}\"") + upstream(broker));
    GWD_REQUIRE(subscriber.wait_for(7, 15s), gw.log());
    std::string out;
    BOOST_TEST(run_command({gatewayd_binary().string(), "status", "--config", gw.config_path().string()}, out) == 0);
    BOOST_TEST(out.find("gateway 'gw-01'") != std::string::npos, out);
    BOOST_TEST(out.find("upstream cloud  " + broker.url() + "  client id 'gw-01'") != std::string::npos, out);
    BOOST_TEST(out.find("state      online since") != std::string::npos, out);
    BOOST_TEST(out.find("messages   sent 7, dead-lettered 0, dropped 0") != std::string::npos, out);
    BOOST_TEST(
        out.find("queue      disk, 0 queued, delivered 7, expired 0, dropped by overflow 0") != std::string::npos, out);
    BOOST_TEST(out.find("sensor meter (test_emitter): running, 7 readings") != std::string::npos, out);
    out.clear();
    BOOST_TEST(run_command({gatewayd_binary().string(), "status", "--socket", "/nonexistent/gatewayd.sock"}, out) == 3);
    BOOST_TEST(out.find("gatewayd is not running") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(a_reload_restarts_only_what_changed_and_keeps_the_queue) {
    TempDir dir;
    Mosquitto broker;
    TestSubscriber subscriber(broker.url(), {"telemetry/#", "renamed/#"});
    const std::string base = gateway_section(dir, all_plugins(dir)) +
                             "[[sensor]]\nname = \"steady\"\nplugin = \"simulated\"\ninterval = \"100ms\"\n"
                             "[sensor.options]\ndevices = [\"plain\"]\nnames = [\"steady\"]\nvalues = \"seed\"\n\n";
    GatewaydProcess gw(dir, base + upstream(broker));
    GWD_REQUIRE(subscriber.wait_for(3, 10s), gw.log());
    dir.write("gatewayd.toml", base + upstream(broker, "topic = \"renamed/{sensor}\"\n"));
    gw.process().signal(SIGHUP);
    GWD_REQUIRE(gw.wait_for_log("configuration reloaded: upstreams 0 kept, 1 restarted", 10s), gw.log());
    BOOST_TEST(gw.log().find("sensors 1 kept") != std::string::npos);
    GWD_REQUIRE(eventually([&] { return !subscriber.on_topic("renamed/steady").empty(); }, 10s), gw.log());
    BOOST_TEST(gw.process().running());
}

// A reload that restarts an upstream keeps its counters: 'sent' goes on
// from where it was, as 'delivered' (the queue's own count) always did.
BOOST_AUTO_TEST_CASE(a_restarted_upstream_keeps_counting) {
    TempDir dir;
    Mosquitto broker;
    TestSubscriber subscriber(broker.url(), {"telemetry/#", "renamed/#"});
    const std::string base = gateway_section(dir, all_plugins(dir)) + emitter("count = 5\npayload = \"{seq}\"");
    GatewaydProcess gw(dir, base + upstream(broker));
    auto number = [&](const char* key) {
        auto status = daemon_status(dir);
        const gwd::JsonValue* u = status ? upstream_status(*status, "cloud") : nullptr;
        const gwd::JsonValue* v = u ? u->find(key) : nullptr;
        return v && v->is_number() ? static_cast<long long>(v->as_number().value) : -1;
    };
    GWD_REQUIRE(eventually([&] { return number("sent") == 5; }, 20s), gw.log());
    const long long attempts = number("attempts");
    dir.write("gatewayd.toml", base + upstream(broker, "topic = \"renamed/{sensor}\"\n"));
    gw.process().signal(SIGHUP);
    GWD_REQUIRE(gw.wait_for_log("configuration reloaded: upstreams 0 kept, 1 restarted", 10s), gw.log());
    BOOST_TEST(number("sent") == 5);
    BOOST_TEST(number("delivered") == 5);
    GWD_CHECK(eventually([&] { return number("attempts") > attempts; }, 10s), gw.log());
}
