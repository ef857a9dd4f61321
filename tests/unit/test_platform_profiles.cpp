// The cloud profiles' codecs and agents, without a broker: every uplink
// shape and every downlink exchange the platforms document (Huawei IoTDA's MQTT API reference,
// OneNET's OneJSON, AWS's Device Shadow MQTT topics), as the platform sees it.
#define BOOST_TEST_MODULE platform_profiles
#include <boost/test/unit_test.hpp>

#include "common/json.h"
#include "upstream/profiles/aws_profile.h"
#include "upstream/profiles/huawei_profile.h"
#include "upstream/profiles/onenet_profile.h"
#include "upstream/profiles/reading_value.h"

using namespace gwd;

namespace {

// 2024-07-26T03:42:19Z, the instant of test_platform_auth.cpp's Huawei vector (tv_hw_2).
constexpr std::int64_t kAt = 1721965339000;

Message reading(std::string sensor, std::string payload, std::string instance = "lab") {
    Message m;
    m.sensor = std::move(sensor);
    m.instance = std::move(instance);
    m.payload = std::move(payload);
    m.timestamp_ms = kAt;
    m.content_type = "text/plain";
    m.utf8 = true;
    return m;
}

std::shared_ptr<const Message> shared(Message m) { return std::make_shared<const Message>(std::move(m)); }

PlatformMapping map(std::string sensor, std::string property, std::string service = {}, std::string device = {}) {
    PlatformMapping m;
    m.sensor = std::move(sensor);
    m.property = std::move(property);
    m.service_id = std::move(service);
    m.device_id = std::move(device);
    return m;
}

UpstreamConfig huawei() {
    UpstreamConfig u;
    u.name = "iotda";
    u.profile = PlatformProfile::huawei;
    u.mqtt_version = 4;
    u.huawei.device_id = "gw_demo";
    u.map = {map("lab01", "temperature", "Temperature"), map("lab02", "value", "Humidity"),
             map("sub1", "value", "analog", "child-1"), map("sub2", "value", "analog", "child-2")};
    u.map[0].commands = {"calibrate"};
    return u;
}

UpstreamConfig onenet() {
    UpstreamConfig u;
    u.name = "onenet";
    u.profile = PlatformProfile::onenet;
    u.mqtt_version = 4;
    u.onenet.product_id = "123123";
    u.onenet.device_name = "mydev";
    u.map = {map("lab01", "temp"), map("lab02", "humi")};
    u.map[0].commands = {"reboot"};
    return u;
}

UpstreamConfig aws() {
    UpstreamConfig u;
    u.name = "aws";
    u.profile = PlatformProfile::aws;
    u.topic = "dt/{gateway}/{sensor}";
    u.aws.thing_name = "gw-01";
    u.aws.command_topic = "cmd/gw-01/request";
    u.aws.shadow_interval = Duration(10000);
    u.map = {map("lab01", "temperature")};
    return u;
}

JsonValue parse(const std::string& text) {
    std::string error;
    auto v = json_parse(text, error);
    BOOST_TEST_REQUIRE(v.has_value(), "not JSON: " << text << " (" << error << ")");
    return *v;
}

WallTime at(std::int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

}  // namespace

BOOST_AUTO_TEST_CASE(numeric_text_becomes_a_json_number) {
    BOOST_TEST(reading_json_value(reading("a", "23.4")) == "23.4");
    BOOST_TEST(reading_json_value(reading("a", " 23 \n")) == "23");
    BOOST_TEST(reading_json_value(reading("a", "-1.5e3")) == "-1.5e3");
    BOOST_TEST(reading_json_value(reading("a", "true")) == "true");
    BOOST_TEST(reading_json_value(reading("a", "on")) == "\"on\"");
    BOOST_TEST(reading_json_value(reading("a", "23.4.1")) == "\"23.4.1\"");
    BOOST_TEST(reading_json_value(reading("a", "{\"t\":1}")) == "{\"t\":1}");
    Message binary = reading("a", std::string("\x01\xff", 2));
    binary.utf8 = false;
    BOOST_TEST(reading_json_value(binary) == "\"Af8=\"");
}

BOOST_AUTO_TEST_CASE(huawei_property_report_has_services_and_event_time) {
    HuaweiUplinkCodec codec(huawei(), "gw-01");
    auto r = codec.encode(reading("lab01", "23.4"), 7);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->topic == "$oc/devices/gw_demo/sys/properties/report");
    // event_time to the millisecond, the second form iot_06_v5_3010 documents.
    BOOST_TEST(
        r->payload ==
        R"({"services":[{"service_id":"Temperature","properties":{"temperature":23.4},"event_time":"2024-07-26T03:42:19.000Z"}]})");
    // An unmapped sensor: its name as service, property "value".
    Message other = reading("other", "on");
    other.timestamp_ms = kAt + 123;
    auto u = codec.encode(other, 8);
    BOOST_TEST(
        u->payload ==
        R"({"services":[{"service_id":"other","properties":{"value":"on"},"event_time":"2024-07-26T03:42:19.123Z"}]})");
    BOOST_TEST(codec.batch_key(reading("lab01", "1")).empty());
}

BOOST_AUTO_TEST_CASE(huawei_sub_devices_go_in_batches_through_the_gateway) {
    HuaweiUplinkCodec codec(huawei(), "gw-01");
    BOOST_TEST(codec.max_batch("sub_devices") == 100u);
    const Message a = reading("sub1", "1"), b = reading("sub2", "2");
    BOOST_TEST(codec.batch_key(a) == codec.batch_key(b));
    BOOST_TEST(!codec.batch_key(a).empty());
    const UplinkItem items[] = {{1, &a}, {2, &b}};
    auto r = codec.encode_batch(items);
    BOOST_TEST(r->topic == "$oc/devices/gw_demo/sys/gateway/sub_devices/properties/report");
    const JsonValue doc = parse(r->payload);
    const auto& devices = doc.find("devices")->as_array();
    BOOST_TEST_REQUIRE(devices.size() == 2u);
    BOOST_TEST(devices[0].find("device_id")->as_string() == "child-1");
    BOOST_TEST(devices[1].find("device_id")->as_string() == "child-2");
    const JsonValue& service = devices[1].find("services")->as_array().at(0);
    BOOST_TEST(service.find("service_id")->as_string() == "analog");
    BOOST_TEST(service.find("properties")->find("value")->as_number().text == "2");
    // One alone still goes through the gateway topic.
    BOOST_TEST(codec.encode(a, 3)->topic == "$oc/devices/gw_demo/sys/gateway/sub_devices/properties/report");
}

