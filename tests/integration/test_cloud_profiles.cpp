// The three cloud profiles against a real mosquitto set up to behave like
// each platform: Huawei IoTDA and OneNET with a password file holding what
// this test's own implementation of the platform's algorithm computes
// (openssl on the command line, not gatewayd's code), and ACLs on $oc/# and
// $sys/#; AWS IoT Core with mutual TLS (require_certificate,
// use_identity_as_username) and an ACL granting $aws/things/<thing>/#. A
// test-side "cloud" client checks the uplink payloads, then sends commands,
// property sets and gets, a shadow delta and MQTT v5 requests, and checks
// every answer, including the error answers to malformed requests.
#define BOOST_TEST_MODULE cloud_profiles
#include <boost/test/unit_test.hpp>

#include <ctime>
#include <regex>
#include <thread>

#include "cloud_platform.h"
#include "common/json.h"
#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"
#include "test_pki.h"

using namespace gwd;
using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

auto any = any_json;

// What json_parse says about `text`, as gatewayd puts it in an error answer.
std::string json_error_for(const std::string& text) {
    std::string error;
    json_parse(text, error);
    return error;
}

const std::string kSensor = R"(
[[sensor]]
name = "lab"
plugin = "simulated"
interval = "300ms"
[sensor.options]
names = ["lab01", "lab02", "lab03"]
values = "seed"
)";

}  // namespace

