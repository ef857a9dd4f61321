// The platforms' own rules, against a real mosquitto playing each platform
// (cloud_platform.h): Huawei's sub-device status events and its 64 KB
// property reports, AWS's shadow retries and its 100 publishes per second
// counted inbound and outbound together. Every payload checked here is
// named next to the document or SDK it comes from.
#define BOOST_TEST_MODULE platform_limits
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <regex>
#include <set>
#include <thread>

#include "cloud_platform.h"
#include "gatewayd_process.h"

using namespace gwd;
using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

// A sub-device status event with its event_time replaced by "T", for exact comparison.
std::string without_event_time(const std::string& payload) {
    return std::regex_replace(payload, std::regex(R"("event_time":"\d{8}T\d{6}Z")"), R"("event_time":"T")");
}

std::string status_event(const std::vector<std::pair<std::string, std::string>>& statuses) {
    std::string list;
    for (const auto& [device, status] : statuses)
        list +=
            (list.empty() ? "" : ",") + std::string(R"({"device_id":")") + device + R"(","status":")" + status + "\"}";
    return R"({"services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status",)"
           R"("event_time":"T","paras":{"device_statuses":[)" +
           list + "]}}]}";
}

// Whether `sub` has received, on `topic`, a message whose payload without
// its event_time is `expected`; waits up to 15 s.
bool received_event(const TestSubscriber& sub, const std::string& topic, const std::string& expected) {
    return eventually(
        [&] {
            for (const auto& m : sub.on_topic(topic)) {
                if (without_event_time(m.payload) == expected) return true;
            }
            return false;
        },
        15s);
}

std::string events_seen(const TestSubscriber& sub, const std::string& topic) {
    std::string all;
    for (const auto& m : sub.on_topic(topic)) all += m.payload + "\n";
    return all;
}

}  // namespace

// iot_06_v5_3022: the gateway reports each child ONLINE itself, after every
// connect, and OFFLINE when it goes away; the platform answers on
// .../sys/events/down (iot_06_v5_30233) and lists failed_devices.
BOOST_AUTO_TEST_CASE(huawei_sub_devices_go_online_and_offline_with_their_sensor) {
    TempDir dir;
    HuaweiLikeBroker huawei(dir, "gw_subs");
    Mosquitto& broker = *huawei.broker;
    const std::string& base = huawei.base;
    TestSubscriber cloud(broker.url(), {base + "events/up"});
    auto config = [&](bool bus_b) {
        return gateway_section(dir) + R"(
[[sensor]]
name = "bus-a"
plugin = "simulated"
interval = "500ms"
[sensor.options]
devices = ["plain"]
names = ["meter1"]
[[sensor]]
name = "bus-b"
plugin = "simulated"
interval = "500ms"
enabled = )" + (bus_b ? "true" : "false") +
               R"(
[sensor.options]
devices = ["plain"]
names = ["meter2"]
[[upstream]]
name = "iotda"
profile = "huawei"
url = ")" + broker.url() +
               R"("
)" + huawei.huawei_table() +
               R"(
[[upstream.map]]
sensor = "meter1"
device_id = "child-1"
instance = "bus-a"
[[upstream.map]]
sensor = "meter2"
device_id = "child-2"
instance = "bus-b"
[upstream.backoff]
initial = "200ms"
max = "1s"
)";
    };
    GatewaydProcess gw(dir, config(true));
    const std::string topic = base + "events/up";
    // After the connect: both children, in one event.
    const std::string both_online = status_event({{"child-1", "ONLINE"}, {"child-2", "ONLINE"}});
    GWD_REQUIRE(received_event(cloud, topic, both_online), events_seen(cloud, topic) << gw.log());
    BOOST_TEST_MESSAGE("huawei status at connect: " << cloud.on_topic(topic).front().payload);
    BOOST_TEST(std::regex_search(cloud.on_topic(topic).front().payload, std::regex(R"("event_time":"\d{8}T\d{6}Z")")));

    // The platform's answer names a device it could not update: logged.
    TestPublisher platform(broker.url());
    platform.publish(
        base + "events/down",
        R"({"object_device_id":"gw_subs","services":[{"service_id":"$sub_device_manager",)"
        R"("event_type":"sub_device_update_status_response","event_time":"20151212T121212Z",)"
        R"("paras":{"successful_devices":[{"device_id":"child-1","status":"ONLINE"}],)"
        R"("failed_devices":[{"device_id":"child-2","error_code":"IOTDA.014016","error_msg":"device not exist"}]}}]})");
    GWD_CHECK(gw.wait_for_log("did not update the status of sub-device 'child-2': IOTDA.014016 device not exist"),
              gw.log());

    // The sensor that owns child-2 is disabled by a reload: OFFLINE for it alone.
    dir.write("gatewayd.toml", config(false));
    gw.process().signal(SIGHUP);
    const std::string child2_offline = status_event({{"child-2", "OFFLINE"}});
    GWD_CHECK(received_event(cloud, topic, child2_offline), events_seen(cloud, topic) << gw.log());

    // Stopping: OFFLINE for what was ONLINE, before the goodbye.
    BOOST_TEST(gw.stop().value_or(-1) == 0);
    const std::string child1_offline = status_event({{"child-1", "OFFLINE"}});
    GWD_CHECK(received_event(cloud, topic, child1_offline), events_seen(cloud, topic) << gw.log());
    BOOST_TEST_MESSAGE("huawei status events seen:\n" << events_seen(cloud, topic));
}

