// profile = "aws": AWS IoT Core (AWS IoT Core Developer Guide, "MQTT",
// https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html, and "Device Shadow MQTT topics",
// https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-mqtt.html).
//
// Uplink: telemetry to the upstream's topic template, the payload as
// normalized, MQTT v5 metadata as properties (content type, payload format,
// user properties up to 8 KiB in total, message expiry at most 604800 s).
// With `batch`, readings for one topic go as one JSON array of envelopes.
//
// Device Shadow (classic, or named with shadow_name): at every connection the
// agent asks for the shadow (get) and applies its delta; mapped sensors'
// latest values go to state.reported when they changed, at most one update
// per shadow_interval, each with a clientToken and the version the get (or
// the last accepted update) said, one at a time while a version is known.
// update/delta hands the desired values to the owning plugins as "set"
// commands and reports what they applied; a value numerically equal to the
// desired one is reported as the desired one was written (30, not 30.0), or
// the delta would never clear.
//
// An update's reported state stays under the shadow's 8 KB (split into
// several updates; a single field over it is refused and logged). Refusals:
// 409 (version conflict) gets the shadow again and retries on the new
// version; 429, 500 and 503 (and no answer within 10 s) retry the values
// after a backoff with full jitter (1 s doubling to 60 s); 413 halves the
// fields per update, and a single field refused alone is logged and left
// out. Values are given back only where nothing newer came since. Other
// codes (400, 401, 403, 404, 415) are logged, their values not retried.
//
// AWS IoT Core counts the PUBLISHes it sends the device in the
// connection's 100/s: inbound_counts_toward_rate().
//
// MQTT v5 request/response: a PUBLISH to command_topic with Response Topic
// and Correlation Data,
//   {"sensor":"lab01","command":"set","params":{"value":21.5}}
// reaches the plugin; the answer goes to the Response Topic with the same
// Correlation Data:
//   {"status":"ok","result":{...}}  or  {"status":"error","code":"unsupported","error":"..."}
#pragma once

#include <functional>
#include <map>
#include <set>

#include "common/json.h"
#include "config/config.h"
#include "supervision/backoff.h"
#include "topics/topic_template.h"
#include "upstream/profiles/dead_letter_publish.h"
#include "upstream/profiles/entity_map.h"
#include "upstream/profiles/platform_agent.h"
#include "upstream/profiles/reading_topic.h"
#include "upstream/profiles/uplink.h"

namespace gwd {

inline constexpr std::uint32_t kAwsMaxMessageExpiry = 604800;  // 7 days
inline constexpr size_t kAwsMaxUserPropertyBytes = 8192;       // [UNVERIFIED] quota L-7201B389
inline constexpr size_t kAwsMaxClientTokenBytes = 64;
inline constexpr int kAwsMaxShadowRetries = 3;
inline constexpr std::chrono::seconds kAwsShadowGetTimeout{10};
inline constexpr std::chrono::seconds kAwsShadowAnswerTimeout{10};
// "The device's shadow supports 8 KB of data only ... Only the data for
// desired and reported state inside the state document ... counts".
inline constexpr size_t kAwsMaxShadowStateBytes = 8192;
inline constexpr std::chrono::seconds kAwsShadowRetryInitial{1};
inline constexpr std::chrono::seconds kAwsShadowRetryMax{60};

class AwsUplinkCodec final : public UplinkCodec {
public:
    AwsUplinkCodec(UpstreamConfig upstream, std::string gateway_id, std::map<std::string, std::string> plugins);
    std::optional<PublishRequest> encode(const Message& message, std::uint64_t id) const override;
    // With `batch`: readings for one topic as one JSON array of envelopes (batch_envelope.h).
    std::string batch_key(const Message& message) const override;
    size_t max_batch(std::string_view) const override { return upstream_.batch.max_readings; }
    std::optional<PublishRequest> encode_batch(std::span<const UplinkItem> items) const override;
    std::uint32_t max_message_expiry_s() const override { return kAwsMaxMessageExpiry; }

private:
    UpstreamConfig upstream_;
    ReadingTopic reading_topic_;
    TopicTemplate topic_;
    DeadLetterPublisher dead_letters_;
};

// "$aws/things/{thing}/shadow" or "$aws/things/{thing}/shadow/name/{shadow}".
std::string aws_shadow_prefix(const AwsSettings& aws);

class AwsAgent final : public PlatformAgent {
public:
    // `uniform01` returns numbers in [0, 1), for the retry jitter.
    AwsAgent(UpstreamConfig upstream, std::string only_instance, std::function<double()> uniform01 = {});

    std::vector<std::string> subscriptions() const override;
    void on_online(WallTime now, Output& out) override;
    void on_offline() override;
    void on_delivered(std::uint64_t id, const std::shared_ptr<const Message>& message, WallTime now,
                      Output& out) override;
    void on_inbound(const InboundPublish& publish, WallTime now, Output& out) override;
    void on_command_done(std::uint64_t ticket, const CommandOutcome& outcome, WallTime now, Output& out) override;
    std::optional<WallTime> next_tick() const override;
    void on_tick(WallTime now, Output& out) override;
    bool inbound_counts_toward_rate() const override { return true; }

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
        WallTime sent_at{};
    };
    struct Pending {
        bool shadow = false;         // a delta field
        std::string field;           // shadow field
        std::string desired;         // its desired JSON value
        std::string response_topic;  // request/response
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
    void retry_later(const Update& update, const std::string& why, WallTime now, Output& out);
    std::string next_token();
    // `json`, or the desired value as written when it is the same number.
    std::string as_desired(const std::string& field, std::string json) const;
    bool may_send_update() const;

    UpstreamConfig upstream_;
    EntityMap entities_;
    std::string prefix_;
    bool online_ = false;
    std::optional<std::int64_t> version_;
    std::map<std::string, FieldValue> unreported_;     // waiting for the interval
    std::map<std::string, std::uint64_t> newest_seq_;  // field -> seq of its newest value
    std::uint64_t value_seq_ = 0;
    std::map<std::string, std::string>
        last_reported_;  // as the shadow accepted them: unchanged values are not sent again
    // Reports wait for the answer to a shadow get (at start, after a 409),
    // so they carry the current version; at most until then.
    std::optional<WallTime> awaiting_get_until_;
    std::optional<WallTime> last_update_;
    bool report_now_ = false;                  // a delta was applied: say so without waiting
    std::map<std::string, Update> in_flight_;  // clientToken -> update
    int retries_after_conflict_ = 0;
    std::map<std::string, std::string> desired_;  // field -> desired JSON, as the shadow wrote it
    std::function<double()> uniform01_;
    Backoff retry_backoff_;  // after refusals (429/500/503) or silences in a row
    std::optional<WallTime> retry_not_before_;
    size_t max_fields_per_update_ = 0;  // after a 413; 0: no limit beyond the 8 KB
    std::uint64_t token_counter_ = 0;
    std::uint64_t next_ticket_ = 1;
    std::map<std::uint64_t, Pending> pending_;
    std::set<std::string> warned_fields_;
};

}  // namespace gwd
