#include "upstream/profiles/aws_profile.h"

#include <memory>
#include <random>
#include <stdexcept>

#include "common/json.h"
#include "common/text.h"
#include "common/units.h"
#include "topics/aws_topic.h"
#include "upstream/profiles/batch_envelope.h"
#include "upstream/profiles/dead_letter_publish.h"
#include "upstream/profiles/reading_value.h"

namespace gwd {

namespace {

// In-flight shadow requests AWS allows per connection is 10; stay below.
constexpr size_t kMaxUpdatesInFlight = 5;
// The shadow service's error codes (AWS IoT Device Shadow "Error messages").
constexpr std::int64_t kShadowNotFound = 404;
constexpr std::int64_t kShadowVersionConflict = 409;
constexpr std::int64_t kShadowPayloadTooLarge = 413;
constexpr std::int64_t kShadowThrottled = 429;
constexpr std::int64_t kShadowInternalError = 500;
constexpr std::int64_t kShadowUnavailable = 503;
// The smallest wait before an update the service refused for now is sent again.
constexpr Duration kShadowRetryFloor{100};

std::optional<std::int64_t> integer_member(const JsonValue& doc, std::string_view key) {
    const JsonValue* v = doc.find(key);
    if (!v || !v->is_number()) return std::nullopt;
    return v->as_number().integer();
}

std::string string_or_empty(const JsonValue& doc, std::string_view key) {
    const JsonValue* v = doc.find(key);
    return v && v->is_string() ? v->as_string() : std::string();
}

}  // namespace

std::string aws_shadow_prefix(const AwsSettings& aws) {
    std::string prefix = "$aws/things/" + aws.thing_name + "/shadow";
    if (!aws.shadow_name.empty()) prefix += "/name/" + aws.shadow_name;
    return prefix;
}

AwsUplinkCodec::AwsUplinkCodec(UpstreamConfig upstream, std::string gateway_id,
                               std::map<std::string, std::string> plugins)
    : upstream_(std::move(upstream)),
      reading_topic_(std::move(gateway_id), upstream_.name, std::move(plugins)),
      topic_(TopicTemplate::compile_checked(upstream_.topic)),
      dead_letters_(upstream_, reading_topic_.gateway_id()) {}

std::optional<PublishRequest> AwsUplinkCodec::encode(const Message& message, std::uint64_t) const {
    if (message.kind == Message::Kind::dead_letter) return dead_letters_.encode(message);
    PublishRequest r;
    r.topic = reading_topic_.render(topic_, message);
    if (auto problem = aws_topic_problem(r.topic)) r.problem = "its topic '" + r.topic + "' is too long: " + *problem;
    r.qos = upstream_.qos;
    r.retain = upstream_.retain;
    r.borrow_body(message);
    r.payload_format = message.utf8 ? 1 : 0;
    size_t bytes = 0;
    for (const auto& p : message.properties) {
        bytes += p.key.size() + p.value.size();
        if (bytes > kAwsMaxUserPropertyBytes) break;  // the rest would make AWS refuse the whole message
        r.properties.push_back(p);
    }
    return r;
}

std::string AwsUplinkCodec::batch_key(const Message& message) const {
    if (!upstream_.batch.enabled() || message.kind != Message::Kind::data) return {};
    return reading_topic_.render(topic_, message);
}

std::optional<PublishRequest> AwsUplinkCodec::encode_batch(std::span<const UplinkItem> items) const {
    const Message& first = *items.front().message;
    if (!upstream_.batch.enabled() || first.kind != Message::Kind::data) return encode(first, items.front().id);
    PublishRequest r;
    r.topic = reading_topic_.render(topic_, first);
    if (auto problem = aws_topic_problem(r.topic)) r.problem = "its topic '" + r.topic + "' is too long: " + *problem;
    r.qos = upstream_.qos;
    r.retain = upstream_.retain;
    r.payload = envelope_array(items, reading_topic_.gateway_id());
    r.content_type = "application/json";
    r.payload_format = 1;
    r.properties = shared_properties(items, kAwsMaxUserPropertyBytes);
    return r;
}

AwsAgent::AwsAgent(UpstreamConfig upstream, std::string only_instance, std::function<double()> uniform01)
    : upstream_(std::move(upstream)),
      entities_(upstream_.map, std::move(only_instance)),
      prefix_(aws_shadow_prefix(upstream_.aws)),
      uniform01_(
          uniform01 ? std::move(uniform01)
                    : [rng = std::make_shared<std::mt19937_64>(
                           std::random_device{}())] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); }),
      retry_backoff_(BackoffConfig{kAwsShadowRetryInitial, kAwsShadowRetryMax}, [this] { return uniform01_(); }) {}