// usermanual iot_01_0326: a property report holds at most 64 KB; the
// gateway batch report (iot_06_v5_3006) takes at most 100 children. A queue
// of 100 readings of about 2 KB each goes in as few reports as fit, none
// over 65,536 bytes; a single reading over the limit becomes a device
// message on .../sys/messages/up (iot_06_v5_3016) saying why.
BOOST_AUTO_TEST_CASE(huawei_batch_of_100_large_readings_never_exceeds_64_kib) {
    TempDir dir;
    HuaweiLikeBroker huawei(dir, "gw_big");
    Mosquitto& broker = *huawei.broker;
    Mosquitto local;
    const std::string& base = huawei.base;
    const std::string report_topic = base + "gateway/sub_devices/properties/report";
    TestSubscriber cloud(broker.url(), {report_topic, base + "messages/up"});
    std::string map;
    for (int i = 0; i < 5; ++i)
        map += "[[upstream.map]]\nsensor = \"m" + std::to_string(i) + "\"\ndevice_id = \"child-" + std::to_string(i) +
               "\"\n";
    GatewaydProcess gw(dir, gateway_section(dir) + R"(
[[sensor]]
name = "local"
plugin = "mqtt_local"
[sensor.options]
url = ")" + local.url() + R"("
topics = ["meters/#"]
[[upstream]]
name = "iotda"
profile = "huawei"
url = ")" + broker.url() + R"("
max_publish_rate = 1
)" + huawei.huawei_table() + R"(
)" + map);
    GWD_REQUIRE(gw.wait_for_log("subscribed to"), gw.log());
    {
        TestPublisher sensors(local.url());
        for (int i = 0; i < 100; ++i) {
            const std::string tag = "r" + std::to_string(i) + "-";
            sensors.publish("meters/m" + std::to_string(i % 5), tag + std::string(2000 - tag.size(), 'x'));
        }
        sensors.publish("meters/m0", std::string(70000, 'y'));
    }
    std::set<std::string> delivered;
    size_t largest = 0, reports = 0, most_devices = 0;
    eventually(
        [&] {
            delivered.clear();
            largest = reports = most_devices = 0;
            for (const auto& m : cloud.on_topic(report_topic)) {
                ++reports;
                largest = std::max(largest, m.payload.size());
                const auto devices = json(m.payload).find("devices")->as_array();
                most_devices = std::max(most_devices, devices.size());
                for (const auto& d : devices) {
                    const std::string value =
                        d.find("services")->as_array().at(0).find("properties")->find("value")->as_string();
                    delivered.insert(value.substr(0, value.find('-')));
                }
            }
            return delivered.size() >= 100;
        },
        60s);
    BOOST_TEST_MESSAGE("huawei: 100 readings of ~2 KB in " << reports << " reports, the largest " << largest
                                                           << " bytes, up to " << most_devices << " children in one");
    BOOST_TEST(delivered.size() == 100u, gw.log());
    BOOST_TEST(largest <= 65536u);
    BOOST_TEST(largest > 50000u);  // packed, not one reading per report
    BOOST_TEST(reports <= 8u);
    // The 70,000-byte reading: a device message naming the reason.
    auto dead = wait_for_message(cloud, base + "messages/up", [](const JsonValue& d) {
        const JsonValue* name = d.find("name");
        return name && name->is_string() && name->as_string() == "gatewayd_dead_letter";
    });
    GWD_REQUIRE(dead.has_value(), gw.log());
    BOOST_TEST_MESSAGE("huawei dead letter: " << dead->payload);
    const JsonValue doc = json(dead->payload);
    BOOST_TEST(doc.find("object_device_id")->as_string() == "child-0");
    BOOST_TEST(doc.find("content")->find("error")->as_string().starts_with(
        "larger than the platform's limit of 65536 bytes ("));
    BOOST_TEST(doc.find("content")->find("sensor")->as_string() == "m0");
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

// AWS shadow error codes 429 ("more than 10 in-flight requests") and 500
// ("Internal service failure"): the reported value is sent again after a
// backoff until the shadow takes it.
BOOST_AUTO_TEST_CASE(aws_shadow_update_refused_with_429_and_500_is_retried_until_accepted) {
    TempDir dir;
    AwsLikeBroker aws(dir);
    Mosquitto& broker = *aws.broker;
    const std::string shadow = "$aws/things/gw-01/shadow";
    TestSubscriber cloud(broker.url(), {shadow + "/get", shadow + "/update"});
    GatewaydProcess gw(dir, gateway_section(dir) + R"(
[[sensor]]
name = "lab"
plugin = "simulated"
interval = "300ms"
[sensor.options]
devices = ["xiaomi"]
names = ["lab01"]
values = "seed"
[[upstream]]
name = "aws"
profile = "aws"
)" + aws.upstream_tls_keys() + R"(
[upstream.aws]
thing_name = "gw-01"
shadow_interval = "1s"
[[upstream.map]]
sensor = "lab01"
shadow_field = "temperature"
[upstream.backoff]
initial = "200ms"
max = "1s"
)");
    TestPublisher service(broker.url());
    std::vector<std::string> updates;
    bool accepted = false;
    size_t seen = 0;
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < until && !accepted) {
        const auto all = cloud.messages();
        for (; seen < all.size(); ++seen) {
            const auto& m = all[seen];
            const std::string token = json(m.payload).find("clientToken")->as_string();
            if (m.topic == shadow + "/get") {
                service.publish(shadow + "/get/accepted", R"({"state":{},"version":1,"clientToken":")" + token + "\"}");
                continue;
            }
            updates.push_back(m.payload);
            BOOST_TEST_MESSAGE("aws shadow update " << updates.size() << ": " << m.payload);
            if (updates.size() == 1) {
                service.publish(shadow + "/update/rejected",
                                R"({"code":429,"message":"Too Many Requests","clientToken":")" + token + "\"}");
            } else if (updates.size() == 2) {
                service.publish(shadow + "/update/rejected",
                                R"({"code":500,"message":"Internal service failure","clientToken":")" + token + "\"}");
            } else {
                service.publish(shadow + "/update/accepted", R"({"version":2,"clientToken":")" + token + "\"}");
                accepted = true;
            }
        }
        std::this_thread::sleep_for(20ms);
    }
    BOOST_TEST_REQUIRE(updates.size() >= 3u, gw.log());
    for (size_t i = 0; i < 3; ++i) {
        const JsonValue doc = json(updates[i]);
        BOOST_TEST(number_text(doc.find("state")->find("reported")->find("temperature")) == "23.4", updates[i]);
    }
    BOOST_TEST(
        gw.log().find("refused an update for now: code 429 (Too Many Requests); reporting those values again in") !=
        std::string::npos);
    BOOST_TEST(gw.log().find("refused an update for now: code 500 (Internal service failure); reporting those values "
                             "again in") != std::string::npos);
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

