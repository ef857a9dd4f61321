// The typed configuration, as read from gatewayd.toml. Plain values: every
// field is already checked, so the stages that receive it need not check again.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/backoff_config.h"
#include "common/log.h"
#include "config/diagnostics.h"
#include "config/option_table.h"
#include "config/platform_profile.h"
#include "normalize/normalizer.h"
#include "outbox/outbox_policy.h"

namespace gwd {

struct GatewayConfig {
    std::string id;  // default: the host name
    std::filesystem::path plugin_dir = "/usr/lib/gatewayd/plugins";
    std::filesystem::path state_dir = "/var/lib/gatewayd";
    LogLevel log_level = LogLevel::info;
    Duration shutdown_timeout{5000};  // in-flight publishes (and stuck plugins) get this long at stop
    Duration plugin_timeout{10000};   // a plugin call that runs longer is stuck (polls: at least their interval)
    std::uint64_t max_reading_size = 1024 * 1024;      // a larger reading is refused at emit()
    std::optional<std::filesystem::path> runtime_dir;  // unset: $RUNTIME_DIRECTORY, else /run/gatewayd
    SourceLocation plugin_dir_where;
    SourceLocation state_dir_where;
    SourceLocation runtime_dir_where;
};

// Where a sensor's plugin runs: inside gatewayd, or in a child process of
// its own that a crash or a hang ends alone.
enum class Isolation { none, process };

struct SensorConfig {
    std::string name;
    std::string plugin;
    Duration interval{10000};
    bool enabled = true;
    Isolation isolation = Isolation::none;
    std::optional<std::string> content_type;  // canonical MIME, the default for its readings
    std::optional<Duration> expiry;           // its readings are not worth sending after this long
    OptionValue options;                      // always a table
    SourceLocation where;                     // the [[sensor]] header
    SourceLocation plugin_where;              // the plugin = line
};

// How one reading name becomes a platform entity (an [[upstream.map]] entry).
// Fields a profile does not use stay empty; the loader refuses them.
struct PlatformMapping {
    std::string sensor;                 // the reading name ({sensor})
    std::string instance;               // [[sensor]] whose plugin takes its commands; empty: learned from readings
    std::string device_id;              // huawei: a gateway sub-device; empty: the connecting device
    std::string service_id;             // huawei: service of the product model
    std::string property;               // huawei property, onenet identifier, aws shadow field
    std::vector<std::string> commands;  // command names routed to this sensor's plugin
    SourceLocation where;
    bool operator==(const PlatformMapping&) const = default;
};

enum class OnenetMethod { md5, sha1, sha256 };

struct HuaweiSettings {
    std::string device_id;              // console: device ID ({product_id}_{node_id})
    std::filesystem::path secret_file;  // console: device secret, one line
    int sign_type = 1;                  // 1: the platform checks the hour; 0: it does not
    bool legacy_topics = false;         // /huawei/v1/devices/... (OceanConnect)
    bool operator==(const HuaweiSettings&) const = default;
};

struct OnenetSettings {
    std::string product_id;          // console: product ID (the user name)
    std::string device_name;         // console: device name (the client id)
    std::filesystem::path key_file;  // console: device key (base64), one line
    OnenetMethod method = OnenetMethod::sha256;
    Duration token_validity{7LL * 24 * 3600 * 1000};                        // et = connect time + this
    std::optional<std::chrono::system_clock::time_point> token_expires_at;  // a fixed et instead
    bool operator==(const OnenetSettings&) const = default;
};

struct AwsSettings {
    std::string thing_name;           // console: thing name (also the client id by default)
    bool shadow = true;               // report mapped sensors to the Device Shadow
    std::string shadow_name;          // empty: the classic shadow
    Duration shadow_interval{10000};  // at most one reported update this often
    std::string command_topic;        // MQTT v5 request/response commands; empty: off
    bool operator==(const AwsSettings&) const = default;
};

// Readings that travel together in one publish (opt-in: `batch = {...}`).
struct BatchConfig {
    size_t max_readings = 1;              // 1: batching is off
    std::uint64_t max_bytes = 64 * 1024;  // of one batch's payload (a single reading may exceed it)
    Duration linger{0};                   // how long a young reading may wait for company
    bool enabled() const { return max_readings > 1; }
    bool operator==(const BatchConfig&) const = default;
};

// After an outage: the backlog first (as queued), or new readings first
// while the backlog drains beside them in `replay_share` of the window.
enum class ReplayOrder { oldest_first, live_first };

struct UpstreamConfig {
    std::string name;
    PlatformProfile profile = PlatformProfile::mqtt;
    std::string url;  // normalized to tcp://host:port or ssl://host:port
    bool tls = false;
    std::string client_id;
    std::optional<std::string> username;
    std::optional<std::string> password;
    std::optional<std::filesystem::path> password_file;
    int mqtt_version = 5;
    int qos = 1;
    bool retain = false;
    std::string topic = "telemetry/{gateway}/{sensor}";
    std::uint64_t max_payload = 0;     // larger payloads are dead-lettered; 0: no limit of our own
    std::string alpn;                  // TLS ALPN protocol; aws on port 443: x-amzn-mqtt-ca
    std::string dead_letter_topic;     // empty: dead letters are dropped for this upstream
    bool envelope = false;             // fold metadata into a JSON payload (default for MQTT 3.1.1)
    std::vector<std::string> sensors;  // [[sensor]] names routed here; empty = all
    std::optional<std::filesystem::path> ca_file;
    std::optional<std::filesystem::path> cert_file;
    std::optional<std::filesystem::path> key_file;
    bool tls_verify = true;
    Duration keep_alive{60000};
    Duration connect_timeout{10000};
    bool clean_start = true;
    Duration session_expiry{0};            // MQTT v5 Session Expiry Interval; 0 ends the session at disconnect
    int max_inflight = 64;                 // also capped by the broker's Receive Maximum
    double max_publish_rate = 0;           // publishes per second; 0: unlimited
    bool topic_alias = false;              // use MQTT v5 topic aliases up to the broker's maximum
    bool follow_server_reference = false;  // follow 0x9C/0x9D redirects
    std::optional<Duration> retry_after_auth_failure;  // none: stay stopped until re-armed
    BackoffConfig backoff;
    std::optional<Duration> message_expiry;  // readings for this upstream expire this long after acceptance
    OutboxKind outbox = OutboxKind::disk;
    std::uint64_t max_bytes = kDefaultDiskOutboxBytes;
    OverflowPolicy overflow = OverflowPolicy::drop_oldest;
    FsyncPolicy fsync = FsyncPolicy::batch;
    Duration fsync_interval{50};
    BatchConfig batch;
    ReplayOrder replay = ReplayOrder::oldest_first;
    double replay_share = 0.5;  // live-first: the backlog's share of the window while live readings wait
    HuaweiSettings huawei;
    OnenetSettings onenet;
    AwsSettings aws;
    std::vector<PlatformMapping> map;
    SourceLocation where;
    bool operator==(const UpstreamConfig&) const = default;
};

enum class DecodeErrorPolicy { dead_letter, drop };

struct NormalizeConfig {
    NormalizerOptions options;
    DecodeErrorPolicy on_decode_error = DecodeErrorPolicy::dead_letter;
    std::string dead_letter_topic = "deadletter/{gateway}/{sensor}";
};

struct Config {
    std::filesystem::path file;
    GatewayConfig gateway;
    std::vector<SensorConfig> sensors;
    std::vector<UpstreamConfig> upstreams;
    NormalizeConfig normalize;
};

}  // namespace gwd