std::vector<std::string> AwsAgent::subscriptions() const {
    std::vector<std::string> topics;
    if (upstream_.aws.shadow) {
        for (const char* suffix :
             {"/get/accepted", "/get/rejected", "/update/delta", "/update/accepted", "/update/rejected"})
            topics.push_back(prefix_ + suffix);
    }
    if (!upstream_.aws.command_topic.empty() && upstream_.mqtt_version == 5)
        topics.push_back(upstream_.aws.command_topic);
    return topics;
}

std::string AwsAgent::next_token() {
    // Unique across restarts of the daemon, at most 64 bytes.
    static const auto started =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    return "gwd-" + std::to_string(started) + "-" + std::to_string(++token_counter_);
}

void AwsAgent::send_get(WallTime now, Output& out) {
    awaiting_get_until_ = now + kAwsShadowGetTimeout;
    PublishRequest r;
    r.topic = prefix_ + "/get";
    r.payload = "{\"clientToken\":\"" + next_token() + "\"}";
    r.content_type = "application/json";
    r.payload_format = 1;
    out.publishes.push_back(std::move(r));
}

void AwsAgent::on_online(WallTime now, Output& out) {
    online_ = true;
    // Updates sent on the last connection may never be answered; what they
    // carried is reported again.
    for (auto& [token, update] : in_flight_) {
        give_back(update);
    }
    in_flight_.clear();
    max_fields_per_update_ = 0;
    if (upstream_.aws.shadow) send_get(now, out);
}

void AwsAgent::on_offline() { online_ = false; }

std::string AwsAgent::as_desired(const std::string& field, std::string json) const {
    auto desired = desired_.find(field);
    if (desired == desired_.end() || desired->second == json) return json;
    std::string error;
    auto a = json_parse(json, error);
    auto b = json_parse(desired->second, error);
    if (a && b && a->is_number() && b->is_number() && a->as_number().value == b->as_number().value)
        return desired->second;
    return json;
}

void AwsAgent::set_unreported(const std::string& field, std::string json) {
    const std::uint64_t seq = ++value_seq_;
    newest_seq_[field] = seq;
    unreported_[field] = FieldValue{std::move(json), seq};
}

void AwsAgent::give_back(const Update& update) {
    for (const auto& [field, value] : update.reported) {
        if (newest_seq_[field] == value.seq) unreported_.try_emplace(field, value);
    }
}

void AwsAgent::on_delivered(std::uint64_t, const std::shared_ptr<const Message>& message, WallTime, Output&) {
    if (message->kind != Message::Kind::data) return;
    const std::string value = reading_json_value(*message);
    entities_.remember(*message, value);
    if (!upstream_.aws.shadow) return;
    const PlatformMapping* m = entities_.for_sensor(message->sensor);
    if (!m) return;
    const std::string reported = as_desired(m->property, value);
    auto last = last_reported_.find(m->property);
    if (unreported_.count(m->property) != 0 || last == last_reported_.end() || last->second != reported)
        set_unreported(m->property, reported);
}

// While the shadow's version is known, updates go one at a time: a second
// one on the same version would be refused as a conflict.
bool AwsAgent::may_send_update() const { return in_flight_.size() < (version_ ? size_t{1} : kMaxUpdatesInFlight); }

std::optional<WallTime> AwsAgent::next_tick() const {
    if (!upstream_.aws.shadow || !online_) return std::nullopt;
    // An update left unanswered is given up on.
    std::optional<WallTime> due;
    for (const auto& [token, update] : in_flight_) {
        const WallTime give_up = update.sent_at + kAwsShadowAnswerTimeout;
        if (!due || give_up < *due) due = give_up;
    }
    if (unreported_.empty() || !may_send_update()) return due;
    WallTime report;
    if (awaiting_get_until_)
        report = *awaiting_get_until_;
    else if (report_now_ || !last_update_)
        report = WallTime{};
    else
        report = *last_update_ + upstream_.aws.shadow_interval;
    if (retry_not_before_ && *retry_not_before_ > report) report = *retry_not_before_;
    return due ? std::min(*due, report) : report;
}

