#include "upstream/profiles/profile_factory.h"

#include <algorithm>
#include <map>

#include "upstream/profiles/aws_profile.h"
#include "upstream/profiles/huawei_profile.h"
#include "upstream/profiles/mqtt_profile.h"
#include "upstream/profiles/onenet_profile.h"
#include "upstream/profiles/platform_credentials.h"

namespace gwd {

namespace {

// The [[sensor]] routed to this upstream when there is exactly one: it
// takes the commands for sensors no map entry or reading has claimed yet.
std::string only_instance(const UpstreamConfig& upstream, const Config& config) {
    std::vector<std::string> routed;
    for (const auto& s : config.sensors) {
        if (!s.enabled) continue;
        if (upstream.sensors.empty() ||
            std::find(upstream.sensors.begin(), upstream.sensors.end(), s.name) != upstream.sensors.end())
            routed.push_back(s.name);
    }
    return routed.size() == 1 ? routed.front() : std::string();
}

}  // namespace

Profile make_profile(const UpstreamConfig& upstream, const Config& config) {
    std::map<std::string, std::string> plugins;
    for (const auto& s : config.sensors) plugins[s.name] = s.plugin;
    const std::string& gateway = config.gateway.id;
    Profile p;
    p.credentials = make_credentials(upstream);
    if (upstream.profile == PlatformProfile::huawei) {
        p.codec = std::make_unique<HuaweiUplinkCodec>(upstream, gateway);
        p.agent = std::make_unique<HuaweiAgent>(upstream, only_instance(upstream, config));
    } else if (upstream.profile == PlatformProfile::onenet) {
        p.codec = std::make_unique<OnenetUplinkCodec>(upstream, gateway);
        p.agent = std::make_unique<OnenetAgent>(upstream, only_instance(upstream, config));
    } else if (upstream.profile == PlatformProfile::aws) {
        p.codec = std::make_unique<AwsUplinkCodec>(upstream, gateway, plugins);
        p.agent = std::make_unique<AwsAgent>(upstream, only_instance(upstream, config));
    } else {
        p.codec = std::make_unique<MqttUplinkCodec>(upstream, gateway, plugins);
    }
    return p;
}

}  // namespace gwd
