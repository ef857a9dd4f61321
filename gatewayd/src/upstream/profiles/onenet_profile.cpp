#include "upstream/profiles/onenet_profile.h"

#include <algorithm>
#include <charconv>

#include "common/json.h"
#include "common/text.h"
#include "upstream/profiles/dead_letter_publish.h"
#include "upstream/profiles/reading_value.h"

namespace gwd {

namespace {

// OneNET's reply code for success; the official C SDK answers failures with 100.
constexpr int kOnenetSuccess = 200;
constexpr int kOnenetFailure = 100;

std::string thing_prefix(const UpstreamConfig& u) {
    return "$sys/" + u.onenet.product_id + "/" + u.onenet.device_name + "/thing/";
}

// The request id as the platform wrote it (a string; tolerated as a number).
std::string id_of(const JsonValue& doc) {
    const JsonValue* id = doc.find("id");
    if (id && id->is_string()) return id->as_string();
    if (id && id->is_number()) return id->as_number().text;
    return {};
}

}  // namespace

OnenetUplinkCodec::OnenetUplinkCodec(UpstreamConfig upstream, std::string gateway_id)
    : upstream_(std::move(upstream)), dead_letters_(upstream_, std::move(gateway_id)) {}

const std::string& OnenetUplinkCodec::identifier(const Message& message) const {
    const PlatformMapping* m = mapping_for(upstream_.map, message.sensor);
    return m ? m->property : message.sensor;
}

std::optional<PublishRequest> OnenetUplinkCodec::encode(const Message& message, std::uint64_t id) const {
    if (message.kind == Message::Kind::dead_letter) return dead_letters_.encode(message);
    const UplinkItem item{id, &message};
    return encode_batch(std::span(&item, 1));
}

std::string OnenetUplinkCodec::batch_key(const Message& message) const {
    return upstream_.batch.enabled() && message.kind == Message::Kind::data ? "post" : "";
}

bool OnenetUplinkCodec::batch_can_take(std::span<const UplinkItem> batch, const Message& next) const {
    const std::string& name = identifier(next);
    return std::none_of(batch.begin(), batch.end(),
                        [&](const UplinkItem& item) { return identifier(*item.message) == name; });
}

std::optional<PublishRequest> OnenetUplinkCodec::encode_batch(std::span<const UplinkItem> items) const {
    const Message& first = *items.front().message;
    if (first.kind == Message::Kind::dead_letter) return dead_letters_.encode(first);
    PublishRequest r;
    r.topic = thing_prefix(upstream_) + "property/post";
    r.qos = upstream_.qos;
    r.content_type = "application/json";
    r.payload_format = 1;
    r.payload = "{\"id\":\"" + std::to_string(items.front().id) + "\",\"version\":\"1.0\",\"params\":{";
    for (size_t i = 0; i < items.size(); ++i) {
        const Message& message = *items[i].message;
        if (i != 0) r.payload += ',';
        r.payload += json_quote(identifier(message)) + ":{\"value\":" + reading_json_value(message) +
                     ",\"time\":" + std::to_string(message.timestamp_ms) + "}";
    }
    r.payload += "}}";
    return r;
}

OnenetAgent::OnenetAgent(UpstreamConfig upstream, std::string only_instance)
    : upstream_(std::move(upstream)),
      entities_(upstream_.map, std::move(only_instance)),
      prefix_(thing_prefix(upstream_)) {}

std::vector<std::string> OnenetAgent::subscriptions() const {
    return {prefix_ + "property/post/reply", prefix_ + "property/set", prefix_ + "property/get",
            prefix_ + "service/+/invoke"};
}

void OnenetAgent::on_delivered(std::uint64_t id, const std::shared_ptr<const Message>& message, WallTime, Output&) {
    if (message->kind != Message::Kind::data) return;
    entities_.remember(*message, reading_json_value(*message));
    auto it = awaiting_.find(id);
    if (it == awaiting_.end()) {
        if (awaiting_.size() >= kMaxAwaitingReply) awaiting_.erase(awaiting_.begin());
        it = awaiting_.emplace(id, std::vector<std::shared_ptr<const Message>>()).first;
    }
    it->second.push_back(message);
}

void OnenetAgent::on_inbound(const InboundPublish& publish, WallTime, Output& out) {
    if (!publish.topic.starts_with(prefix_)) return;
    const std::string_view rest = std::string_view(publish.topic).substr(prefix_.size());
    if (rest == "property/post/reply") {
        post_reply(publish.payload, out);
    } else if (rest == "property/set") {
        property_set(publish.payload, out);
    } else if (rest == "property/get") {
        property_get(publish.payload, out);
    } else if (rest.starts_with("service/") && rest.ends_with("/invoke")) {
        const std::string_view identifier = rest.substr(8, rest.size() - 8 - 7);
        invoke(std::string(identifier), publish.payload, out);
    }
}

void OnenetAgent::post_reply(const std::string& payload, Output& out) {
    std::string error;
    auto doc = json_parse(payload, error);
    if (!doc || !doc->is_object()) {
        out.say(LogLevel::warning,
                "OneNET sent a property post reply that is not JSON: " + printable(payload, kQuotedMessage));
        return;
    }
    const std::string id = id_of(*doc);
    std::uint64_t outbox_id = 0;
    auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), outbox_id);
    if (ec != std::errc() || ptr != id.data() + id.size()) return;  // not one of ours
    auto it = awaiting_.find(outbox_id);
    if (it == awaiting_.end()) return;  // answered already, or forgotten
    const JsonValue* code = doc->find("code");
    const auto value = code && code->is_number() ? code->as_number().integer() : std::nullopt;
    if (value == kOnenetSuccess) {
        confirmed_ += it->second.size();
    } else {
        const JsonValue* msg = doc->find("msg");
        std::string reason = "OneNET refused the property post: code " +
                             (code && code->is_number() ? code->as_number().text : std::string("missing"));
        if (msg && msg->is_string()) reason += " (" + msg->as_string() + ")";
        for (auto& message : it->second) out.refused.push_back({std::move(message), reason});
    }
    awaiting_.erase(it);
}