BOOST_AUTO_TEST_CASE(gatewayd_credentials_prints_the_platform_vectors) {
    TempDir dir;
    auto secret = dir.write("hw.secret", "mysecret123\n");
    auto key = dir.write("on.key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
    auto config = dir.write("gw.toml", gateway_section(dir) + R"(
[[upstream]]
name = "iotda"
profile = "huawei"
url = "ssl://127.0.0.1:8883"
[upstream.huawei]
device_id = "5e06bfee334dd4f33759f5b3_demo"
secret_file = ")" + secret.string() + R"("
[[upstream]]
name = "onenet"
profile = "onenet"
url = "tcp://127.0.0.1:1883"
[upstream.onenet]
product_id = "123123"
device_name = "mydev"
key_file = ")" + key.string() + R"("
method = "sha1"
token_validity = "1h"
)");
    std::string out;
    // The Huawei vector of test_platform_auth.cpp (huawei_full_connect_tv_hw_2): 2024-07-26T03:42:19Z.
    BOOST_TEST(run_command({gatewayd_binary().string(), "credentials", "--config", config.string(), "--upstream",
                            "iotda", "--at", "2024-07-26T03:42:19Z", "--show-secret"},
                           out) == 0);
    BOOST_TEST(out.find("client id  5e06bfee334dd4f33759f5b3_demo_0_1_2024072603\n") != std::string::npos, out);
    BOOST_TEST(out.find("username   5e06bfee334dd4f33759f5b3_demo\n") != std::string::npos, out);
    BOOST_TEST(
        out.find("password   15e9c7274b2835b592525e326eaa422b923d82e38fdf634581d4e87757f4391b\n") != std::string::npos,
        out);
    // Masked without --show-secret.
    out.clear();
    BOOST_TEST(run_command({gatewayd_binary().string(), "credentials", "--config", config.string(), "--upstream",
                            "iotda", "--at", "2024-07-26T03:42:19Z"},
                           out) == 0);
    BOOST_TEST(out.find("15e9c727") == std::string::npos, out);
    BOOST_TEST(out.find("15e9…391b (64 characters; --show-secret prints it)") != std::string::npos, out);
    // The OneNET sha1 vector of test_platform_auth.cpp (onenet_tokens_tv_on_1_to_3):
    // et 1537255523 = 2018-09-18T07:25:23Z, one hour after --at.
    out.clear();
    BOOST_TEST(run_command({gatewayd_binary().string(), "credentials", "--config", config.string(), "--upstream",
                            "onenet", "--at", "2018-09-18T06:25:23Z", "--show-secret"},
                           out) == 0);
    BOOST_TEST(out.find("client id  mydev\n") != std::string::npos, out);
    BOOST_TEST(out.find("username   123123\n") != std::string::npos, out);
    BOOST_TEST(out.find("token      version=2018-10-31&res=products%2F123123%2Fdevices%2Fmydev&et=1537255523&method="
                        "sha1&sign=tpYxSonGkJ3T%2FUEEkjxPjml9Y%2FI%3D\n") != std::string::npos,
               out);
    out.clear();
    BOOST_TEST(run_command({gatewayd_binary().string(), "credentials", "--config", config.string(), "--upstream", "x"},
                           out) == 64);
    BOOST_TEST(out.find("has no upstream 'x' (it has: iotda, onenet)") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(huawei_iotda_reports_and_answers_commands) {
    TempDir dir;
    avoid_hour_boundary();
    const std::string device = "5e06bfee334dd4f33759f5b3_gw01";
    const std::string secret_text = "mysecret123";
    auto secret = dir.write("hw.secret", secret_text + "\n");
    const std::string hour = utc_hour_now();
    const std::string password = huawei_password(secret_text, hour);
    BOOST_TEST_REQUIRE(password.size() == 64u);
    auto broker_owner = platform_broker(dir, device, password, "$oc/#", "$oc/devices/" + device + "/#");
    Mosquitto& broker = *broker_owner;
    const std::string base = "$oc/devices/" + device + "/sys/";
    TestSubscriber cloud(broker.url(), {base + "properties/report", base + "gateway/sub_devices/properties/report",
                                        base + "commands/response/#", base + "properties/set/response/#",
                                        base + "properties/get/response/#"});
    GatewaydProcess gw(dir, gateway_section(dir) + kSensor + R"(
[[upstream]]
name = "iotda"
profile = "huawei"
url = ")" + broker.url() + R"("
keep_alive = "30s"
[upstream.huawei]
device_id = ")" + device + R"("
secret_file = ")" + secret.string() +
                                R"("
sign_type = 1
[[upstream.map]]
sensor = "lab01"
service_id = "Temperature"
property = "temperature"
[[upstream.map]]
sensor = "lab02"
service_id = "analog"
device_id = "child-1"
[upstream.backoff]
initial = "200ms"
max = "1s"
)");
    // Uplink: the gateway's own services, and a sub-device through the gateway.
    auto report = wait_for_message(cloud, base + "properties/report", [](const JsonValue& d) {
        const auto* s = d.find("services");
        return s && s->as_array().at(0).find("service_id")->as_string() == "Temperature";
    });
    BOOST_TEST_REQUIRE(report.has_value(), gw.log() + broker.log());
    BOOST_TEST_MESSAGE("huawei uplink: " << report->topic << " " << report->payload);
    const JsonValue service = json(report->payload).find("services")->as_array().at(0);
    BOOST_TEST(number_text(service.find("properties")->find("temperature")) == "23.4");
    // iot_06_v5_3010: "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
    BOOST_TEST(std::regex_match(service.find("event_time")->as_string(),
                                std::regex("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z")));
    auto sub = wait_for_message(cloud, base + "gateway/sub_devices/properties/report", any);
    BOOST_TEST_REQUIRE(sub.has_value());
    const JsonValue child = json(sub->payload).find("devices")->as_array().at(0);
    BOOST_TEST(child.find("device_id")->as_string() == "child-1");
    BOOST_TEST(child.find("services")->as_array().at(0).find("service_id")->as_string() == "analog");
    BOOST_TEST(number_text(child.find("services")->as_array().at(0).find("properties")->find("value")) == "23.7");
    auto unmapped = wait_for_message(cloud, base + "properties/report", [](const JsonValue& d) {
        return d.find("services")->as_array().at(0).find("service_id")->as_string() == "lab03";
    });
    BOOST_TEST_REQUIRE(unmapped.has_value());
    BOOST_TEST(
        number_text(json(unmapped->payload).find("services")->as_array().at(0).find("properties")->find("value")) ==
        "24.4");
    // CONNECT: {device_id}_0_1_{hour}, user name the device id.
    BOOST_TEST(broker.log().find("as " + device + "_0_1_" + hour) != std::string::npos, broker.log());

    TestPublisher platform(broker.url());
    // A command, answered by the simulated plugin.
    platform.publish(base + "commands/request_id=cmd-1",
                     R"({"service_id":"Temperature","command_name":"set","paras":{"value":30}})");
    auto response = wait_for_message(cloud, base + "commands/response/request_id=cmd-1", any);
    BOOST_TEST_REQUIRE(response.has_value(), gw.log());
    BOOST_TEST_MESSAGE("huawei command response: " << response->topic << " " << response->payload);
    BOOST_TEST(response->payload == R"({"result_code":0,"response_name":"set","paras":{"value":30.0}})");
    // A property set, then readings show the new value; a property get answers from them.
    platform.publish(base + "properties/set/request_id=ps-1",
                     R"({"services":[{"service_id":"Temperature","properties":{"temperature":31.5}}]})");
    auto set = wait_for_message(cloud, base + "properties/set/response/request_id=ps-1", any);
    BOOST_TEST_REQUIRE(set.has_value(), gw.log());
    BOOST_TEST(set->payload == R"({"result_code":0,"result_desc":"success"})");
    BOOST_TEST(wait_for_message(cloud, base + "properties/report", [](const JsonValue& d) {
                   return number_text(d.find("services")->as_array().at(0).find("properties")->find("temperature")) ==
                          "31.5";
               }).has_value());
    platform.publish(base + "properties/get/request_id=pg-1", R"({"service_id":"Temperature"})");
    auto get = wait_for_message(cloud, base + "properties/get/response/request_id=pg-1", any);
    BOOST_TEST_REQUIRE(get.has_value());
    BOOST_TEST(
        number_text(json(get->payload).find("services")->as_array().at(0).find("properties")->find("temperature")) ==
        "31.5");
    // Malformed, unknown to the plugin, unmapped: each gets result_code 1.
    platform.publish(base + "commands/request_id=bad-1", "{oops");
    platform.publish(base + "commands/request_id=bad-2", R"({"service_id":"Temperature","command_name":"explode"})");
    platform.publish(base + "commands/request_id=bad-3", R"({"service_id":"Pressure","command_name":"set"})");
    for (const char* id : {"bad-1", "bad-2", "bad-3"}) {
        auto bad = wait_for_message(cloud, base + "commands/response/request_id=" + id, any);
        BOOST_TEST_REQUIRE(bad.has_value(), id);
        BOOST_TEST_MESSAGE("huawei error response: " << bad->payload);
        BOOST_TEST(number_text(json(bad->payload).find("result_code")) == "1");
    }
    BOOST_TEST(json(wait_for_message(cloud, base + "commands/response/request_id=bad-2", any)->payload)
                   .find("paras")
                   ->find("error")
                   ->as_string()
                   .find("simulated sensors take the commands \"set\" and \"reset\"") != std::string::npos);
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(onenet_posts_properties_and_answers_set_and_invoke) {
    TempDir dir;
    const std::string key_b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    auto key = dir.write("on.key", key_b64 + "\n");
    // The token with a fixed et (2050-01-01), computed here independently.
    const std::string et = "2524608000", res = "products/123123/devices/mydev";
    const std::string sign = shell("printf '%s\\n%s\\n%s\\n%s' " + et + " sha256 " + res +
                                   " 2018-10-31 | openssl dgst -sha256 -mac HMAC -macopt hexkey:"
                                   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f -binary | base64");
    auto urlenc = [](std::string s) {
        std::string out;
        for (char c : s) {
            if (c == '+')
                out += "%2B";
            else if (c == '/')
                out += "%2F";
            else if (c == '=')
                out += "%3D";
            else
                out += c;
        }
        return out;
    };
    const std::string token =
        "version=2018-10-31&res=" + urlenc(res) + "&et=" + et + "&method=sha256&sign=" + urlenc(sign);
    auto broker_owner = platform_broker(dir, "123123", token, "$sys/#", "$sys/123123/mydev/#");
    Mosquitto& broker = *broker_owner;
    const std::string thing = "$sys/123123/mydev/thing/";
    TestSubscriber cloud(broker.url(), {thing + "property/post", thing + "property/set_reply",
                                        thing + "property/get_reply", thing + "service/+/invoke_reply"});
    GatewaydProcess gw(dir, gateway_section(dir) + kSensor + R"(
[[upstream]]
name = "onenet"
profile = "onenet"
url = ")" + broker.url() + R"("
[upstream.onenet]
product_id = "123123"
device_name = "mydev"
key_file = ")" + key.string() + R"("
method = "sha256"
token_expires_at = "2050-01-01T00:00:00Z"
[[upstream.map]]
sensor = "lab01"
identifier = "temp"
commands = ["reset"]
[[upstream.map]]
sensor = "lab02"
identifier = "humi"
[upstream.backoff]
initial = "200ms"
max = "1s"
)");
    auto post = wait_for_message(cloud, thing + "property/post",
                                 [](const JsonValue& d) { return d.find("params")->find("temp") != nullptr; });
    BOOST_TEST_REQUIRE(post.has_value(), gw.log() + broker.log());
    BOOST_TEST_MESSAGE("onenet uplink: " << post->topic << " " << post->payload);
    const JsonValue doc = json(post->payload);
    BOOST_TEST(doc.find("version")->as_string() == "1.0");
    BOOST_TEST(std::regex_match(doc.find("id")->as_string(), std::regex("\\d+")));
    BOOST_TEST(number_text(doc.find("params")->find("temp")->find("value")) == "23.4");
    BOOST_TEST(doc.find("params")->find("temp")->find("time")->as_number().value > 1.7e12);
    BOOST_TEST(broker.log().find("as mydev") != std::string::npos);

    TestPublisher platform(broker.url());
    // post/reply: 200 confirms; another code sends the reading to the dead letters, logged.
    platform.publish(thing + "property/post/reply",
                     R"({"id":")" + doc.find("id")->as_string() + R"(","code":200,"msg":"success"})");
    auto humi = wait_for_message(cloud, thing + "property/post",
                                 [](const JsonValue& d) { return d.find("params")->find("humi") != nullptr; });
    BOOST_TEST_REQUIRE(humi.has_value());
    platform.publish(thing + "property/post/reply", R"({"id":")" + json(humi->payload).find("id")->as_string() +
                                                        R"(","code":2404,"msg":"identifier not exist"})");
    GWD_CHECK(gw.wait_for_log("OneNET refused the property post: code 2404 (identifier not exist)"), gw.log());

    platform.publish(thing + "property/set", R"({"id":"s-1","version":"1.0","params":{"temp":30}})");
    auto set_reply = wait_for_message(cloud, thing + "property/set_reply", any);
    BOOST_TEST_REQUIRE(set_reply.has_value(), gw.log());
    BOOST_TEST_MESSAGE("onenet set_reply: " << set_reply->payload);
    BOOST_TEST(set_reply->payload == R"({"id":"s-1","code":200,"msg":"success"})");
    BOOST_TEST(wait_for_message(cloud, thing + "property/post", [](const JsonValue& d) {
                   const auto* t = d.find("params")->find("temp");
                   return t && number_text(t->find("value")) == "30.0";
               }).has_value());
    platform.publish(thing + "service/reset/invoke", R"({"id":"i-1","version":"1.0","params":{}})");
    auto invoke = wait_for_message(cloud, thing + "service/reset/invoke_reply", any);
    BOOST_TEST_REQUIRE(invoke.has_value(), gw.log());
    BOOST_TEST_MESSAGE("onenet invoke_reply: " << invoke->payload);
    BOOST_TEST(invoke->payload == R"({"id":"i-1","code":200,"msg":"success","data":{"value":23.4}})");
    platform.publish(thing + "property/get", R"({"id":"g-1","version":"1.0","params":["temp"]})");
    auto get = wait_for_message(cloud, thing + "property/get_reply", any);
    BOOST_TEST_REQUIRE(get.has_value());
    BOOST_TEST(json(get->payload).find("code")->as_number().text == "200");
    // Malformed and unknown requests get code 100, with the reason.
    platform.publish(thing + "property/set", "not json");
    auto bad = wait_for_message(cloud, thing + "property/set_reply",
                                [](const JsonValue& d) { return d.find("id")->as_string().empty(); });
    BOOST_TEST_REQUIRE(bad.has_value());
    BOOST_TEST_MESSAGE("onenet error reply: " << bad->payload);
    BOOST_TEST(number_text(json(bad->payload).find("code")) == "100");
    platform.publish(thing + "service/explode/invoke", R"({"id":"i-2","params":{}})");
    auto unknown = wait_for_message(cloud, thing + "service/explode/invoke_reply", any);
    BOOST_TEST_REQUIRE(unknown.has_value());
    BOOST_TEST(unknown->payload ==
               R"({"id":"i-2","code":100,"msg":"no sensor lists service 'explode' in its commands"})");
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(aws_iot_telemetry_shadow_and_request_response) {
    TempDir dir;
    AwsLikeBroker aws(dir);
    Mosquitto& broker = *aws.broker;
    const std::string shadow = "$aws/things/gw-01/shadow";
    TestSubscriber cloud(broker.url(), {"dt/gw-01/#", shadow + "/get", shadow + "/update", "reply/#"});
    GatewaydProcess gw(dir, gateway_section(dir) + kSensor + R"(
[[upstream]]
name = "aws"
profile = "aws"
)" + aws.upstream_tls_keys() + R"(
[upstream.aws]
thing_name = "gw-01"
shadow_interval = "1s"
command_topic = "cmd/{thing}/request"
[[upstream.map]]
sensor = "lab01"
shadow_field = "temperature"
[upstream.backoff]
initial = "200ms"
max = "1s"
)");
    // Telemetry with its MQTT v5 metadata.
    auto telemetry = wait_for_message(cloud, "dt/gw-01/lab01", [](const JsonValue&) { return true; });
    BOOST_TEST_REQUIRE(telemetry.has_value(), gw.log() + broker.log());
    BOOST_TEST_MESSAGE("aws uplink: " << telemetry->topic << " " << telemetry->payload);
    BOOST_TEST(telemetry->payload == "23.4");
    BOOST_TEST(telemetry->content_type.value_or("") == "text/plain");
    BOOST_TEST(telemetry->payload_format.value_or(-1) == 1);
    // The user-property example's "Hardware-Revision: Xiaomi-rev1.17c", normalized.
    BOOST_TEST(
        (std::find(telemetry->user_properties.begin(), telemetry->user_properties.end(),
                   std::pair<std::string, std::string>{"hw_revision", "1.17c"}) != telemetry->user_properties.end()));
    BOOST_TEST(broker.log().find("u'gw-01'") != std::string::npos, broker.log());  // the certificate's identity

    // The test plays the Device Shadow service: the first get finds a desired
    // temperature of 30, the first update is refused with 409, the second
    // get says version 7, and later updates are accepted.
    TestPublisher service(broker.url());
    int gets = 0, updates = 0;
    bool reported_30 = false, reported_19_at_8 = false;
    size_t seen = 0;
    auto serve_shadow = [&](const std::function<bool()>& done) {
        const auto until = std::chrono::steady_clock::now() + 20s;
        while (std::chrono::steady_clock::now() < until && !done()) {
            const auto all = cloud.messages();
            for (; seen < all.size(); ++seen) {
                const auto& m = all[seen];
                if (m.topic == shadow + "/get") {
                    ++gets;
                    const std::string token = json(m.payload).find("clientToken")->as_string();
                    service.publish(
                        shadow + "/get/accepted",
                        gets == 1
                            ? R"({"state":{"desired":{"temperature":30},"delta":{"temperature":30}},"version":5,"clientToken":")" +
                                  token + "\"}"
                            : R"({"state":{"desired":{"temperature":30},"reported":{"temperature":30}},"version":7,"clientToken":")" +
                                  token + "\"}");
                } else if (m.topic == shadow + "/update") {
                    ++updates;
                    const JsonValue doc = json(m.payload);
                    const std::string token = doc.find("clientToken")->as_string();
                    BOOST_TEST_MESSAGE("aws shadow update: " << m.payload);
                    if (updates == 1) {
                        service.publish(shadow + "/update/rejected",
                                        R"({"code":409,"message":"Version conflict","clientToken":")" + token + "\"}");
                        continue;
                    }
                    const std::string version = number_text(doc.find("version"));
                    const std::string temperature =
                        number_text(doc.find("state")->find("reported")->find("temperature"));
                    // The plugin applied 30.0; reported as the desired 30 was written, so the delta clears.
                    if (temperature == "30") reported_30 = true;
                    if (temperature == "19.0" && version == "8") reported_19_at_8 = true;
                    const std::string next = std::to_string(version == "(none)" ? 8 : std::stoi(version) + 1);
                    service.publish(shadow + "/update/accepted",
                                    R"({"version":)" + next + R"(,"clientToken":")" + token + "\"}");
                }
            }
            std::this_thread::sleep_for(50ms);
        }
    };
    serve_shadow([&] { return gets >= 2 && reported_30; });
    BOOST_TEST(gets >= 2, "gets: " << gets << "\n" << gw.log());  // at start, and again after the 409
    BOOST_TEST(reported_30, gw.log());  // the delta reached the plugin, and its applied value was reported
    BOOST_TEST(gw.log().find("shadow version conflict (409)") != std::string::npos);

    // MQTT v5 request/response: the answer carries the request's correlation data.
    service.request("cmd/gw-01/request", R"({"sensor":"lab01","command":"set","params":{"value":19}})", "reply/app-1",
                    "corr-42");
    auto answer = wait_for_message(cloud, "reply/app-1", any);
    BOOST_TEST_REQUIRE(answer.has_value(), gw.log());
    BOOST_TEST_MESSAGE("aws response: " << answer->payload << " correlation " << answer->correlation_data.value_or(""));
    BOOST_TEST(answer->payload == R"({"status":"ok","result":{"value":19.0}})");
    BOOST_TEST(answer->correlation_data.value_or("") == "corr-42");
    // The new value is reported on the version the last accepted update said (7 + 1).
    serve_shadow([&] { return reported_19_at_8; });
    BOOST_TEST(reported_19_at_8, gw.log());
    service.request("cmd/gw-01/request", "nonsense", "reply/app-2", "corr-43");
    auto error = wait_for_message(cloud, "reply/app-2", any);
    BOOST_TEST_REQUIRE(error.has_value(), gw.log());
    BOOST_TEST(error->payload == R"({"status":"error","code":"invalid","error":"the command is not a JSON object: )" +
                                     json_error_for("nonsense") + "\"}");
    BOOST_TEST(error->correlation_data.value_or("") == "corr-43");
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}

