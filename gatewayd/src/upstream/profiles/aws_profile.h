// profile = "aws": AWS IoT Core (platforms.md section 1, seeds 000, 002, 003).
//
// Uplink: telemetry to the upstream's topic template, the payload as
// normalized, MQTT v5 metadata as properties (content type, payload format,
// user properties up to 8 KiB in total, message expiry at most 604800 s).
//
// Device Shadow (classic, or named with shadow_name): at every connection the
// agent asks for the shadow (get) and applies its delta; mapped sensors'
// latest values go to state.reported when they changed, at most one update
// per shadow_interval, each with a clientToken and the version the get (or
// the last accepted update) said. update/delta hands the
// desired values to the owning plugins as "set" commands and reports what
// they applied. update/rejected 409 (version conflict) gets the shadow again
// and retries; other codes are logged.
//
// MQTT v5 request/response: a PUBLISH to command_topic with Response Topic
// and Correlation Data,
//   {"sensor":"lab01","command":"set","params":{"value":21.5}}
// reaches the plugin; the answer goes to the Response Topic with the same
// Correlation Data:
//   {"status":"ok","result":{...}}  or  {"status":"error","code":"unsupported","error":"..."}
#pragma once

#include <map>
#include <set>

#include "config/config.h"
#include "common/json.h"
#include "router/topic_template.h"
#include "upstream/profiles/dead_letter_publish.h"
#include "upstream/profiles/entity_map.h"
#include "upstream/profiles/platform_agent.h"
#include "upstream/profiles/uplink.h"

namespace gwd {

inline constexpr std::uint32_t kAwsMaxMessageExpiry = 604800;  // 7 days
inline constexpr size_t kAwsMaxUserPropertyBytes = 8192;       // [UNVERIFIED] quota L-7201B389
inline constexpr size_t kAwsMaxClientTokenBytes = 64;
inline constexpr int kAwsMaxShadowRetries = 3;
inline constexpr std::chrono::seconds kAwsShadowGetTimeout{10};

class AwsUplinkCodec final : public UplinkCodec {
public:
    AwsUplinkCodec(UpstreamConfig upstream, std::string gateway_id, std::map<std::string, std::string> plugins);
    std::optional<PublishRequest> encode(const Message& message, std::uint64_t id) const override;
    std::uint32_t max_message_expiry_s() const override { return kAwsMaxMessageExpiry; }

private:
    UpstreamConfig upstream_;
    std::string gateway_id_;
    std::map<std::string, std::string> plugins_;
    TopicTemplate topic_;
    DeadLetterPublisher dead_letters_;
};

// "$aws/things/{thing}/shadow" or "$aws/things/{thing}/shadow/name/{shadow}".
std::string aws_shadow_prefix(const AwsSettings& aws);

class AwsAgent final : public PlatformAgent {
public:
    AwsAgent(UpstreamConfig upstream, std::string only_instance);

    std::vector<std::string> subscriptions() const override;
    void on_online(WallTime now, Output& out) override;
    void on_offline() override;
    void on_delivered(std::uint64_t id, const std::shared_ptr<const Message>& message, WallTime now,
                      Output& out) override;
    void on_inbound(const InboundPublish& publish, WallTime now, Output& out) override;
    void on_command_done(std::uint64_t ticket, const CommandOutcome& outcome, WallTime now, Output& out) override;
    std::optional<WallTime> next_tick() const override;
    void on_tick(WallTime now, Output& out) override;

    std::optional<std::int64_t> shadow_version() const { return version_; }

private:
    // A field's value and when it was learned: a refused update gives its
    // values back only where nothing newer came since.
    struct FieldValue {
        std::string json;
        std::uint64_t seq = 0;
    };
    struct Update {
        std::map<std::string, FieldValue> reported;
        int attempts = 0;
    };
    struct Pending {
        bool shadow = false;             // a delta field
        std::string field;               // shadow field
        std::string desired;             // its desired JSON value
        std::string response_topic;      // request/response
        std::string correlation_data;
    };

    void shadow_document(const std::string& payload, bool from_get, WallTime now, Output& out);
    void apply_delta(const JsonValue& state, WallTime now, Output& out);
    void update_rejected(const std::string& payload, WallTime now, Output& out);
    void update_accepted(const std::string& payload);
    void request(const InboundPublish& publish, Output& out);
    void respond(const Pending& p, const CommandOutcome& outcome, Output& out);
    void send_get(WallTime now, Output& out);
    void set_unreported(const std::string& field, std::string json);
    void give_back(const Update& update);
    std::string next_token();

    UpstreamConfig upstream_;
    EntityMap entities_;
    std::string prefix_;
    bool online_ = false;
    std::optional<std::int64_t> version_;
    std::map<std::string, FieldValue> unreported_;  // waiting for the interval
    std::map<std::string, std::uint64_t> newest_seq_;  // field -> seq of its newest value
    std::uint64_t value_seq_ = 0;
    std::map<std::string, std::string> last_reported_;  // as the shadow accepted them: unchanged values are not sent again
    // Reports wait for the answer to a shadow get (at start, after a 409),
    // so they carry the current version; at most until then.
    std::optional<WallTime> awaiting_get_until_;
    std::optional<WallTime> last_update_;
    bool report_now_ = false;  // a delta was applied: say so without waiting
    std::map<std::string, Update> in_flight_;  // clientToken -> update
    int retries_after_conflict_ = 0;
    std::uint64_t token_counter_ = 0;
    std::uint64_t next_ticket_ = 1;
    std::map<std::uint64_t, Pending> pending_;
    std::set<std::string> warned_fields_;
};

}  // namespace gwd