void OnenetAgent::property_set(const std::string& payload, Output& out) {
    Pending p{prefix_ + "property/set_reply", {}, false};
    std::string error;
    auto doc = json_parse(payload, error);
    if (doc && doc->is_object()) p.id = id_of(*doc);
    const JsonValue* params = doc && doc->is_object() ? doc->find("params") : nullptr;
    if (!params || !params->is_object() || p.id.empty()) {
        reply(
            p,
            CommandOutcome::failure(CommandOutcome::Status::invalid, "a property set needs an id and a params object"),
            out);
        return;
    }
    std::vector<Command> commands;
    for (const auto& member : params->as_object()) {
        const std::string& identifier = member.first;  // named: clang 14 cannot capture a structured binding
        const JsonValue& value = member.second;
        const PlatformMapping* target =
            entities_.find([&](const PlatformMapping& m) { return m.property == identifier; });
        if (!target) {
            reply(p,
                  CommandOutcome::failure(CommandOutcome::Status::unsupported,
                                          "no sensor is mapped to identifier '" + identifier + "'"),
                  out);
            return;
        }
        auto cmd = entities_.command_for(target->sensor, "set", set_params(value.dump()), error);
        if (!cmd) {
            reply(p, CommandOutcome::failure(CommandOutcome::Status::unsupported, error), out);
            return;
        }
        commands.push_back(std::move(*cmd));
    }
    if (commands.empty()) {
        reply(p, CommandOutcome{}, out);
        return;
    }
    requests_.open(std::move(p), std::move(commands), out);
}