// Readings of sub-devices that queue up (here: behind a publish rate of 2/s)
// travel together, up to 100 per report.
BOOST_AUTO_TEST_CASE(huawei_sub_device_readings_travel_in_batches) {
    TempDir dir;
    HuaweiLikeBroker huawei(dir, "gw_batch");
    Mosquitto& broker = *huawei.broker;
    const std::string& device = huawei.device;
    const std::string topic = "$oc/devices/" + device + "/sys/gateway/sub_devices/properties/report";
    TestSubscriber cloud(broker.url(), {topic});
    GatewaydProcess gw(dir, gateway_section(dir) + kSensor + R"(
[[upstream]]
name = "iotda"
profile = "huawei"
url = ")" + broker.url() + R"("
max_publish_rate = 2
)" + huawei.huawei_table() + R"(
[[upstream.map]]
sensor = "lab01"
device_id = "child-1"
[[upstream.map]]
sensor = "lab02"
device_id = "child-2"
[[upstream.map]]
sensor = "lab03"
device_id = "child-3"
)");
    auto batch = wait_for_message(
        cloud, topic, [](const JsonValue& d) { return d.find("devices")->as_array().size() >= 4; }, 15s);
    BOOST_TEST_REQUIRE(batch.has_value(), gw.log());
    const JsonValue doc = json(batch->payload);
    const auto& devices = doc.find("devices")->as_array();
    BOOST_TEST_MESSAGE("huawei batch of " << devices.size()
                                          << " sub-device readings: " << batch->payload.substr(0, 200));
    BOOST_TEST(devices.size() <= 100u);
    // In the order they were read: child-1, child-2, child-3, child-1, ...
    for (size_t i = 0; i + 1 < devices.size(); ++i) {
        const std::string a = devices[i].find("device_id")->as_string(),
                          b = devices[i + 1].find("device_id")->as_string();
        BOOST_TEST(b == (a == "child-1" ? "child-2" : a == "child-2" ? "child-3" : "child-1"));
    }
    BOOST_TEST(gw.stop().value_or(-1) == 0);
}
