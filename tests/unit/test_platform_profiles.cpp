// The cloud profiles' codecs and agents, without a broker: every uplink
// shape and every downlink exchange of platforms.md, as the platform sees it.
#define BOOST_TEST_MODULE platform_profiles
#include <boost/test/unit_test.hpp>

#include "common/json.h"
#include "upstream/profiles/aws_profile.h"
#include "upstream/profiles/huawei_profile.h"
#include "upstream/profiles/onenet_profile.h"
#include "upstream/profiles/reading_value.h"

using namespace gwd;

namespace {

// 2024-07-26T03:42:19Z, the instant of TV-HW-2.
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
    u.profile = "huawei";
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
    u.profile = "onenet";
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
    u.profile = "aws";
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
    BOOST_TEST(r->payload ==
               R"({"services":[{"service_id":"Temperature","properties":{"temperature":23.4},"event_time":"20240726T034219Z"}]})");
    // An unmapped sensor: its name as service, property "value".
    auto u = codec.encode(reading("other", "on"), 8);
    BOOST_TEST(u->payload == R"({"services":[{"service_id":"other","properties":{"value":"on"},"event_time":"20240726T034219Z"}]})");
    BOOST_TEST(codec.batch_key(reading("lab01", "1")).empty());
}

BOOST_AUTO_TEST_CASE(huawei_sub_devices_go_in_batches_through_the_gateway) {
    HuaweiUplinkCodec codec(huawei(), "gw-01");
    BOOST_TEST(codec.max_batch() == 100u);
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
    BOOST_TEST(r->payload ==
               R"({"msgType":"deviceReq","data":[{"serviceId":"Temperature","serviceData":{"temperature":75},"eventTime":"20240726T034219Z"}]})");
    HuaweiAgent agent(u, "lab");
    BOOST_TEST(agent.subscriptions() == std::vector<std::string>{"/huawei/v1/devices/gw_demo/command/json"});
    PlatformAgent::Output out;
    agent.on_inbound({"/huawei/v1/devices/gw_demo/command/json",
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
    agent.on_inbound({"$oc/devices/gw_demo/sys/commands/request_id=4", R"({"service_id":"Humidity","command_name":"x"})"},
                     at(kAt), out);
    BOOST_TEST(out.commands.empty());
    BOOST_TEST_REQUIRE(out.publishes.size() == 4u);
    for (int i = 0; i < 4; ++i) {
        BOOST_TEST(out.publishes[i].topic == "$oc/devices/gw_demo/sys/commands/response/request_id=" + std::to_string(i + 1));
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
    agent.on_inbound({"$oc/devices/gw_demo/sys/properties/set/request_id=s1",
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
    BOOST_TEST(out.publishes[0].payload ==
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
    agent.on_inbound({"$sys/123123/mydev/thing/property/post/reply",
                      R"({"id":"43","code":2404,"msg":"identifier not exist"})"}, at(kAt), out);
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

    agent.on_inbound({"$sys/123123/mydev/thing/service/reboot/invoke", R"({"id":"8","version":"1.0","params":{"delay":5}})"},
                     at(kAt), out);
    BOOST_TEST_REQUIRE(out.commands.size() == 2u);
    BOOST_TEST(out.commands[1].command.name == "reboot");
    agent.on_command_done(out.commands[1].ticket, CommandOutcome{CommandOutcome::Status::ok, R"({"ok":1})", {}},
                          at(kAt), out);
    BOOST_TEST(out.publishes.at(1).topic == "$sys/123123/mydev/thing/service/reboot/invoke_reply");
    BOOST_TEST(out.publishes.at(1).payload == R"({"id":"8","code":200,"msg":"success","data":{"ok":1}})");

    agent.on_inbound({"$sys/123123/mydev/thing/service/selfdestruct/invoke", R"({"id":"9","params":{}})"}, at(kAt), out);
    BOOST_TEST(out.publishes.at(2).payload ==
               R"({"id":"9","code":100,"msg":"no sensor lists service 'selfdestruct' in its commands"})");
    agent.on_inbound({"$sys/123123/mydev/thing/property/set", "{oops"}, at(kAt), out);
    BOOST_TEST(out.publishes.at(3).payload == R"({"id":"","code":100,"msg":"a property set needs an id and a params object"})");

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
    BOOST_TEST(r->payload == "23.4");
    BOOST_TEST(*r->content_type == "text/plain");
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
    agent.on_inbound({"$aws/things/gw-01/shadow/get/accepted",
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
    agent.on_inbound({"$aws/things/gw-01/shadow/get/accepted", R"({"state":{"reported":{"temperature":21.5}},"version":12})"},
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