void AwsAgent::on_tick(WallTime now, Output& out) {
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
        if (now < it->second.sent_at + kAwsShadowAnswerTimeout) {
            ++it;
            continue;
        }
        Update update = std::move(it->second);
        it = in_flight_.erase(it);
        retry_later(update,
                    "no answer to a shadow update within " + std::to_string(kAwsShadowAnswerTimeout.count()) + "s", now,
                    out);
    }
    const auto due = next_tick();
    if (!due || now < *due || unreported_.empty() || !may_send_update()) return;
    if (retry_not_before_ && now < *retry_not_before_) return;
    if (awaiting_get_until_) {
        if (now < *awaiting_get_until_) return;
        out.say(LogLevel::warning, "the shadow service did not answer the get within " +
                                       std::to_string(kAwsShadowGetTimeout.count()) + "s; reporting without a version");
        awaiting_get_until_.reset();
        version_.reset();
    }
    // One update's worth: fields in name order while the reported state
    // stays under the shadow's 8 KB (and under a 413's lesson).
    Update update;
    update.sent_at = now;
    for (auto it = unreported_.begin(); it != unreported_.end();) {
        const size_t size = json_quote(it->first).size() + 1 + it->second.json.size();
        if (size + 2 <= kAwsMaxShadowStateBytes) {
            ++it;
            continue;
        }
        out.say(LogLevel::warning, "the shadow field '" + it->first + "' is " + std::to_string(size) +
                                       " bytes; a shadow holds at most " + std::to_string(kAwsMaxShadowStateBytes) +
                                       " bytes of state, so this value is not reported (telemetry still carries it)");
        it = unreported_.erase(it);
    }
    std::string reported;
    for (auto it = unreported_.begin(); it != unreported_.end();) {
        const std::string entry = json_quote(it->first) + ":" + it->second.json;
        const size_t grown = reported.size() + (reported.empty() ? 0 : 1) + entry.size() + 2;
        const bool full = !update.reported.empty() &&
                          (grown > kAwsMaxShadowStateBytes ||
                           (max_fields_per_update_ > 0 && update.reported.size() >= max_fields_per_update_));
        if (full) break;
        reported += (reported.empty() ? "" : ",") + entry;
        update.reported.insert(*it);
        it = unreported_.erase(it);
    }
    if (update.reported.empty()) return;
    const std::string token = next_token();
    PublishRequest r;
    r.topic = prefix_ + "/update";
    r.payload = "{\"state\":{\"reported\":{" + reported + "}},\"clientToken\":\"" + token + "\"";
    if (version_) r.payload += ",\"version\":" + std::to_string(*version_);
    r.payload += "}";
    r.content_type = "application/json";
    r.payload_format = 1;
    out.publishes.push_back(std::move(r));
    in_flight_[token] = std::move(update);
    last_update_ = now;
    // What did not fit goes as soon as this one is answered.
    report_now_ = !unreported_.empty();
}

void AwsAgent::retry_later(const Update& update, const std::string& why, WallTime now, Output& out) {
    give_back(update);
    // Full jitter, at least kShadowRetryFloor.
    const Duration delay = retry_backoff_.next_delay(kShadowRetryFloor);
    retry_not_before_ = now + delay;
    report_now_ = true;  // at the retry time, not a shadow_interval later
    out.say(LogLevel::warning, why + "; reporting those values again in " + format_duration(delay));
}

void AwsAgent::on_inbound(const InboundPublish& publish, WallTime now, Output& out) {
    const std::string& topic = publish.topic;
    if (!upstream_.aws.command_topic.empty() && topic == upstream_.aws.command_topic) {
        request(publish, out);
        return;
    }
    if (!topic.starts_with(prefix_ + "/")) return;
    const std::string_view suffix = std::string_view(topic).substr(prefix_.size());
    if (suffix == "/get/accepted") {
        shadow_document(publish.payload, true, now, out);
    } else if (suffix == "/update/delta") {
        shadow_document(publish.payload, false, now, out);
    } else if (suffix == "/update/accepted") {
        update_accepted(publish.payload);
    } else if (suffix == "/update/rejected") {
        update_rejected(publish.payload, now, out);
    } else if (suffix == "/get/rejected") {
        awaiting_get_until_.reset();
        std::string error;
        auto doc = json_parse(publish.payload, error);
        const auto code = doc && doc->is_object() ? integer_member(*doc, "code") : std::nullopt;
        if (code == kShadowNotFound) {
            out.say(LogLevel::info, "the thing has no shadow yet; the first report creates it");
        } else {
            out.say(LogLevel::warning, "getting the shadow failed: " + printable(publish.payload, kQuotedMessage));
        }
    }
}

