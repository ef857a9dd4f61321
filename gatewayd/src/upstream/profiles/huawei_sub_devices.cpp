#include "upstream/profiles/huawei_sub_devices.h"

#include <algorithm>

#include "common/json.h"
#include "common/text.h"
#include "upstream/profiles/huawei_auth.h"

namespace gwd {

HuaweiSubDevices::HuaweiSubDevices(const std::vector<PlatformMapping>& map, std::string gateway_device_id, int qos,
                                   double max_publish_rate)
    : topic_("$oc/devices/" + gateway_device_id + "/sys/events/up"),
      qos_(qos),
      per_event_(max_publish_rate >= 1 ? std::min(kHuaweiMaxStatusesPerEvent, static_cast<size_t>(max_publish_rate))
                                       : kHuaweiMaxStatusesPerEvent) {
    for (const auto& m : map) {
        if (!m.device_id.empty()) children_[m.device_id].push_back(m.sensor);
    }
}

bool HuaweiSubDevices::is_online(const std::string& device, const EntityMap& entities,
                                 const std::set<std::string>& running) const {
    auto it = children_.find(device);
    if (it == children_.end()) return false;
    for (const std::string& sensor : it->second) {
        const std::string owner = entities.instance_of(sensor);
        if (owner.empty() ? !running.empty() : running.count(owner) != 0) return true;
    }
    return false;
}

void HuaweiSubDevices::connected(const EntityMap& entities, const std::set<std::string>& running, WallTime now,
                                 PlatformAgent::Output& out) {
    connected_ = true;
    reported_.clear();
    std::vector<std::pair<std::string, bool>> statuses;
    for (const auto& [device, sensors] : children_) statuses.emplace_back(device, is_online(device, entities, running));
    for (const std::string& device : inherited_) {
        if (children_.count(device) == 0) statuses.emplace_back(device, false);
    }
    inherited_.clear();
    report(statuses, now, out);
}

void HuaweiSubDevices::refresh(const EntityMap& entities, const std::set<std::string>& running, WallTime now,
                               PlatformAgent::Output& out) {
    if (!connected_) return;
    std::vector<std::pair<std::string, bool>> changed;
    for (const auto& [device, sensors] : children_) {
        const bool online = is_online(device, entities, running);
        auto it = reported_.find(device);
        if (it == reported_.end() || it->second != online) changed.emplace_back(device, online);
    }
    report(changed, now, out);
}

void HuaweiSubDevices::stopping(WallTime now, PlatformAgent::Output& out) {
    if (!connected_) return;
    std::vector<std::pair<std::string, bool>> offline;
    for (const auto& [device, online] : reported_) {
        if (online) offline.emplace_back(device, false);
    }
    report(offline, now, out);
}

std::vector<std::string> HuaweiSubDevices::online() const {
    std::vector<std::string> devices;
    for (const auto& [device, online] : reported_) {
        if (online) devices.push_back(device);
    }
    return devices;
}

void HuaweiSubDevices::inherit(std::vector<std::string> online) { inherited_ = std::move(online); }

void HuaweiSubDevices::report(const std::vector<std::pair<std::string, bool>>& statuses, WallTime now,
                              PlatformAgent::Output& out) {
    for (size_t start = 0; start < statuses.size(); start += per_event_) {
        const size_t end = std::min(statuses.size(), start + per_event_);
        std::string list;
        for (size_t i = start; i < end; ++i) {
            const auto& [device, online] = statuses[i];
            list += (i == start ? "" : ",") + std::string("{\"device_id\":") + json_quote(device) + ",\"status\":\"" +
                    (online ? "ONLINE" : "OFFLINE") + "\"}";
            reported_[device] = online;
        }
        PublishRequest r;
        r.topic = topic_;
        r.qos = qos_;
        r.content_type = "application/json";
        r.payload_format = 1;
        r.rate_cost = static_cast<int>(end - start);
        r.payload =
            "{\"services\":[{\"service_id\":\"$sub_device_manager\",\"event_type\":\"sub_device_update_status\","
            "\"event_time\":\"" +
            huawei_event_time(now) + "\",\"paras\":{\"device_statuses\":[" + list + "]}}]}";
        out.publishes.push_back(std::move(r));
    }
}

// {"services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status_response",
//   "paras":{"successful_devices":[{"device_id":"..","status":"ONLINE"}],
//            "failed_devices":[{"device_id":"..","error_code":"..","error_msg":".."}]}}]}
bool HuaweiSubDevices::answer(const std::string& payload, PlatformAgent::Output& out) {
    std::string error;
    auto doc = json_parse(payload, error);
    const JsonValue* services = doc && doc->is_object() ? doc->find("services") : nullptr;
    if (!services || !services->is_array()) return false;
    bool answered = false;
    auto text = [](const JsonValue& object, std::string_view key) {
        const JsonValue* v = object.is_object() ? object.find(key) : nullptr;
        if (!v) return std::string();
        return v->is_string() ? v->as_string() : v->dump();
    };
    for (const JsonValue& service : services->as_array()) {
        if (text(service, "event_type") != "sub_device_update_status_response") continue;
        answered = true;
        const JsonValue* paras = service.find("paras");
        const JsonValue* failed = paras && paras->is_object() ? paras->find("failed_devices") : nullptr;
        if (!failed || !failed->is_array()) continue;
        for (const JsonValue& device : failed->as_array()) {
            out.say(LogLevel::warning, "the platform did not update the status of sub-device '" +
                                           printable(text(device, "device_id"), 128) +
                                           "': " + printable(text(device, "error_code"), 64) + " " +
                                           printable(text(device, "error_msg"), kQuotedMessage));
        }
    }
    return answered;
}

}  // namespace gwd