BOOST_AUTO_TEST_CASE(huawei_legacy_topics) {
    UpstreamConfig u = huawei();
    u.huawei.legacy_topics = true;
    HuaweiUplinkCodec codec(u, "gw-01");
    auto r = codec.encode(reading("lab01", "75"), 1);
    BOOST_TEST(r->topic == "/huawei/v1/devices/gw_demo/data/json");
    BOOST_TEST(
        r->payload ==
        R"({"msgType":"deviceReq","data":[{"serviceId":"Temperature","serviceData":{"temperature":75},"eventTime":"20240726T034219Z"}]})");
    HuaweiAgent agent(u, "lab");
    BOOST_TEST(agent.subscriptions() == std::vector<std::string>{"/huawei/v1/devices/gw_demo/command/json"});
    PlatformAgent::Output out;
    agent.on_inbound(
        {"/huawei/v1/devices/gw_demo/command/json",
         R"({"msgType":"cloudReq","serviceId":"Temperature","mid":2016,"cmd":"calibrate","paras":{"value":4}})"},
        at(kAt), out);
    BOOST_TEST_REQUIRE(out.commands.size() == 1u);
    BOOST_TEST(out.commands[0].command.name == "calibrate");
    BOOST_TEST(out.commands[0].command.params == R"({"value":4})");
    agent.on_command_done(out.commands[0].ticket, CommandOutcome{CommandOutcome::Status::ok, R"({"done":true})", {}},
                          at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(out.publishes[0].topic == "/huawei/v1/devices/gw_demo/data/json");
    BOOST_TEST(out.publishes[0].payload == R"({"msgType":"deviceRsp","mid":2016,"errcode":0,"body":{"done":true}})");
}

BOOST_AUTO_TEST_CASE(huawei_command_round_trip) {
    HuaweiAgent agent(huawei(), "lab");
    const auto subs = agent.subscriptions();
    BOOST_TEST(subs.at(0) == "$oc/devices/gw_demo/sys/commands/#");
    PlatformAgent::Output out;
    agent.on_inbound({"$oc/devices/gw_demo/sys/commands/request_id=abc-1",
                      R"({"service_id":"Temperature","command_name":"calibrate","paras":{"offset":0.5}})"},
                     at(kAt), out);
    BOOST_TEST_REQUIRE(out.commands.size() == 1u);
    const Command& c = out.commands[0].command;
    BOOST_TEST(c.instance == "lab");
    BOOST_TEST(c.sensor == "lab01");
    BOOST_TEST(c.name == "calibrate");
    BOOST_TEST(c.params == R"({"offset":0.5})");
    BOOST_TEST(out.publishes.empty());
    agent.on_command_done(out.commands[0].ticket, CommandOutcome{CommandOutcome::Status::ok, R"({"offset":0.5})", {}},
                          at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(out.publishes[0].topic == "$oc/devices/gw_demo/sys/commands/response/request_id=abc-1");
    BOOST_TEST(out.publishes[0].payload == R"({"result_code":0,"response_name":"calibrate","paras":{"offset":0.5}})");
}

BOOST_AUTO_TEST_CASE(huawei_bad_commands_get_failure_responses) {
    HuaweiAgent agent(huawei(), "");
    PlatformAgent::Output out;
    agent.on_inbound({"$oc/devices/gw_demo/sys/commands/request_id=1", "not json"}, at(kAt), out);
    agent.on_inbound({"$oc/devices/gw_demo/sys/commands/request_id=2", R"({"service_id":"Nope","command_name":"x"})"},
                     at(kAt), out);
    agent.on_inbound({"$oc/devices/gw_demo/sys/commands/request_id=3",
                      R"({"service_id":"Temperature","command_name":"x","paras":[1]})"},
                     at(kAt), out);
    // Mapped, but no reading seen and no instance set: the plugin is unknown.
    agent.on_inbound(
        {"$oc/devices/gw_demo/sys/commands/request_id=4", R"({"service_id":"Humidity","command_name":"x"})"}, at(kAt),
        out);
    BOOST_TEST(out.commands.empty());
    BOOST_TEST_REQUIRE(out.publishes.size() == 4u);
    for (int i = 0; i < 4; ++i) {
        BOOST_TEST(out.publishes[i].topic ==
                   "$oc/devices/gw_demo/sys/commands/response/request_id=" + std::to_string(i + 1));
        const JsonValue doc = parse(out.publishes[i].payload);
        BOOST_TEST(doc.find("result_code")->as_number().text == "1");
        BOOST_TEST(!doc.find("paras")->find("error")->as_string().empty());
    }
    BOOST_TEST(parse(out.publishes[1].payload).find("paras")->find("error")->as_string() ==
               "no sensor is mapped to service 'Nope'");
}

BOOST_AUTO_TEST_CASE(huawei_property_set_and_get) {
    HuaweiAgent agent(huawei(), "lab");
    PlatformAgent::Output out;
    agent.on_inbound(
        {"$oc/devices/gw_demo/sys/properties/set/request_id=s1",
         R"({"services":[{"service_id":"Temperature","properties":{"temperature":21.5}},{"service_id":"Humidity","properties":{"value":40}}]})"},
        at(kAt), out);
    BOOST_TEST_REQUIRE(out.commands.size() == 2u);
    BOOST_TEST(out.commands[0].command.name == "set");
    BOOST_TEST(out.commands[0].command.params == R"({"value":21.5})");
    BOOST_TEST(out.commands[1].command.sensor == "lab02");
    agent.on_command_done(out.commands[0].ticket, CommandOutcome{}, at(kAt), out);
    BOOST_TEST(out.publishes.empty());  // one answer, after both
    agent.on_command_done(out.commands[1].ticket,
                          CommandOutcome::failure(CommandOutcome::Status::invalid, "out of range"), at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(out.publishes[0].topic == "$oc/devices/gw_demo/sys/properties/set/response/request_id=s1");
    BOOST_TEST(out.publishes[0].payload == R"({"result_code":1,"result_desc":"out of range"})");

    agent.on_delivered(1, shared(reading("lab01", "23.4")), at(kAt), out);
    out.publishes.clear();
    agent.on_inbound({"$oc/devices/gw_demo/sys/properties/get/request_id=g1", R"({"service_id":"Temperature"})"},
                     at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(out.publishes[0].topic == "$oc/devices/gw_demo/sys/properties/get/response/request_id=g1");
    BOOST_TEST(
        out.publishes[0].payload ==
        R"({"services":[{"service_id":"Temperature","properties":{"temperature":23.4},"event_time":"20240726T034219Z"}]})");
}

BOOST_AUTO_TEST_CASE(onenet_property_post_and_reply) {
    OnenetUplinkCodec codec(onenet(), "gw-01");
    auto r = codec.encode(reading("lab01", "23.6"), 42);
    BOOST_TEST(r->topic == "$sys/123123/mydev/thing/property/post");
    BOOST_TEST(r->payload == R"({"id":"42","version":"1.0","params":{"temp":{"value":23.6,"time":1721965339000}}})");

    OnenetAgent agent(onenet(), "lab");
    BOOST_TEST(agent.subscriptions().at(0) == "$sys/123123/mydev/thing/property/post/reply");
    PlatformAgent::Output out;
    agent.on_delivered(42, shared(reading("lab01", "23.6")), at(kAt), out);
    agent.on_delivered(43, shared(reading("lab02", "50")), at(kAt), out);
    BOOST_TEST(agent.awaiting_reply() == 2u);
    agent.on_inbound({"$sys/123123/mydev/thing/property/post/reply", R"({"id":"42","code":200,"msg":"success"})"},
                     at(kAt), out);
    BOOST_TEST(agent.confirmed() == 1u);
    BOOST_TEST(out.refused.empty());
    agent.on_inbound(
        {"$sys/123123/mydev/thing/property/post/reply", R"({"id":"43","code":2404,"msg":"identifier not exist"})"},
        at(kAt), out);
    BOOST_TEST_REQUIRE(out.refused.size() == 1u);
    BOOST_TEST(out.refused[0].message->sensor == "lab02");
    BOOST_TEST(out.refused[0].reason == "OneNET refused the property post: code 2404 (identifier not exist)");
    BOOST_TEST(agent.awaiting_reply() == 0u);
    // A reply to nothing of ours is ignored.
    agent.on_inbound({"$sys/123123/mydev/thing/property/post/reply", R"({"id":"999","code":500})"}, at(kAt), out);
    BOOST_TEST(out.refused.size() == 1u);
}

BOOST_AUTO_TEST_CASE(onenet_set_get_and_invoke_are_answered) {
    OnenetAgent agent(onenet(), "lab");
    PlatformAgent::Output out;
    agent.on_inbound({"$sys/123123/mydev/thing/property/set", R"({"id":"7","version":"1.0","params":{"temp":21}})"},
                     at(kAt), out);
    BOOST_TEST_REQUIRE(out.commands.size() == 1u);
    BOOST_TEST(out.commands[0].command.params == R"({"value":21})");
    agent.on_command_done(out.commands[0].ticket, CommandOutcome{CommandOutcome::Status::ok, R"({"value":21})", {}},
                          at(kAt), out);
    BOOST_TEST(out.publishes.at(0).topic == "$sys/123123/mydev/thing/property/set_reply");
    BOOST_TEST(out.publishes.at(0).payload == R"({"id":"7","code":200,"msg":"success"})");

    agent.on_inbound(
        {"$sys/123123/mydev/thing/service/reboot/invoke", R"({"id":"8","version":"1.0","params":{"delay":5}})"},
        at(kAt), out);
    BOOST_TEST_REQUIRE(out.commands.size() == 2u);
    BOOST_TEST(out.commands[1].command.name == "reboot");
    agent.on_command_done(out.commands[1].ticket, CommandOutcome{CommandOutcome::Status::ok, R"({"ok":1})", {}},
                          at(kAt), out);
    BOOST_TEST(out.publishes.at(1).topic == "$sys/123123/mydev/thing/service/reboot/invoke_reply");
    BOOST_TEST(out.publishes.at(1).payload == R"({"id":"8","code":200,"msg":"success","data":{"ok":1}})");

    agent.on_inbound({"$sys/123123/mydev/thing/service/selfdestruct/invoke", R"({"id":"9","params":{}})"}, at(kAt),
                     out);
    BOOST_TEST(out.publishes.at(2).payload ==
               R"({"id":"9","code":100,"msg":"no sensor lists service 'selfdestruct' in its commands"})");
    agent.on_inbound({"$sys/123123/mydev/thing/property/set", "{oops"}, at(kAt), out);
    BOOST_TEST(out.publishes.at(3).payload ==
               R"({"id":"","code":100,"msg":"a property set needs an id and a params object"})");

    agent.on_delivered(5, shared(reading("lab01", "23.6")), at(kAt), out);
    agent.on_inbound({"$sys/123123/mydev/thing/property/get", R"({"id":"10","params":["temp"]})"}, at(kAt), out);
    BOOST_TEST(out.publishes.at(4).topic == "$sys/123123/mydev/thing/property/get_reply");
    BOOST_TEST(out.publishes.at(4).payload == R"({"id":"10","code":200,"msg":"success","data":{"temp":23.6}})");
}

BOOST_AUTO_TEST_CASE(aws_telemetry_keeps_metadata_within_limits) {
    AwsUplinkCodec codec(aws(), "gw-01", {{"lab", "simulated"}});
    Message m = reading("lab01", "23.4");
    m.properties = {{"Hardware-Revision", "Xiaomi-rev1.17c"}, {"big", std::string(9000, 'x')}, {"after", "y"}};
    auto r = codec.encode(m, 1);
    BOOST_TEST(r->topic == "dt/gw-01/lab01");
    BOOST_TEST(r->payload_bytes() == "23.4");
    BOOST_TEST(*r->content_type_text() == "text/plain");
    BOOST_TEST(*r->payload_format == 1);
    BOOST_TEST_REQUIRE(r->properties.size() == 1u);  // the 9000-byte one would exceed 8 KiB
    BOOST_TEST(codec.max_message_expiry_s() == 604800u);
    BOOST_TEST(!r->problem);
    UpstreamConfig deep = aws();
    deep.topic = "a/b/c/d/e/f/g/{sensor}";
    Message slashed = reading("x/y", "1");
    BOOST_TEST(AwsUplinkCodec(deep, "gw-01", {}).encode(slashed, 1)->problem.has_value());
}

BOOST_AUTO_TEST_CASE(aws_shadow_get_delta_report_and_conflict) {
    AwsAgent agent(aws(), "lab");
    BOOST_TEST(agent.subscriptions().at(0) == "$aws/things/gw-01/shadow/get/accepted");
    PlatformAgent::Output out;
    agent.on_online(at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(out.publishes[0].topic == "$aws/things/gw-01/shadow/get");
    BOOST_TEST(parse(out.publishes[0].payload).find("clientToken")->as_string().size() <= kAwsMaxClientTokenBytes);
    out.publishes.clear();

    // The shadow has a desired temperature that differs from the reported one.
    agent.on_inbound(
        {"$aws/things/gw-01/shadow/get/accepted",
         R"({"state":{"desired":{"temperature":21.5},"delta":{"temperature":21.5,"fan":"on"}},"version":10})"},
        at(kAt), out);
    BOOST_TEST(agent.shadow_version().value_or(-1) == 10);
    BOOST_TEST_REQUIRE(out.commands.size() == 1u);  // "fan" is mapped to nothing: logged, left in the delta
    BOOST_TEST(out.commands[0].command.name == "set");
    BOOST_TEST(out.commands[0].command.params == R"({"value":21.5})");
    BOOST_TEST(out.log.size() == 1u);
    agent.on_command_done(out.commands[0].ticket, CommandOutcome{CommandOutcome::Status::ok, R"({"value":21.5})", {}},
                          at(kAt), out);
    // Reported at once, with the version it saw.
    BOOST_TEST_REQUIRE(agent.next_tick().has_value());
    agent.on_tick(at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(out.publishes[0].topic == "$aws/things/gw-01/shadow/update");
    JsonValue update = parse(out.publishes[0].payload);
    BOOST_TEST(update.find("state")->find("reported")->find("temperature")->as_number().text == "21.5");
    BOOST_TEST(update.find("version")->as_number().text == "10");
    const std::string token = update.find("clientToken")->as_string();

    // Someone else updated the shadow: 409, get again, then retry on the new version.
    out.publishes.clear();
    agent.on_inbound({"$aws/things/gw-01/shadow/update/rejected",
                      R"({"code":409,"message":"Version conflict","clientToken":")" + token + "\"}"},
                     at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(out.publishes[0].topic == "$aws/things/gw-01/shadow/get");
    agent.on_inbound(
        {"$aws/things/gw-01/shadow/get/accepted", R"({"state":{"reported":{"temperature":21.5}},"version":12})"},
        at(kAt), out);
    agent.on_tick(at(kAt + 1), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 2u);
    update = parse(out.publishes[1].payload);
    BOOST_TEST(update.find("version")->as_number().text == "12");
    agent.on_inbound({"$aws/things/gw-01/shadow/update/accepted",
                      R"({"version":13,"clientToken":")" + update.find("clientToken")->as_string() + "\"}"},
                     at(kAt), out);
    BOOST_TEST(agent.shadow_version().value_or(-1) == 13);

    // Readings are reported at most once per shadow_interval.
    out.publishes.clear();
    agent.on_delivered(1, shared(reading("lab01", "22.0")), at(kAt + 2000), out);
    agent.on_tick(at(kAt + 2000), out);
    BOOST_TEST(out.publishes.empty());
    BOOST_TEST_REQUIRE(agent.next_tick().has_value());
    agent.on_tick(*agent.next_tick(), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(parse(out.publishes[0].payload).find("state")->find("reported")->find("temperature")->as_number().text ==
               "22.0");
    // Other refusals are logged, not retried.
    const std::string t2 = parse(out.publishes[0].payload).find("clientToken")->as_string();
    out.publishes.clear();
    out.log.clear();
    agent.on_inbound({"$aws/things/gw-01/shadow/update/rejected",
                      R"({"code":400,"message":"Invalid JSON","clientToken":")" + t2 + "\"}"},
                     at(kAt), out);
    BOOST_TEST(out.publishes.empty());
    BOOST_TEST(out.log.at(0).second.find("code 400 (Invalid JSON)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(aws_request_response_echoes_correlation_data) {
    AwsAgent agent(aws(), "lab");
    PlatformAgent::Output out;
    agent.on_inbound({"cmd/gw-01/request", R"({"sensor":"lab01","command":"set","params":{"value":19}})",
                      std::string("reply/app-7"), std::string("\x01\x02corr", 6)},
                     at(kAt), out);
    BOOST_TEST_REQUIRE(out.commands.size() == 1u);
    agent.on_command_done(out.commands[0].ticket, CommandOutcome{CommandOutcome::Status::ok, R"({"value":19.0})", {}},
                          at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(out.publishes[0].topic == "reply/app-7");
    BOOST_TEST(*out.publishes[0].correlation_data == std::string("\x01\x02corr", 6));
    BOOST_TEST(out.publishes[0].payload == R"({"status":"ok","result":{"value":19.0}})");

    agent.on_inbound({"cmd/gw-01/request", "[1,2]", std::string("reply/app-7"), std::string("c2")}, at(kAt), out);
    BOOST_TEST(out.publishes.at(1).payload ==
               R"({"status":"error","code":"invalid","error":"the command is not a JSON object"})");
    BOOST_TEST(*out.publishes.at(1).correlation_data == "c2");
    // Without a Response Topic there is nowhere to answer: logged.
    out.log.clear();
    agent.on_inbound({"cmd/gw-01/request", R"({"sensor":"lab01","command":"set"})"}, at(kAt), out);
    BOOST_TEST(out.publishes.size() == 2u);
    BOOST_TEST(out.log.size() == 1u);
}

// iot_06_v5_3022 "子设备状态更新": $oc/devices/{gateway}/sys/events/up,
// {"services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status",
//   "event_time":"20151212T121212Z","paras":{"device_statuses":[{"device_id":..,"status":"ONLINE"}]}}]};
// the root holds only "services", as Huawei's C SDK sends it
// (iota_payload.c IOTA_UpdateSubDeviceStatusPayload; object_device_id is
// "not in use" per the doc).
BOOST_AUTO_TEST_CASE(huawei_sub_devices_are_reported_online_and_offline) {
    UpstreamConfig u = huawei();
    u.map[2].instance = "bus-a";  // sub1 -> child-1
    u.map[3].instance = "bus-b";  // sub2 -> child-2
    HuaweiAgent agent(u, "");
    const auto subs = agent.subscriptions();
    BOOST_TEST((std::find(subs.begin(), subs.end(), "$oc/devices/gw_demo/sys/events/down") != subs.end()));
    PlatformAgent::Output out;
    agent.on_sensors({"bus-a", "bus-b", "lab"}, at(kAt), out);
    BOOST_TEST(out.publishes.empty());  // not connected yet
    agent.on_online(at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(out.publishes[0].topic == "$oc/devices/gw_demo/sys/events/up");
    BOOST_TEST(
        out.publishes[0].payload ==
        R"({"services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status",)"
        R"("event_time":"20240726T034219Z","paras":{"device_statuses":[{"device_id":"child-1","status":"ONLINE"},)"
        R"({"device_id":"child-2","status":"ONLINE"}]}}]})");
    BOOST_TEST(out.publishes[0].rate_cost == 2);  // "1次调用的tps为1*上报子设备的数量"
    // The sensor that owns child-2 stops: OFFLINE for it alone; nothing when nothing changed.
    out.publishes.clear();
    agent.on_sensors({"bus-a", "lab"}, at(kAt + 1000), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(
        out.publishes[0].payload ==
        R"({"services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status",)"
        R"("event_time":"20240726T034220Z","paras":{"device_statuses":[{"device_id":"child-2","status":"OFFLINE"}]}}]})");
    agent.on_sensors({"bus-a", "lab"}, at(kAt + 2000), out);
    BOOST_TEST(out.publishes.size() == 1u);
    // A reconnect reports every child again.
    agent.on_offline();
    agent.on_sensors({"bus-a", "bus-b"}, at(kAt + 3000), out);
    BOOST_TEST(out.publishes.size() == 1u);
    agent.on_online(at(kAt + 4000), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 2u);
    BOOST_TEST(out.publishes[1].payload.find(R"({"device_id":"child-2","status":"ONLINE"})") != std::string::npos);
    // Stopping for good: OFFLINE for every child that was ONLINE; the successor inherits nothing then.
    agent.on_stop(at(kAt + 5000), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 3u);
    BOOST_TEST(out.publishes[2].payload.find(
                   R"([{"device_id":"child-1","status":"OFFLINE"},{"device_id":"child-2","status":"OFFLINE"}])") !=
               std::string::npos);
    BOOST_TEST(agent.online_entities().empty());
}

BOOST_AUTO_TEST_CASE(huawei_sub_device_owner_is_learned_and_children_go_in_batches) {
    UpstreamConfig u = huawei();
    u.map.clear();
    for (int i = 0; i < 250; ++i)
        u.map.push_back(map("s" + std::to_string(i), "value", "analog", "c" + std::to_string(i)));
    u.max_publish_rate = 50;
    HuaweiAgent agent(u, "");
    PlatformAgent::Output out;
    agent.on_sensors({"bus"}, at(kAt), out);
    agent.on_online(at(kAt), out);
    // At most what a second's allowance takes per event: 50, 50, 50, 50, 50.
    BOOST_TEST_REQUIRE(out.publishes.size() == 5u);
    for (const auto& p : out.publishes) {
        BOOST_TEST(p.rate_cost == 50);
        BOOST_TEST(parse(p.payload)
                       .find("services")
                       ->as_array()
                       .at(0)
                       .find("paras")
                       ->find("device_statuses")
                       ->as_array()
                       .size() == 50u);
    }
    // Without a rate, the platform's 100 per event ("列表大小1~100").
    u.max_publish_rate = 0;
    HuaweiAgent unpaced(u, "");
    out.publishes.clear();
    unpaced.on_sensors({"bus"}, at(kAt), out);
    unpaced.on_online(at(kAt), out);
    BOOST_TEST(out.publishes.size() == 3u);
    BOOST_TEST(out.publishes[0].rate_cost == 100);
    BOOST_TEST(out.publishes[2].rate_cost == 50);
    // No instance and several sensors: online while any runs, until a reading
    // says which sensor owns it; then that one decides.
    out.publishes.clear();
    unpaced.on_delivered(1, shared(reading("s7", "1", "bus")), at(kAt), out);
    BOOST_TEST(out.publishes.empty());
    unpaced.on_sensors({"other"}, at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(out.publishes[0].payload.find(R"("device_statuses":[{"device_id":"c7","status":"OFFLINE"}])") !=
               std::string::npos);
    // A reload's successor says OFFLINE for children it no longer maps.
    UpstreamConfig fewer = huawei();
    HuaweiAgent successor(fewer, "lab");
    successor.inherit_online_entities({"c1", "child-1"});
    out.publishes.clear();
    successor.on_sensors({"lab"}, at(kAt), out);
    successor.on_online(at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(
        out.publishes[0].payload.find(
            R"([{"device_id":"child-1","status":"ONLINE"},{"device_id":"child-2","status":"ONLINE"},{"device_id":"c1","status":"OFFLINE"}])") !=
        std::string::npos);
}

// The answer, as iot_06_v5_30233 shows it ("sub_device_update_status_response").
BOOST_AUTO_TEST_CASE(huawei_status_answer_names_the_failed_devices) {
    HuaweiAgent agent(huawei(), "lab");
    PlatformAgent::Output out;
    agent.on_inbound(
        {"$oc/devices/gw_demo/sys/events/down",
         R"({"object_device_id":"gw_demo","services":[{"service_id":"$sub_device_manager",)"
         R"("event_type":"sub_device_update_status_response","event_time":"20151212T121212Z",)"
         R"("event_id":"40cc9ab1-3579-488c-95c6-c18941c99eb4","paras":{"successful_devices":)"
         R"([{"device_id":"c6b39067b0325db34663d3ef421a42f6_subdevice11","status":"ONLINE"}],)"
         R"("failed_devices":[{"device_id":"child-2","error_code":"IOTDA.014016","error_msg":"device not exist"}]}}]})"},
        at(kAt), out);
    BOOST_TEST(out.publishes.empty());
    BOOST_TEST_REQUIRE(out.log.size() == 1u);
    BOOST_TEST((out.log[0].first == LogLevel::warning));
    BOOST_TEST(out.log[0].second ==
               "the platform did not update the status of sub-device 'child-2': IOTDA.014016 device not exist");
    // Other events and malformed ones are not ours to answer.
    out.log.clear();
    agent.on_inbound({"$oc/devices/gw_demo/sys/events/down", "garbage"}, at(kAt), out);
    agent.on_inbound({"$oc/devices/gw_demo/sys/events/down",
                      R"({"services":[{"service_id":"$ota","event_type":"version_query","paras":{}}]})"},
                     at(kAt), out);
    BOOST_TEST(out.log.empty());
    BOOST_TEST(out.publishes.empty());
}

// The property get response has only "services" (iot_06_v5_3011); Huawei's
// Java SDK answers what it cannot with an empty list (AbstractDevice.java).
BOOST_AUTO_TEST_CASE(huawei_malformed_property_get_gets_an_empty_answer) {
    HuaweiAgent agent(huawei(), "lab");
    PlatformAgent::Output out;
    agent.on_inbound({"$oc/devices/gw_demo/sys/properties/get/request_id=g9", "[oops"}, at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    BOOST_TEST(out.publishes[0].topic == "$oc/devices/gw_demo/sys/properties/get/response/request_id=g9");
    BOOST_TEST(out.publishes[0].payload == R"({"services":[]})");
    BOOST_TEST(out.log.size() == 1u);
}

// Dead letters as device messages (iot_06_v5_3016: {"object_device_id","name","id","content"}).
BOOST_AUTO_TEST_CASE(huawei_dead_letters_are_device_messages) {
    UpstreamConfig u = huawei();
    u.dead_letter_topic = "$oc/devices/gw_demo/sys/messages/up";
    HuaweiUplinkCodec codec(u, "gw-01");
    Message dead = reading("sub1", std::string(70000, 'x'));
    dead.kind = Message::Kind::dead_letter;
    dead.error = "larger than the platform's limit of 65536 bytes";
    dead.payload.clear();
    dead.properties = {{"payload_size", "70000"}};
    auto r = codec.encode(dead, 77);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->topic == "$oc/devices/gw_demo/sys/messages/up");
    BOOST_TEST(
        r->payload ==
        R"({"object_device_id":"child-1","name":"gatewayd_dead_letter","id":"77","content":{"gateway":"gw-01",)"
        R"("sensor":"sub1","ts":1721965339000,"content_type":"text/plain","properties":{"payload_size":"70000"},)"
        R"("error":"larger than the platform's limit of 65536 bytes","payload":""}})");
    BOOST_TEST(r->max_payload.value_or(0) == kHuaweiMaxPublishBytes);
    // Without a dead-letter topic there is nowhere to send it.
    BOOST_TEST(!HuaweiUplinkCodec(huawei(), "gw-01").encode(dead, 78).has_value());
}

namespace {

// The agent after a get that found the shadow at `version` with nothing desired.
struct ShadowAtVersion {
    explicit ShadowAtVersion(UpstreamConfig u = aws(), std::int64_t version = 4)
        : agent(std::move(u), "lab", [] { return 0.5; }) {
        agent.on_online(at(kAt), out);
        agent.on_inbound({"$aws/things/gw-01/shadow/get/accepted",
                          R"({"state":{"reported":{}},"version":)" + std::to_string(version) + "}"},
                         at(kAt), out);
        out.publishes.clear();
    }
    // The update the agent sends when its next tick comes; nullopt if none.
    std::optional<JsonValue> tick(WallTime now) {
        const size_t before = out.publishes.size();
        agent.on_tick(now, out);
        if (out.publishes.size() == before) return std::nullopt;
        return parse(out.publishes.back().payload);
    }
    void answer(const JsonValue& update, const std::string& topic_suffix, const std::string& body,
                WallTime now = at(kAt)) {
        agent.on_inbound({"$aws/things/gw-01/shadow/update/" + topic_suffix,
                          "{" + body + R"(,"clientToken":")" + update.find("clientToken")->as_string() + "\"}"},
                         now, out);
    }
    AwsAgent agent;
    PlatformAgent::Output out;
};

std::string reported(const JsonValue& update, const std::string& field) {
    const JsonValue* v = update.find("state")->find("reported")->find(field);
    return v ? v->dump() : "(absent)";
}

}  // namespace

// 429 ("more than 10 in-flight requests"), 500 ("Internal service failure")
// and 503 ("Service unavailable", iot-errors "Device shadow error codes"):
// the values are retried after a backoff with full jitter, newer ones win.
BOOST_AUTO_TEST_CASE(aws_shadow_retries_throttled_and_failed_updates_without_losing_values) {
    ShadowAtVersion s;
    s.agent.on_delivered(1, shared(reading("lab01", "21.5")), at(kAt), s.out);
    auto first = s.tick(at(kAt));
    BOOST_TEST_REQUIRE(first.has_value());
    BOOST_TEST(reported(*first, "temperature") == "21.5");
    s.answer(*first, "rejected", R"("code":429,"message":"Too Many Requests")");
    // Retried after the jittered delay (0.5 x 1 s), not before.
    BOOST_TEST_REQUIRE(s.agent.next_tick().has_value());
    BOOST_TEST((*s.agent.next_tick() == at(kAt + 500)));
    BOOST_TEST(!s.tick(at(kAt + 499)));
    auto second = s.tick(at(kAt + 500));
    BOOST_TEST_REQUIRE(second.has_value());
    BOOST_TEST(reported(*second, "temperature") == "21.5");
    s.answer(*second, "rejected", R"("code":500,"message":"Internal service failure")", at(kAt + 500));
    // Doubling: 0.5 x 2 s. A newer value comes meanwhile and is the one retried.
    s.agent.on_delivered(2, shared(reading("lab01", "22.5")), at(kAt + 600), s.out);
    BOOST_TEST((*s.agent.next_tick() == at(kAt + 1500)));
    auto third = s.tick(at(kAt + 1500));
    BOOST_TEST_REQUIRE(third.has_value());
    BOOST_TEST(reported(*third, "temperature") == "22.5");
    s.answer(*third, "rejected", R"("code":503,"message":"Service unavailable")", at(kAt + 1500));
    auto fourth = s.tick(at(kAt + 1500 + 2000));
    BOOST_TEST_REQUIRE(fourth.has_value());
    s.answer(*fourth, "accepted", R"("version":5)");
    BOOST_TEST(s.agent.shadow_version().value_or(-1) == 5);
    BOOST_TEST(!s.agent.next_tick().has_value());  // nothing left to report
    // An update nobody answers is given up on after 10 s and retried.
    s.agent.on_delivered(3, shared(reading("lab01", "23.5")), at(kAt + 20000), s.out);
    auto fifth = s.tick(at(kAt + 20000));
    BOOST_TEST_REQUIRE(fifth.has_value());
    BOOST_TEST(!s.tick(at(kAt + 29999)));
    BOOST_TEST(!s.tick(at(kAt + 30000)));  // given up; the retry waits its backoff
    auto sixth = s.tick(at(kAt + 30500));
    BOOST_TEST_REQUIRE(sixth.has_value());
    BOOST_TEST(reported(*sixth, "temperature") == "23.5");
}

// 8 KB of desired and reported state per shadow (AWS "diagnosing shadows");
// 413 "The payload exceeds the maximum size allowed".
BOOST_AUTO_TEST_CASE(aws_shadow_updates_stay_under_8kb_and_split_on_413) {
    UpstreamConfig u = aws();
    u.map.clear();
    for (int i = 0; i < 6; ++i) u.map.push_back(map("s" + std::to_string(i), "f" + std::to_string(i)));
    u.map.push_back(map("huge", "huge"));
    ShadowAtVersion s(u);
    for (int i = 0; i < 6; ++i)
        s.agent.on_delivered(i, shared(reading("s" + std::to_string(i), std::string(2000, 'a' + i))), at(kAt), s.out);
    s.agent.on_delivered(9, shared(reading("huge", std::string(9000, 'h'))), at(kAt), s.out);
    auto first = s.tick(at(kAt));
    BOOST_TEST_REQUIRE(first.has_value());
    // The 9000-byte field can never fit: logged, left out.
    BOOST_TEST(reported(*first, "huge") == "(absent)");
    BOOST_TEST(s.out.log.size() == 1u);
    BOOST_TEST(s.out.log[0].second.find("shadow field 'huge' is 9009 bytes") != std::string::npos, s.out.log[0].second);
    const std::string body = s.out.publishes.back().payload;
    const size_t state = parse(body).find("state")->find("reported")->dump().size();
    BOOST_TEST(state <= kAwsMaxShadowStateBytes);
    BOOST_TEST(reported(*first, "f0") != "(absent)");
    BOOST_TEST(reported(*first, "f4") == "(absent)");  // four of ~2 KB fit, not five
    // One at a time while the version is known.
    BOOST_TEST(!s.tick(at(kAt)));
    s.answer(*first, "accepted", R"("version":5)");
    auto second = s.tick(at(kAt));
    BOOST_TEST_REQUIRE(second.has_value());
    BOOST_TEST(reported(*second, "f4") != "(absent)");
    BOOST_TEST(reported(*second, "f5") != "(absent)");
    // 413 on two fields: each goes alone; 413 on one alone: logged, not retried.
    s.answer(*second, "rejected", R"("code":413,"message":"The payload exceeds the maximum size allowed")");
    auto third = s.tick(at(kAt));
    BOOST_TEST_REQUIRE(third.has_value());
    BOOST_TEST(reported(*third, "f4") != "(absent)");
    BOOST_TEST(reported(*third, "f5") == "(absent)");
    s.answer(*third, "rejected", R"("code":413,"message":"The payload exceeds the maximum size allowed")");
    BOOST_TEST(s.out.log.back().second.find("refused field 'f4' alone as too large (413)") != std::string::npos);
    auto fourth = s.tick(at(kAt));
    BOOST_TEST_REQUIRE(fourth.has_value());
    BOOST_TEST(reported(*fourth, "f5") != "(absent)");
    s.answer(*fourth, "accepted", R"("version":6)");
    BOOST_TEST(!s.agent.next_tick().has_value());
}

// A delta clears only when reported equals desired; the plugin's 30.0 for a
// desired 30 is reported as 30. (AWS's own Greengrass shadow manager compares
// numbers by value, JsonUtil.calculateDelta; the cloud's rule is undocumented.)
BOOST_AUTO_TEST_CASE(aws_shadow_reports_the_desired_number_as_it_was_written) {
    AwsAgent agent(aws(), "lab", [] { return 0.5; });
    PlatformAgent::Output out;
    agent.on_online(at(kAt), out);
    agent.on_inbound({"$aws/things/gw-01/shadow/get/accepted",
                      R"({"state":{"desired":{"temperature":30},"delta":{"temperature":30}},"version":3})"},
                     at(kAt), out);
    BOOST_TEST_REQUIRE(out.commands.size() == 1u);
    agent.on_command_done(out.commands[0].ticket, CommandOutcome{CommandOutcome::Status::ok, R"({"value":30.0})", {}},
                          at(kAt), out);
    out.publishes.clear();
    agent.on_tick(at(kAt), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 1u);
    JsonValue update = parse(out.publishes[0].payload);
    BOOST_TEST(reported(update, "temperature") == "30");
    agent.on_inbound({"$aws/things/gw-01/shadow/update/accepted",
                      R"({"version":4,"clientToken":")" + update.find("clientToken")->as_string() + "\"}"},
                     at(kAt), out);
    // Telemetry of the same number is no change; another number is.
    agent.on_delivered(1, shared(reading("lab01", "30.00")), at(kAt + 20000), out);
    BOOST_TEST(!agent.next_tick().has_value());
    agent.on_delivered(2, shared(reading("lab01", "30.5")), at(kAt + 20000), out);
    agent.on_tick(at(kAt + 20000), out);
    BOOST_TEST_REQUIRE(out.publishes.size() == 2u);
    BOOST_TEST(reported(parse(out.publishes[1].payload), "temperature") == "30.5");
    BOOST_TEST(agent.inbound_counts_toward_rate());
}

namespace {
template <typename Config>
Config batched(Config u, size_t max_readings = 100) {
    u.batch.max_readings = max_readings;
    return u;
}
}  // namespace

BOOST_AUTO_TEST_CASE(huawei_batch_reports_several_services_of_the_gateway_in_one_message) {
    HuaweiUplinkCodec codec(batched(huawei()), "gw-01");
    const Message a = reading("lab01", "23.4"), b = reading("lab02", "51"), c = reading("lab01", "23.5");
    const Message child = reading("sub1", "1");
    BOOST_TEST(codec.batch_key(a) == codec.batch_key(b));
    BOOST_TEST(codec.batch_key(a) != codec.batch_key(child));  // children keep their gateway report
    BOOST_TEST(codec.max_batch(codec.batch_key(a)) == 100u);
    BOOST_TEST(HuaweiUplinkCodec(batched(huawei(), 500), "gw-01").max_batch(codec.batch_key(child)) == 100u);
    const UplinkItem items[] = {{1, &a}, {2, &b}, {3, &c}};
    auto r = codec.encode_batch(items);
    BOOST_TEST(r->topic == "$oc/devices/gw_demo/sys/properties/report");
    const JsonValue doc = parse(r->payload);
    const auto& services = doc.find("services")->as_array();
    BOOST_TEST_REQUIRE(services.size() == 3u);
    BOOST_TEST(services[0].find("service_id")->as_string() == "Temperature");
    BOOST_TEST(services[1].find("service_id")->as_string() == "Humidity");
    BOOST_TEST(services[2].find("properties")->find("temperature")->as_number().text == "23.5");
    BOOST_TEST(services[2].find("event_time")->as_string() == "2024-07-26T03:42:19.000Z");
    // Without `batch` the gateway's own readings go one per report.
    BOOST_TEST(HuaweiUplinkCodec(huawei(), "gw-01").batch_key(a).empty());
}

BOOST_AUTO_TEST_CASE(onenet_batch_posts_several_identifiers_and_its_reply_settles_them_all) {
    OnenetUplinkCodec codec(batched(onenet()), "gw-01");
    const Message a = reading("lab01", "23.6"), b = reading("lab02", "50"), again = reading("lab01", "23.7");
    BOOST_TEST(!codec.batch_key(a).empty());
    const UplinkItem items[] = {{42, &a}, {43, &b}};
    BOOST_TEST(codec.batch_can_take(std::span(items, 1), b));
    BOOST_TEST(!codec.batch_can_take(items, again));  // params is an object: one value per identifier
    auto r = codec.encode_batch(items);
    BOOST_TEST(r->topic == "$sys/123123/mydev/thing/property/post");
    BOOST_TEST(r->payload == R"({"id":"42","version":"1.0","params":{"temp":{"value":23.6,"time":1721965339000},)"
                             R"("humi":{"value":50,"time":1721965339000}}})");

    OnenetAgent agent(batched(onenet()), "lab");
    PlatformAgent::Output out;
    agent.on_delivered(42, shared(a), at(kAt), out);  // both under the post's id
    agent.on_delivered(42, shared(b), at(kAt), out);
    BOOST_TEST(agent.awaiting_reply() == 1u);
    agent.on_inbound({"$sys/123123/mydev/thing/property/post/reply", R"({"id":"42","code":200,"msg":"success"})"},
                     at(kAt), out);
    BOOST_TEST(agent.confirmed() == 2u);
    agent.on_delivered(44, shared(a), at(kAt), out);
    agent.on_delivered(44, shared(b), at(kAt), out);
    agent.on_inbound(
        {"$sys/123123/mydev/thing/property/post/reply", R"({"id":"44","code":2404,"msg":"identifier not exist"})"},
        at(kAt), out);
    BOOST_TEST_REQUIRE(out.refused.size() == 2u);  // the whole post goes to the dead letters
    BOOST_TEST(out.refused[0].message->sensor == "lab01");
    BOOST_TEST(out.refused[1].message->sensor == "lab02");
}

BOOST_AUTO_TEST_CASE(aws_batch_is_one_json_array_to_the_topic) {
    AwsUplinkCodec codec(batched(aws()), "gw-01", {{"lab", "simulated"}});
    Message a = reading("lab01", "23.4"), b = reading("lab01", "23.5");
    a.properties = {{"site", "n"}, {"big", std::string(9000, 'x')}};
    b.properties = {{"site", "n"}, {"big", std::string(9000, 'x')}};
    BOOST_TEST(codec.batch_key(a) == "dt/gw-01/lab01");
    const UplinkItem items[] = {{1, &a}, {2, &b}};
    auto r = codec.encode_batch(items);
    BOOST_TEST(r->topic == "dt/gw-01/lab01");
    BOOST_TEST(*r->content_type == "application/json");
    const JsonValue doc = parse(r->payload);
    BOOST_TEST_REQUIRE(doc.as_array().size() == 2u);
    BOOST_TEST(doc.as_array()[1].find("payload")->as_string() == "23.5");
    BOOST_TEST_REQUIRE(r->properties.size() == 1u);  // shared, and within AWS's 8 KiB
    BOOST_TEST(r->properties[0].value == "n");
    BOOST_TEST(AwsUplinkCodec(aws(), "gw-01", {}).batch_key(a).empty());
}