// get/accepted: {"state":{"desired":..,"reported":..,"delta":{..}},"version":12,...}
// update/delta: {"state":{"field":value,...},"version":13,...}
void AwsAgent::shadow_document(const std::string& payload, bool from_get, WallTime now, Output& out) {
    std::string error;
    auto doc = json_parse(payload, error);
    if (!doc || !doc->is_object()) {
        out.say(LogLevel::warning, "the shadow service sent a document that is not JSON: " + error);
        return;
    }
    if (auto v = integer_member(*doc, "version")) version_ = *v;
    if (from_get) awaiting_get_until_.reset();
    const JsonValue* state = doc->find("state");
    if (!state || !state->is_object()) return;
    if (from_get) {
        if (const JsonValue* desired = state->find("desired"); desired && desired->is_object()) {
            desired_.clear();
            for (const auto& [field, value] : desired->as_object()) desired_[field] = value.dump();
        }
        state = state->find("delta");
        if (!state || !state->is_object()) return;
    }
    // A delta's fields are desired values.
    for (const auto& [field, value] : state->as_object()) desired_[field] = value.dump();
    apply_delta(*state, now, out);
}

void AwsAgent::apply_delta(const JsonValue& state, WallTime, Output& out) {
    for (const auto& member : state.as_object()) {
        const std::string& field = member.first;  // named: clang 14 cannot capture a structured binding
        const JsonValue& value = member.second;
        const PlatformMapping* m = entities_.find([&](const PlatformMapping& e) { return e.property == field; });
        if (!m) {
            if (warned_fields_.insert(field).second) {
                out.say(LogLevel::warning,
                        "the shadow's desired state has '" + field +
                            "', which no [[upstream.map]] shadow_field names; it stays in the delta");
            }
            continue;
        }
        std::string error;
        auto cmd = entities_.command_for(m->sensor, "set", set_params(value.dump()), error);
        if (!cmd) {
            out.say(LogLevel::warning, "cannot apply the shadow's desired '" + field + "': " + error);
            continue;
        }
        const std::uint64_t ticket = next_ticket_++;
        pending_[ticket] = Pending{true, field, value.dump(), {}, {}};
        out.commands.push_back({ticket, std::move(*cmd)});
    }
}

void AwsAgent::update_accepted(const std::string& payload) {
    std::string error;
    auto doc = json_parse(payload, error);
    if (!doc || !doc->is_object()) return;
    auto it = in_flight_.find(string_or_empty(*doc, "clientToken"));
    if (it == in_flight_.end()) return;  // another client's update
    if (auto v = integer_member(*doc, "version")) version_ = *v;
    for (auto& [field, value] : it->second.reported) last_reported_[field] = value.json;
    in_flight_.erase(it);
    retries_after_conflict_ = 0;
    retry_backoff_.reset();
    retry_not_before_.reset();
}

// {"code":409,"message":"Version conflict","clientToken":"..."}
void AwsAgent::update_rejected(const std::string& payload, WallTime now, Output& out) {
    std::string error;
    auto doc = json_parse(payload, error);
    if (!doc || !doc->is_object()) return;
    auto it = in_flight_.find(string_or_empty(*doc, "clientToken"));
    if (it == in_flight_.end()) return;
    Update update = std::move(it->second);
    in_flight_.erase(it);
    const auto code = integer_member(*doc, "code");
    const std::string message = string_or_empty(*doc, "message");
    if (code == kShadowVersionConflict) {
        // Someone changed the shadow since we last saw it: read it again and
        // report on top of the new version. Newer values win over the retry.
        give_back(update);
        if (++retries_after_conflict_ > kAwsMaxShadowRetries) {
            out.say(LogLevel::warning, "the shadow refused " + std::to_string(kAwsMaxShadowRetries) +
                                           " updates in a row for a version conflict; reporting without a version");
            version_.reset();
            retries_after_conflict_ = 0;
            report_now_ = true;
            return;
        }
        out.say(LogLevel::info, "shadow version conflict (409); getting the shadow again before reporting");
        version_.reset();
        report_now_ = true;
        send_get(now, out);
        return;
    }
    const std::string said =
        "code " + (code ? std::to_string(*code) : std::string("?")) + (message.empty() ? "" : " (" + message + ")");
    if (code == kShadowThrottled || code == kShadowInternalError || code == kShadowUnavailable) {
        // Throttled or failing for a while: the values are still true.
        retry_later(update, "the shadow service refused an update for now: " + said, now, out);
        return;
    }
    if (code == kShadowPayloadTooLarge) {
        if (update.reported.size() > 1) {
            max_fields_per_update_ = std::max<size_t>(1, update.reported.size() / 2);
            give_back(update);
            report_now_ = true;
            out.say(LogLevel::notice, "the shadow refused an update as too large (413); sending its " +
                                          std::to_string(update.reported.size()) + " fields in smaller updates");
            return;
        }
        const std::string field = update.reported.empty() ? std::string("?") : update.reported.begin()->first;
        out.say(LogLevel::warning,
                "the shadow refused field '" + field +
                    "' alone as too large (413): the shadow "
                    "document holds at most 8 KB of desired and reported state in all; this value is "
                    "not reported (remove fields with null, or use a named shadow)");
        return;
    }
    out.say(LogLevel::warning, "the shadow refused an update: " + said + "; those values are not reported");
}

