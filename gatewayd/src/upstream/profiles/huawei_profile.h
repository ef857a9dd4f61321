// profile = "huawei": Huawei Cloud IoTDA, as its device-side MQTT API reference documents it
// (https://support.huaweicloud.com/intl/en-us/api-iothub/iot_06_v5_3009.html and the topic pages
// beside it, iot_06_v5_3006 to iot_06_v5_3022; the legacy OceanConnect topics: api-IoT iot_06_3008).
//
// Uplink: each reading becomes a property report of its mapped service,
//   $oc/devices/{device_id}/sys/properties/report
//   {"services":[{"service_id":"Temperature","properties":{"value":23.4},"event_time":"20261122T091500Z"}]}
// and readings of sub-devices travel in batches of at most 100 through the
// gateway:
//   $oc/devices/{gateway_id}/sys/gateway/sub_devices/properties/report
//   {"devices":[{"device_id":"...","services":[...]}, ...]}
// With legacy_topics, the OceanConnect form instead:
//   /huawei/v1/devices/{device_id}/data/json  {"msgType":"deviceReq","data":[{"serviceId":...}]}
//
// Property reports are limited to 64 KiB (the upstream's max_payload by
// default): a batch that would be larger is cut where it still fits.
//
// Dead letters go, as the platform's device messages, to
//   $oc/devices/{device_id}/sys/messages/up (the default dead_letter_topic)
//   {"object_device_id":"<child, if mapped>","name":"gatewayd_dead_letter","id":"<outbox id>",
//    "content":{"gateway":..,"sensor":..,"ts":..,"content_type":..,"error":..,"payload":..}}
// (message_envelope.h), which survives MQTT 3.1.1's lack of properties.
//
// Downlink: commands, property set and property get requests, each answered
// on its response topic with the platform's request_id; a command no plugin
// takes, or a malformed one, gets a failure response (result_code 1). The
// property get response has no failure form: a malformed get is answered
// {"services":[]} (as Huawei's Java and Python SDKs do) and logged.
//
// Sub-devices are reported ONLINE and OFFLINE (huawei_sub_devices.h).
#pragma once

#include <map>

#include "config/config.h"
#include "upstream/profiles/command_fanout.h"
#include "upstream/profiles/dead_letter_publish.h"
#include "upstream/profiles/entity_map.h"
#include "upstream/profiles/huawei_sub_devices.h"
#include "upstream/profiles/platform_agent.h"
#include "upstream/profiles/uplink.h"

namespace gwd {

inline constexpr size_t kHuaweiMaxSubDevicesPerReport = 100;

class HuaweiUplinkCodec final : public UplinkCodec {
public:
    HuaweiUplinkCodec(UpstreamConfig upstream, std::string gateway_id);
    std::optional<PublishRequest> encode(const Message& message, std::uint64_t id) const override;
    // Sub-devices' readings always go together (a gateway batch report, up to
    // 100 devices); with `batch`, the gateway's own readings too, as one
    // properties report with several services.
    std::string batch_key(const Message& message) const override;
    size_t max_batch(std::string_view key) const override;
    std::optional<PublishRequest> encode_batch(std::span<const UplinkItem> items) const override;

private:
    std::string service_entry(const Message& message) const;
    std::optional<PublishRequest> dead_letter(const Message& message, std::uint64_t id) const;

    UpstreamConfig upstream_;
    std::string gateway_id_;
    DeadLetterPublisher dead_letters_;
};

// The platform's limit for one PUBLISH (IoTDA's "Limitations",
// https://support.huaweicloud.com/intl/en-us/productdesc-iothub/iot_04_0010.html), which device
// messages (dead letters) may use; property reports stop at max_payload.
inline constexpr std::uint64_t kHuaweiMaxPublishBytes = 1024 * 1024;
inline constexpr std::uint64_t kHuaweiMaxPropertyReportBytes = 64 * 1024;

class HuaweiAgent final : public PlatformAgent {
public:
    HuaweiAgent(UpstreamConfig upstream, std::string only_instance);

    std::vector<std::string> subscriptions() const override;
    void on_online(WallTime now, Output& out) override;
    void on_offline() override;
    void on_sensors(const std::set<std::string>& running, WallTime now, Output& out) override;
    void on_stop(WallTime now, Output& out) override;
    std::vector<std::string> online_entities() const override { return sub_devices_.online(); }
    void inherit_online_entities(std::vector<std::string> entities) override {
        sub_devices_.inherit(std::move(entities));
    }
    void on_delivered(std::uint64_t id, const std::shared_ptr<const Message>& message, WallTime now,
                      Output& out) override;
    void on_inbound(const InboundPublish& publish, WallTime now, Output& out) override;
    void on_command_done(std::uint64_t ticket, const CommandOutcome& outcome, WallTime now, Output& out) override;

private:
    enum class Kind { command, property_set, legacy_command };
    struct Pending {
        Kind kind;
        std::string request_id;  // or the legacy mid
        std::string response_name;
    };

    void command(const std::string& request_id, const std::string& payload, Output& out);
    void property_set(const std::string& request_id, const std::string& payload, Output& out);
    void property_get(const std::string& request_id, const std::string& payload, WallTime now, Output& out);
    void legacy_command(const std::string& payload, Output& out);
    void respond(const Pending& p, const CommandOutcome& outcome, Output& out);
    const PlatformMapping* command_target(const std::optional<std::string>& device, const std::string* service,
                                          const std::string* name) const;
    std::string publish_topic(const std::string& suffix) const;

    UpstreamConfig upstream_;
    EntityMap entities_;
    std::string prefix_;  // $oc/devices/{device_id}/sys/
    CommandFanout<Pending> requests_;
    HuaweiSubDevices sub_devices_;
    std::set<std::string> running_;
};

}  // namespace gwd