// AWS IoT Core limits: "Publish requests per second per connection: 100",
// inbound and outbound together; what goes over is discarded. gatewayd
// forwards a backlog while the cloud sends it 25 requests a second (each
// answered on its Response Topic): readings, answers and requests together
// stay within 100 a second, measured over 10 s once the pace is known.
BOOST_AUTO_TEST_CASE(aws_inbound_and_outbound_together_stay_under_100_per_second) {
    TempDir dir;
    AwsLikeBroker aws(dir);
    Mosquitto& broker = *aws.broker;
    TestSubscriber cloud(broker.url(), {"dt/gw-01/#", "reply/#"});
    GatewaydProcess gw(dir, gateway_section(dir) + R"(
[[sensor]]
name = "lab"
plugin = "simulated"
interval = "5ms"
[sensor.options]
devices = ["xiaomi", "huawei"]
names = ["lab01", "lab02"]
values = "seed"
[[upstream]]
name = "aws"
profile = "aws"
)" + aws.upstream_tls_keys() + R"(
[upstream.aws]
thing_name = "gw-01"
shadow = false
command_topic = "cmd/{thing}/request"
)");
    // A backlog first: readings come at ~400/s, 100/s may leave.
    GWD_REQUIRE(wait_for_message(cloud, "dt/gw-01/lab01", any_json, 20s).has_value(), gw.log());
    TestPublisher app(broker.url());
    std::vector<std::chrono::steady_clock::time_point> requests;
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 350 && std::chrono::steady_clock::now() < started + 14s; ++i) {
        app.request("cmd/gw-01/request", R"({"sensor":"lab01","command":"reset"})", "reply/app",
                    "c" + std::to_string(i));
        requests.push_back(std::chrono::steady_clock::now());
        std::this_thread::sleep_until(started + (i + 1) * 40ms);
    }
    std::this_thread::sleep_for(1s);  // the last answers
    const auto from = started + 3s, to = from + 10s;
    auto within = [&](std::chrono::steady_clock::time_point t) { return t >= from && t < to; };
    size_t readings = 0, answers = 0, inbound = 0;
    for (const auto& m : cloud.messages()) {
        if (!within(m.received_at)) continue;
        if (m.topic.starts_with("dt/"))
            ++readings;
        else
            ++answers;
    }
    for (const auto& t : requests) inbound += within(t) ? 1 : 0;
    const size_t total = readings + answers + inbound;
    BOOST_TEST_MESSAGE("aws over 10 s: " << readings << " readings + " << answers << " answers out, " << inbound
                                         << " requests in = " << total << " (limit 1000)");
    BOOST_TEST(inbound >= 200u);   // the cloud really was talking
    BOOST_TEST(readings >= 200u);  // and the backlog really was moving
    // 1000 plus what the test's own clocks may shift across the edges of the window.
    BOOST_TEST(total <= 1060u, gw.log().substr(0, 2000));
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}
