// Huawei IoTDA shows a gateway's child device online only after the gateway
// says so (IoTDA API reference, "网关更新子设备状态",
// https://support.huaweicloud.com/api-iothub/iot_06_v5_3022.html). This room decides which mapped
// children ([[upstream.map]] entries with a device_id) are online and words
// the events, on the gateway's own topic:
//
//   $oc/devices/{gateway}/sys/events/up
//   {"services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status",
//     "event_time":"20261202T101500Z","paras":{"device_statuses":[{"device_id":"c1","status":"ONLINE"}]}}]}
//
// A child is ONLINE while the [[sensor]] that owns it runs (its entry's
// `instance`, else the sensor its readings came from, else the only one
// routed to the upstream; when none of these is known yet, while any sensor
// runs). Every connect reports every child; afterwards only changes go out.
// At most 100 statuses per event ("列表大小1~100"; the C SDK's
// MaxSubDeviceCount); each status costs the connection one publish of its
// allowance ("1次调用的tps为1*上报子设备的数量"), so an event names no more
// devices than max_publish_rate allows in a second. The platform answers on
// .../sys/events/down with sub_device_update_status_response; devices it
// could not update are listed in failed_devices. Pure.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "upstream/profiles/entity_map.h"
#include "upstream/profiles/platform_agent.h"

namespace gwd {

inline constexpr size_t kHuaweiMaxStatusesPerEvent = 100;

class HuaweiSubDevices {
public:
    HuaweiSubDevices(const std::vector<PlatformMapping>& map, std::string gateway_device_id, int qos,
                     double max_publish_rate);

    bool empty() const { return children_.empty() && inherited_.empty(); }

    // Connected: every child's status, ONLINE or OFFLINE, and OFFLINE for
    // children a replaced agent reported and this one no longer maps.
    void connected(const EntityMap& entities, const std::set<std::string>& running, WallTime now,
                   PlatformAgent::Output& out);
    // The running sensors (or what owns a child) may have changed: the
    // children whose status did, once connected.
    void refresh(const EntityMap& entities, const std::set<std::string>& running, WallTime now,
                 PlatformAgent::Output& out);
    // Stopping for good: OFFLINE for every child reported ONLINE.
    void stopping(WallTime now, PlatformAgent::Output& out);
    void disconnected() { connected_ = false; }

    std::vector<std::string> online() const;
    void inherit(std::vector<std::string> online);

    // An event the platform sent on .../sys/events/down; true when it was
    // the answer to a status report (its failures are logged).
    static bool answer(const std::string& payload, PlatformAgent::Output& out);

private:
    bool is_online(const std::string& device, const EntityMap& entities, const std::set<std::string>& running) const;
    void report(const std::vector<std::pair<std::string, bool>>& statuses, WallTime now, PlatformAgent::Output& out);

    std::map<std::string, std::vector<std::string>> children_;  // device id -> reading names mapped to it
    std::string topic_;
    int qos_;
    size_t per_event_;
    bool connected_ = false;
    std::map<std::string, bool> reported_;  // on this connection: device id -> online
    std::vector<std::string> inherited_;
};

}  // namespace gwd
