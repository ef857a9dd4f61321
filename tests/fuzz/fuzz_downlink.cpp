// Any PUBLISH a cloud platform can send on the topics the gateway
// subscribes to: the platform's agent answers, refuses or ignores it, never
// crashes. Built once per platform (GWD_FUZZ_PLATFORM: 1 Huawei, 2 OneNET,
// 3 AWS). Input: the first byte picks a subscription, the bytes up to the
// first newline fill its wildcard, the rest is the payload; then the
// agent's commands are answered, so the response paths run too.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "upstream/profiles/aws_profile.h"
#include "upstream/profiles/huawei_profile.h"
#include "upstream/profiles/onenet_profile.h"

using namespace gwd;

namespace {

PlatformMapping mapping(std::string sensor, std::string property, std::string service = {}, std::string device = {}) {
    PlatformMapping m;
    m.sensor = std::move(sensor);
    m.property = std::move(property);
    m.service_id = std::move(service);
    m.device_id = std::move(device);
    m.commands = {"set", "calibrate"};
    return m;
}

std::unique_ptr<PlatformAgent> make_agent() {
    UpstreamConfig u;
    u.name = "cloud";
#if GWD_FUZZ_PLATFORM == 1
    u.profile = PlatformProfile::huawei;
    u.huawei.device_id = "gw_demo";
    u.map = {mapping("lab01", "temperature", "Temperature"), mapping("sub1", "value", "analog", "child-1")};
    return std::make_unique<HuaweiAgent>(u, "lab");
#elif GWD_FUZZ_PLATFORM == 2
    u.profile = PlatformProfile::onenet;
    u.onenet.product_id = "123123";
    u.onenet.device_name = "mydev";
    u.map = {mapping("lab01", "temp"), mapping("lab02", "humi")};
    return std::make_unique<OnenetAgent>(u, "lab");
#else
    u.profile = PlatformProfile::aws;
    u.aws.thing_name = "gw-01";
    u.aws.shadow = true;
    u.aws.command_topic = "cmd/gw-01/request";
    u.aws.shadow_interval = Duration(10000);
    u.map = {mapping("lab01", "temperature")};
    return std::make_unique<AwsAgent>(u, "lab", [] { return 0.5; });
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    auto agent = make_agent();
    const auto topics = agent->subscriptions();
    if (topics.empty()) return 0;
    const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
    const size_t newline = input.find('\n');
    const std::string fill = newline == std::string::npos ? std::string() : input.substr(0, newline);
    const std::string payload = newline == std::string::npos ? input : input.substr(newline + 1);
    // The subscription with its wildcards filled in, left to right (the
    // fill may itself hold '+' or '#').
    std::string topic;
    for (char c : topics[data[0] % topics.size()]) {
        if (c == '#')
            topic += fill;
        else if (c == '+')
            topic += fill.empty() ? "x" : fill;
        else
            topic += c;
    }

    const WallTime now = WallTime(std::chrono::milliseconds(1764633600000));
    PlatformAgent::Output out;
    agent->on_sensors({"lab"}, now, out);
    agent->on_online(now, out);
    agent->on_inbound(InboundPublish(topic, payload, std::string("reply/topic"), std::string("corr")), now, out);
    for (const auto& dispatch : out.commands) {
        PlatformAgent::Output answers;
        agent->on_command_done(dispatch.ticket, CommandOutcome{CommandOutcome::Status::ok, R"({"ok":true})", {}}, now,
                               answers);
    }
    if (auto tick = agent->next_tick()) agent->on_tick(*tick, out);
    return 0;
}