void OnenetAgent::property_get(const std::string& payload, Output& out) {
    Pending p{prefix_ + "property/get_reply", {}, true};
    std::string error;
    auto doc = json_parse(payload, error);
    if (doc && doc->is_object()) p.id = id_of(*doc);
    const JsonValue* params = doc && doc->is_object() ? doc->find("params") : nullptr;
    if (!params || !params->is_array() || p.id.empty()) {
        reply(p,
              CommandOutcome::failure(CommandOutcome::Status::invalid,
                                      "a property get needs an id and a params list of identifiers"),
              out);
        return;
    }
    std::string data;
    for (const JsonValue& v : params->as_array()) {
        if (!v.is_string()) continue;
        const PlatformMapping* m =
            entities_.find([&](const PlatformMapping& e) { return e.property == v.as_string(); });
        const EntityMap::Latest* latest = m ? entities_.latest(m->sensor) : nullptr;
        if (!latest) {
            reply(p,
                  CommandOutcome::failure(CommandOutcome::Status::unsupported,
                                          "no value of identifier '" + v.as_string() + "' is known"),
                  out);
            return;
        }
        data += (data.empty() ? "" : ",") + json_quote(v.as_string()) + ":" + latest->json_value;
    }
    reply(p, CommandOutcome{CommandOutcome::Status::ok, "{" + data + "}", {}}, out);
}

void OnenetAgent::invoke(const std::string& identifier, const std::string& payload, Output& out) {
    Pending p{prefix_ + "service/" + identifier + "/invoke_reply", {}, true};
    std::string error;
    auto doc = json_parse(payload, error);
    if (doc && doc->is_object()) p.id = id_of(*doc);
    const JsonValue* params = doc && doc->is_object() ? doc->find("params") : nullptr;
    if (p.id.empty() || (params && !params->is_object())) {
        reply(p,
              CommandOutcome::failure(CommandOutcome::Status::invalid,
                                      "a service invocation needs an id and a params object"),
              out);
        return;
    }
    const PlatformMapping* target = entities_.find([&](const PlatformMapping& m) {
        return std::find(m.commands.begin(), m.commands.end(), identifier) != m.commands.end();
    });
    if (!target) {
        reply(p,
              CommandOutcome::failure(CommandOutcome::Status::unsupported,
                                      "no sensor lists service '" + identifier + "' in its commands"),
              out);
        return;
    }
    auto cmd = entities_.command_for(target->sensor, identifier, params ? params->dump() : "{}", error);
    if (!cmd) {
        reply(p, CommandOutcome::failure(CommandOutcome::Status::unsupported, error), out);
        return;
    }
    requests_.open(std::move(p), {std::move(*cmd)}, out);
}

void OnenetAgent::on_command_done(std::uint64_t ticket, const CommandOutcome& outcome, WallTime, Output& out) {
    if (auto finished = requests_.done(ticket, outcome)) reply(finished->first, finished->second, out);
}

// {"id":"7","code":200,"msg":"success"[,"data":{...}]}
void OnenetAgent::reply(const Pending& p, const CommandOutcome& outcome, Output& out) {
    PublishRequest r;
    r.topic = p.reply_topic;
    r.qos = upstream_.qos;
    r.payload = "{\"id\":" + json_quote(p.id) +
                ",\"code\":" + std::to_string(outcome.ok() ? kOnenetSuccess : kOnenetFailure) +
                ",\"msg\":" + json_quote(outcome.ok() ? "success" : outcome.message);
    if (outcome.ok() && p.with_data) {
        const bool object = !outcome.result.empty() && outcome.result.front() == '{' && json_is_valid(outcome.result);
        r.payload += ",\"data\":" + (object ? outcome.result : "{}");
    }
    r.payload += "}";
    if (!outcome.ok()) out.say(LogLevel::warning, "answered a OneNET request with a failure: " + outcome.message);
    out.publishes.push_back(std::move(r));
}

}  // namespace gwd
