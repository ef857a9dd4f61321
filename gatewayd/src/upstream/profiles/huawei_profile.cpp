#include "upstream/profiles/huawei_profile.h"

#include <algorithm>

#include "common/json.h"
#include "common/text.h"
#include "upstream/profiles/dead_letter_publish.h"
#include "upstream/profiles/huawei_auth.h"
#include "upstream/profiles/message_envelope.h"
#include "upstream/profiles/reading_value.h"

namespace gwd {

namespace {

WallTime wall_time_of(std::int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

// The request_id a platform request carries at the end of its topic.
std::string request_id_of(std::string_view topic) {
    const size_t at = topic.rfind("request_id=");
    return at == std::string_view::npos ? std::string() : std::string(topic.substr(at + 11));
}

const std::string* string_member(const JsonValue& object, std::string_view key) {
    const JsonValue* v = object.find(key);
    return v && v->is_string() ? &v->as_string() : nullptr;
}

std::string object_or_empty(const std::string& json) {
    return !json.empty() && json.front() == '{' && json_is_valid(json) ? json : "{}";
}

}  // namespace

HuaweiUplinkCodec::HuaweiUplinkCodec(UpstreamConfig upstream, std::string gateway_id)
    : upstream_(std::move(upstream)), gateway_id_(std::move(gateway_id)), dead_letters_(upstream_, gateway_id_) {}

// A device message (iot_06_v5_3016): the platform does not check its
// content, and the reason travels in it, as 3.1.1 has no properties.
std::optional<PublishRequest> HuaweiUplinkCodec::dead_letter(const Message& message, std::uint64_t id) const {
    auto r = dead_letters_.encode(message);
    if (!r) return std::nullopt;
    std::string body = "{";
    const PlatformMapping* m = mapping_for(upstream_.map, message.sensor);
    if (m && !m->device_id.empty()) body += "\"object_device_id\":" + json_quote(m->device_id) + ",";
    body += "\"name\":\"gatewayd_dead_letter\",\"id\":\"" + std::to_string(id) +
            "\",\"content\":" + message_envelope(message, gateway_id_) + "}";
    r->payload = std::move(body);
    r->content_type = "application/json";
    r->payload_format = 1;
    r->max_payload = kHuaweiMaxPublishBytes;
    return r;
}

// {"service_id":"Temperature","properties":{"value":23.4},"event_time":"2026-11-22T09:15:00.123Z"}
std::string HuaweiUplinkCodec::service_entry(const Message& message) const {
    const PlatformMapping* m = mapping_for(upstream_.map, message.sensor);
    const std::string& service = m ? m->service_id : message.sensor;
    const std::string property = m ? m->property : "value";
    return "{\"service_id\":" + json_quote(service) + ",\"properties\":{" + json_quote(property) + ":" +
           reading_json_value(message) + "},\"event_time\":\"" +
           huawei_event_time_ms(wall_time_of(message.timestamp_ms)) + "\"}";
}

std::optional<PublishRequest> HuaweiUplinkCodec::encode(const Message& message, std::uint64_t id) const {
    if (message.kind == Message::Kind::dead_letter) return dead_letter(message, id);
    const UplinkItem item{id, &message};
    if (!batch_key(message).empty()) return encode_batch(std::span(&item, 1));
    PublishRequest r;
    r.qos = upstream_.qos;
    r.content_type = "application/json";
    r.payload_format = 1;
    const std::string& device = upstream_.huawei.device_id;
    if (upstream_.huawei.legacy_topics) {
        const PlatformMapping* m = mapping_for(upstream_.map, message.sensor);
        r.topic = "/huawei/v1/devices/" + device + "/data/json";
        r.payload =
            "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":" + json_quote(m ? m->service_id : message.sensor) +
            ",\"serviceData\":{" + json_quote(m ? m->property : "value") + ":" + reading_json_value(message) +
            "},\"eventTime\":\"" + huawei_event_time(wall_time_of(message.timestamp_ms)) + "\"}]}";
        return r;
    }
    r.topic = "$oc/devices/" + device + "/sys/properties/report";
    r.payload = "{\"services\":[" + service_entry(message) + "]}";
    return r;
}

namespace {
constexpr std::string_view kSubDevicesKey = "sub_devices";
constexpr std::string_view kOwnDeviceKey = "device";
}  // namespace

std::string HuaweiUplinkCodec::batch_key(const Message& message) const {
    if (message.kind != Message::Kind::data || upstream_.huawei.legacy_topics) return {};
    const PlatformMapping* m = mapping_for(upstream_.map, message.sensor);
    if (m && !m->device_id.empty()) return std::string(kSubDevicesKey);
    return upstream_.batch.enabled() ? std::string(kOwnDeviceKey) : std::string();
}

size_t HuaweiUplinkCodec::max_batch(std::string_view key) const {
    if (key != kSubDevicesKey) return upstream_.batch.max_readings;
    return upstream_.batch.enabled() ? std::min(upstream_.batch.max_readings, kHuaweiMaxSubDevicesPerReport)
                                     : kHuaweiMaxSubDevicesPerReport;
}

std::optional<PublishRequest> HuaweiUplinkCodec::encode_batch(std::span<const UplinkItem> items) const {
    const std::string key = batch_key(*items.front().message);
    if (key.empty()) return encode(*items.front().message, items.front().id);
    PublishRequest r;
    r.qos = upstream_.qos;
    r.content_type = "application/json";
    r.payload_format = 1;
    if (key == kOwnDeviceKey) {
        r.topic = "$oc/devices/" + upstream_.huawei.device_id + "/sys/properties/report";
        r.payload = "{\"services\":[";
        for (size_t i = 0; i < items.size(); ++i) {
            if (i != 0) r.payload += ',';
            r.payload += service_entry(*items[i].message);
        }
        r.payload += "]}";
        return r;
    }
    r.topic = "$oc/devices/" + upstream_.huawei.device_id + "/sys/gateway/sub_devices/properties/report";
    r.payload = "{\"devices\":[";
    for (size_t i = 0; i < items.size(); ++i) {
        const Message& message = *items[i].message;
        if (i != 0) r.payload += ',';
        r.payload += "{\"device_id\":" + json_quote(mapping_for(upstream_.map, message.sensor)->device_id) +
                     ",\"services\":[" + service_entry(message) + "]}";
    }
    r.payload += "]}";
    return r;
}

HuaweiAgent::HuaweiAgent(UpstreamConfig upstream, std::string only_instance)
    : upstream_(std::move(upstream)),
      entities_(upstream_.map, std::move(only_instance)),
      prefix_("$oc/devices/" + upstream_.huawei.device_id + "/sys/"),
      // Legacy OceanConnect devices have no sub-devices.
      sub_devices_(upstream_.huawei.legacy_topics ? std::vector<PlatformMapping>{} : upstream_.map,
                   upstream_.huawei.device_id, upstream_.qos, upstream_.max_publish_rate) {}

std::vector<std::string> HuaweiAgent::subscriptions() const {
    if (upstream_.huawei.legacy_topics) return {"/huawei/v1/devices/" + upstream_.huawei.device_id + "/command/json"};
    // The platform chooses the request_id, so the device subscribes with '#'.
    return {prefix_ + "commands/#", prefix_ + "properties/set/#", prefix_ + "properties/get/#",
            prefix_ + "events/down"};
}

void HuaweiAgent::on_online(WallTime now, Output& out) { sub_devices_.connected(entities_, running_, now, out); }

void HuaweiAgent::on_offline() { sub_devices_.disconnected(); }

void HuaweiAgent::on_sensors(const std::set<std::string>& running, WallTime now, Output& out) {
    running_ = running;
    sub_devices_.refresh(entities_, running_, now, out);
}

void HuaweiAgent::on_stop(WallTime now, Output& out) { sub_devices_.stopping(now, out); }

void HuaweiAgent::on_delivered(std::uint64_t, const std::shared_ptr<const Message>& message, WallTime now,
                               Output& out) {
    // The first reading of a child without an `instance` says which sensor owns it.
    const PlatformMapping* m = message->kind == Message::Kind::data ? entities_.for_sensor(message->sensor) : nullptr;
    const bool owner_unsettled = m && !m->device_id.empty() && m->instance.empty();
    const std::string owner_before = owner_unsettled ? entities_.instance_of(message->sensor) : std::string();
    entities_.remember(*message, reading_json_value(*message));
    if (owner_unsettled && entities_.instance_of(message->sensor) != owner_before)
        sub_devices_.refresh(entities_, running_, now, out);
}

void HuaweiAgent::on_inbound(const InboundPublish& publish, WallTime now, Output& out) {
    const std::string& topic = publish.topic;
    if (upstream_.huawei.legacy_topics) {
        legacy_command(publish.payload, out);
        return;
    }
    if (!topic.starts_with(prefix_)) return;
    const std::string_view rest = std::string_view(topic).substr(prefix_.size());
    const std::string request_id = request_id_of(topic);
    if (rest == "events/down") {
        HuaweiSubDevices::answer(publish.payload, out);
        return;
    }
    if (rest.starts_with("commands/request_id="))
        command(request_id, publish.payload, out);
    else if (rest.starts_with("properties/set/request_id="))
        property_set(request_id, publish.payload, out);
    else if (rest.starts_with("properties/get/request_id="))
        property_get(request_id, publish.payload, now, out);
    // Responses to our own requests, or topics of later platform features: not ours to answer.
}

std::string HuaweiAgent::publish_topic(const std::string& suffix) const { return prefix_ + suffix; }

void HuaweiAgent::command(const std::string& request_id, const std::string& payload, Output& out) {
    Pending p{Kind::command, request_id, "COMMAND_RESPONSE"};
    std::string error;
    auto doc = json_parse(payload, error);
    if (!doc || !doc->is_object()) {
        respond(p,
                CommandOutcome::failure(CommandOutcome::Status::invalid,
                                        "the command is not a JSON object" + (error.empty() ? "" : ": " + error)),
                out);
        return;
    }
    const std::string* object_device = string_member(*doc, "object_device_id");
    const std::string device = object_device && *object_device != upstream_.huawei.device_id ? *object_device : "";
    const std::string* service = string_member(*doc, "service_id");
    const std::string* name = string_member(*doc, "command_name");
    if (name) p.response_name = *name;
    const JsonValue* paras = doc->find("paras");
    if (paras && !paras->is_object()) {
        respond(p, CommandOutcome::failure(CommandOutcome::Status::invalid, "paras must be a JSON object"), out);
        return;
    }
    const PlatformMapping* target = command_target(device, service, name);
    if (!target) {
        respond(p,
                CommandOutcome::failure(CommandOutcome::Status::unsupported,
                                        "no sensor is mapped to service '" + (service ? *service : "") + "'" +
                                            (device.empty() ? "" : " of device '" + device + "'")),
                out);
        return;
    }
    auto cmd = entities_.command_for(target->sensor, name ? *name : "", paras ? paras->dump() : "{}", error);
    if (!cmd) {
        respond(p, CommandOutcome::failure(CommandOutcome::Status::unsupported, error), out);
        return;
    }
    requests_.open(std::move(p), {std::move(*cmd)}, out);
}

void HuaweiAgent::property_set(const std::string& request_id, const std::string& payload, Output& out) {
    Pending p{Kind::property_set, request_id, {}};
    std::string error;
    auto doc = json_parse(payload, error);
    const JsonValue* services = doc && doc->is_object() ? doc->find("services") : nullptr;
    if (!services || !services->is_array()) {
        respond(
            p,
            CommandOutcome::failure(CommandOutcome::Status::invalid, "the property set request has no services list"),
            out);
        return;
    }
    const std::string* object_device = string_member(*doc, "object_device_id");
    const std::string device = object_device && *object_device != upstream_.huawei.device_id ? *object_device : "";
    std::vector<Command> commands;
    for (const JsonValue& s : services->as_array()) {
        const std::string* service = s.is_object() ? string_member(s, "service_id") : nullptr;
        const JsonValue* properties = s.is_object() ? s.find("properties") : nullptr;
        if (!service || !properties || !properties->is_object()) {
            respond(p,
                    CommandOutcome::failure(CommandOutcome::Status::invalid,
                                            "each service needs service_id and a properties object"),
                    out);
            return;
        }
        for (const auto& member : properties->as_object()) {
            // Named, not a structured binding: clang 14 cannot capture those (C++20 allows it).
            const std::string& property = member.first;
            const JsonValue& value = member.second;
            const PlatformMapping* target = entities_.find([&](const PlatformMapping& m) {
                return m.device_id == device && m.service_id == *service && m.property == property;
            });
            if (!target) {
                respond(p,
                        CommandOutcome::failure(
                            CommandOutcome::Status::unsupported,
                            "no sensor is mapped to property '" + property + "' of service '" + *service + "'"),
                        out);
                return;
            }
            auto cmd = entities_.command_for(target->sensor, "set", set_params(value.dump()), error);
            if (!cmd) {
                respond(p, CommandOutcome::failure(CommandOutcome::Status::unsupported, error), out);
                return;
            }
            commands.push_back(std::move(*cmd));
        }
    }
    if (commands.empty()) {
        respond(p, CommandOutcome{}, out);
        return;
    }
    // One answer for the whole request, after every plugin has answered.
    requests_.open(std::move(p), std::move(commands), out);
}

void HuaweiAgent::property_get(const std::string& request_id, const std::string& payload, WallTime now, Output& out) {
    const std::string topic = publish_topic("properties/get/response/request_id=" + request_id);
    std::string error;
    auto doc = json_parse(payload, error);
    if (!doc || !doc->is_object()) {
        // The response has no failure form (iot_06_v5_3011): an empty
        // answer, as Huawei's Java and Python SDKs give for what they cannot.
        out.say(LogLevel::warning, "a property get request is not a JSON object (" +
                                       (error.empty() ? std::string("not an object") : error) +
                                       "); answered with no services: " + printable(payload, kQuotedMessage));
        PublishRequest r;
        r.topic = topic;
        r.qos = upstream_.qos;
        r.payload = "{\"services\":[]}";
        out.publishes.push_back(std::move(r));
        return;
    }
    const std::string* object_device = string_member(*doc, "object_device_id");
    const std::string device = object_device && *object_device != upstream_.huawei.device_id ? *object_device : "";
    const std::string* service = string_member(*doc, "service_id");
    // {"services":[{"service_id":S,"properties":{...},"event_time":T}]}, one
    // entry per service, from the latest delivered values.
    std::vector<std::pair<std::string, std::pair<std::string, std::int64_t>>> by_service;
    for (const auto& m : entities_.entries()) {
        if (m.device_id != device || (service && m.service_id != *service)) continue;
        const EntityMap::Latest* latest = entities_.latest(m.sensor);
        if (!latest) continue;
        auto it =
            std::find_if(by_service.begin(), by_service.end(), [&](const auto& e) { return e.first == m.service_id; });
        if (it == by_service.end()) {
            by_service.push_back({m.service_id, {{}, 0}});
            it = by_service.end() - 1;
        }
        std::string& props = it->second.first;
        props += (props.empty() ? "" : ",") + json_quote(m.property) + ":" + latest->json_value;
        it->second.second = std::max(it->second.second, latest->timestamp_ms);
    }
    std::string body = "{\"services\":[";
    for (size_t i = 0; i < by_service.size(); ++i) {
        if (i != 0) body += ',';
        const auto& [name, props] = by_service[i];
        body += "{\"service_id\":" + json_quote(name) + ",\"properties\":{" + props.first + "},\"event_time\":\"" +
                huawei_event_time(props.second > 0 ? wall_time_of(props.second) : now) + "\"}";
    }
    body += "]}";
    PublishRequest r;
    r.topic = topic;
    r.payload = std::move(body);
    out.publishes.push_back(std::move(r));
}

void HuaweiAgent::legacy_command(const std::string& payload, Output& out) {
    std::string error;
    auto doc = json_parse(payload, error);
    const JsonValue* mid = doc && doc->is_object() ? doc->find("mid") : nullptr;
    if (!mid || !mid->is_number()) {
        // Without its mid a response cannot be matched to anything.
        out.say(LogLevel::warning,
                "a legacy command without a numeric mid was ignored: " + printable(payload, kQuotedMessage));
        return;
    }
    Pending p{Kind::legacy_command, mid->as_number().text, {}};
    const std::string* service = string_member(*doc, "serviceId");
    const std::string* cmd_name = string_member(*doc, "cmd");
    const JsonValue* paras = doc->find("paras");
    if (!service || !cmd_name || (paras && !paras->is_object())) {
        respond(p,
                CommandOutcome::failure(CommandOutcome::Status::invalid,
                                        "a legacy command needs serviceId, cmd and an object paras"),
                out);
        return;
    }
    // Legacy devices have no sub-devices: any mapping of the service will do.
    const PlatformMapping* target = command_target(std::nullopt, service, cmd_name);
    if (!target) {
        respond(p,
                CommandOutcome::failure(CommandOutcome::Status::unsupported,
                                        "no sensor is mapped to service '" + *service + "'"),
                out);
        return;
    }
    auto cmd = entities_.command_for(target->sensor, *cmd_name, paras ? paras->dump() : "{}", error);
    if (!cmd) {
        respond(p, CommandOutcome::failure(CommandOutcome::Status::unsupported, error), out);
        return;
    }
    requests_.open(std::move(p), {std::move(*cmd)}, out);
}

void HuaweiAgent::on_command_done(std::uint64_t ticket, const CommandOutcome& outcome, WallTime, Output& out) {
    if (auto finished = requests_.done(ticket, outcome)) respond(finished->first, finished->second, out);
}

// The sensor whose mapping names this service (and device, when given),
// preferring the one that lists the command.
const PlatformMapping* HuaweiAgent::command_target(const std::optional<std::string>& device, const std::string* service,
                                                   const std::string* name) const {
    auto matches = [&](const PlatformMapping& m) {
        return (!device || m.device_id == *device) && (!service || m.service_id == *service);
    };
    const PlatformMapping* target = entities_.find([&](const PlatformMapping& m) {
        return matches(m) && name && std::find(m.commands.begin(), m.commands.end(), *name) != m.commands.end();
    });
    return target ? target : entities_.find(matches);
}

void HuaweiAgent::respond(const Pending& p, const CommandOutcome& outcome, Output& out) {
    PublishRequest r;
    r.qos = upstream_.qos;
    const int code = outcome.ok() ? 0 : 1;
    switch (p.kind) {
        case Kind::command: {
            r.topic = publish_topic("commands/response/request_id=" + p.request_id);
            std::string paras = outcome.ok() ? object_or_empty(outcome.result)
                                             : "{\"error\":" + json_quote(outcome.message) + ",\"status\":\"" +
                                                   std::string(command_status_name(outcome.status)) + "\"}";
            r.payload = "{\"result_code\":" + std::to_string(code) +
                        ",\"response_name\":" + json_quote(p.response_name) + ",\"paras\":" + paras + "}";
            break;
        }
        case Kind::property_set:
            r.topic = publish_topic("properties/set/response/request_id=" + p.request_id);
            r.payload = "{\"result_code\":" + std::to_string(code) +
                        ",\"result_desc\":" + json_quote(outcome.ok() ? "success" : outcome.message) + "}";
            break;
        case Kind::legacy_command:
            r.topic = "/huawei/v1/devices/" + upstream_.huawei.device_id + "/data/json";
            r.payload =
                "{\"msgType\":\"deviceRsp\",\"mid\":" + p.request_id + ",\"errcode\":" + std::to_string(code) +
                ",\"body\":" +
                (outcome.ok() ? object_or_empty(outcome.result) : "{\"error\":" + json_quote(outcome.message) + "}") +
                "}";
            break;
    }
    if (!outcome.ok()) {
        out.say(LogLevel::warning, "answered a platform request with a failure: " + outcome.message);
    }
    out.publishes.push_back(std::move(r));
}

}  // namespace gwd