void AwsAgent::request(const InboundPublish& publish, Output& out) {
    if (!publish.response_topic || publish.response_topic->empty()) {
        out.say(LogLevel::warning, "a command on " + publish.topic +
                                       " has no Response Topic, so it cannot be answered; ignored (MQTT v5 "
                                       "request/response needs one)");
        return;
    }
    Pending p{false, {}, {}, *publish.response_topic, publish.correlation_data.value_or("")};
    std::string error;
    auto doc = json_parse(publish.payload, error);
    if (!doc || !doc->is_object()) {
        respond(p,
                CommandOutcome::failure(CommandOutcome::Status::invalid,
                                        "the command is not a JSON object" + (error.empty() ? "" : ": " + error)),
                out);
        return;
    }
    const std::string sensor = string_or_empty(*doc, "sensor");
    const std::string name = string_or_empty(*doc, "command");
    const JsonValue* params = doc->find("params");
    if (sensor.empty() || name.empty() || (params && !params->is_object())) {
        respond(p,
                CommandOutcome::failure(CommandOutcome::Status::invalid,
                                        "a command needs \"sensor\", \"command\" and an optional \"params\" object"),
                out);
        return;
    }
    auto cmd = entities_.command_for(sensor, name, params ? params->dump() : "{}", error);
    if (!cmd) {
        respond(p, CommandOutcome::failure(CommandOutcome::Status::unsupported, error), out);
        return;
    }
    const std::uint64_t ticket = next_ticket_++;
    pending_[ticket] = std::move(p);
    out.commands.push_back({ticket, std::move(*cmd)});
}

void AwsAgent::on_command_done(std::uint64_t ticket, const CommandOutcome& outcome, WallTime, Output& out) {
    auto it = pending_.find(ticket);
    if (it == pending_.end()) return;
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (!p.shadow) {
        respond(p, outcome, out);
        return;
    }
    if (!outcome.ok()) {
        out.say(LogLevel::warning, "the plugin did not apply the shadow's desired " + p.field + " = " +
                                       printable(p.desired, 80) + ": " + outcome.message);
        return;
    }
    // Report what the plugin applied (its "value"), else what was desired.
    std::string applied = p.desired;
    std::string error;
    if (auto result = json_parse(outcome.result, error); result && result->is_object()) {
        if (const JsonValue* v = result->find("value")) applied = v->dump();
    }
    set_unreported(p.field, as_desired(p.field, applied));
    report_now_ = true;
}

void AwsAgent::respond(const Pending& p, const CommandOutcome& outcome, Output& out) {
    PublishRequest r;
    r.topic = p.response_topic;
    r.qos = upstream_.qos;
    r.content_type = "application/json";
    r.payload_format = 1;
    r.correlation_data = p.correlation_data;
    if (outcome.ok()) {
        const bool object = !outcome.result.empty() && outcome.result.front() == '{' && json_is_valid(outcome.result);
        r.payload = "{\"status\":\"ok\",\"result\":" + (object ? outcome.result : "{}") + "}";
    } else {
        r.payload = "{\"status\":\"error\",\"code\":\"" + std::string(command_status_name(outcome.status)) +
                    "\",\"error\":" + json_quote(outcome.message) + "}";
        out.say(LogLevel::warning, "answered a command with an error: " + outcome.message);
    }
    out.publishes.push_back(std::move(r));
}

}  // namespace gwd
