#include "upstream/session/delivery.h"

#include <cstdio>

#include "common/units.h"
#include "mqtt/reason_codes.h"

namespace gwd {

namespace {

std::string hex_code(int code) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "0x%02X", static_cast<unsigned>(code) & 0xFFu);
    return buffer;
}

std::string suppressed_note(std::uint64_t suppressed) {
    return suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : "";
}

}  // namespace

bool blames_a_message(int reason) {
    switch (reason) {
        case -1:    // no reason: the socket was closed
        case 0x81:  // malformed packet
        case 0x82:  // protocol error
        case 0x90:  // topic name invalid
        case 0x93:  // receive maximum exceeded
        case 0x95:  // packet too large
        case 0x99:  // payload format invalid
            return true;
        default: return false;
    }
}

Delivery::Delivery(Context context) : c_(context) {}

void Delivery::connection_started() {
    quota_retry_.clear();
    batches_.clear();
}

void Delivery::rode_along(std::uint64_t lead, std::vector<OutboxEntry> riders) {
    if (!riders.empty()) batches_[lead] = std::move(riders);
}

void Delivery::settle(const PublishCompletion& c, std::optional<bool> dead_letter) {
    std::vector<OutboxEntry> riders;
    if (auto it = batches_.find(c.id); it != batches_.end()) {
        riders = std::move(it->second);
        batches_.erase(it);
    }
    if (c.ok) {
        // The message itself only when the window forgot what it was, or the agent wants it.
        std::shared_ptr<const Message> message;
        if (!dead_letter || c_.delivered) {
            message = c_.outbox.get(c.id);
            if (!message) return;  // acknowledged twice (sent again after a reconnect)
            if (!dead_letter) dead_letter = message->kind == Message::Kind::dead_letter;
        }
        if (!c_.outbox.acknowledge(c.id)) return;
        std::uint64_t delivered = 1;
        if (c_.delivered) c_.delivered(c.id, message);
        for (const auto& r : riders) {
            if (!c_.outbox.acknowledge(r.id)) continue;
            ++delivered;
            if (c_.delivered) c_.delivered(c.id, r.message);  // under the publish's id
        }
        c_.status.update([&](UpstreamStatus& s) { (*dead_letter ? s.dead_lettered : s.sent) += delivered; });
        return;
    }
    c_.status.record_failure("the broker refused a publish: " + describe_reason(5, c.reason), c.reason, 5);
    if (c.reason == 0x97) {
        // Quota exceeded: not this message's fault. Slow down and send it again.
        const auto now = c_.time.now();
        c_.pacer.quota_exceeded(now);
        if (auto message = c_.outbox.get(c.id))
            quota_retry_.push_back({OutboxEntry{c.id, message}, now + kQuotaRetryDelay});
        for (const auto& r : riders) quota_retry_.push_back({r, now + kQuotaRetryDelay});
        c_.status.update([&](UpstreamStatus& s) { s.publish_rate_limit = c_.pacer.current_rate(); });
        log_rejection(LogLevel::warning, "the broker refused a publish: Quota exceeded (0x97); slowing down to " +
                                             std::to_string(static_cast<int>(c_.pacer.current_rate())) +
                                             " publishes/s");
        return;
    }
    const std::string why = "the broker refused it: " + describe_reason(5, c.reason);
    if (auto message = c_.outbox.get(c.id)) {
        divert(OutboxEntry{c.id, message}, why, false, c.reason);
    } else {
        c_.outbox.remove(c.id, Removal::discarded);
    }
    for (const auto& r : riders) divert(r, why, false, c.reason);
}

void Delivery::divert(const OutboxEntry& entry, const std::string& why, bool without_payload, int reason) {
    const Message& original = *entry.message;
    const bool can_dead_letter = !c_.config.dead_letter_topic.empty() && original.kind != Message::Kind::dead_letter;
    std::string fate;
    if (can_dead_letter) {
        auto dead = std::make_shared<Message>(original);
        dead->kind = Message::Kind::dead_letter;
        dead->error = why;
        if (reason >= 0) dead->properties.push_back({"reason_code", hex_code(reason)});
        if (without_payload) {
            dead->properties.push_back({"payload_size", std::to_string(original.payload.size())});
            dead->payload.clear();
        }
        // Counted as dead-lettered when the broker acknowledges it there.
        if (c_.outbox.append(std::move(dead))) {
            fate = "sent to the dead-letter topic";
        } else {
            fate = "dropped (the outbox is full)";
            c_.status.update([](UpstreamStatus& s) { ++s.dropped; });
        }
    } else {
        fate = original.kind == Message::Kind::dead_letter ? "dropped (it was a dead letter already)"
                                                           : "dropped (no dead_letter_topic)";
        c_.status.update([](UpstreamStatus& s) { ++s.dropped; });
    }
    c_.outbox.remove(entry.id, Removal::discarded);  // the dead letter, if any, carries it on
    log_rejection(LogLevel::error, "a message from sensor '" + original.sensor + "' was " + why + "; " + fate);
}

void Delivery::refused_after_delivery(const std::shared_ptr<const Message>& original, const std::string& reason) {
    c_.status.update([](UpstreamStatus& s) { ++s.refused_by_platform; });
    std::string fate = "dropped (no dead_letter_topic)";
    if (!c_.config.dead_letter_topic.empty()) {
        auto dead = std::make_shared<Message>(*original);
        dead->kind = Message::Kind::dead_letter;
        dead->error = reason;
        fate = c_.outbox.append(std::move(dead)) ? "sent to the dead-letter topic" : "dropped (the outbox is full)";
    }
    log_rejection(LogLevel::error, "a reading from sensor '" + original->sensor + "': " + reason + "; " + fate);
}

void Delivery::expired(const OutboxEntry& entry, std::int64_t deadline_ms) {
    c_.outbox.remove(entry.id, Removal::expired);
    std::uint64_t suppressed = 0;
    if (expiry_log_.allow(c_.time.now(), suppressed)) {
        c_.log.info("a reading from sensor '" + entry.message->sensor + "' expired " +
                    format_duration(Duration(c_.time.wall_ms() - deadline_ms)) + " before it could be sent; dropped" +
                    suppressed_note(suppressed));
    }
}

bool Delivery::retry_ready() const { return !quota_retry_.empty() && quota_retry_.front().not_before <= c_.time.now(); }

OutboxEntry Delivery::take_retry() {
    OutboxEntry entry = std::move(quota_retry_.front().entry);
    quota_retry_.pop_front();
    return entry;
}

void Delivery::connection_lost(std::optional<std::uint64_t> oldest, bool acked_after_oldest, int reason,
                               const std::string& cause) {
    if (!oldest || acked_after_oldest || !blames_a_message(reason)) {
        suspect_strikes_ = 0;
        return;
    }
    if (*oldest != suspect_id_) {
        suspect_id_ = *oldest;
        suspect_strikes_ = 0;
    }
    if (++suspect_strikes_ < kPoisonStrikes) return;
    suspect_strikes_ = 0;
    if (auto message = c_.outbox.get(suspect_id_)) {
        // mosquitto and AWS IoT Core close the connection on a publish
        // their ACL or policy denies, without a word.
        const std::string policy = reason < 0 ? "; its topic may not be allowed by the broker's policy" : "";
        // The payload stays with the dead letter unless its size was the complaint.
        divert(OutboxEntry{suspect_id_, message},
               "the oldest in flight each of the " + std::to_string(kPoisonStrikes) +
                   " times the broker closed the connection (last: " + cause + ")" + policy,
               reason == 0x95, -1);
    }
}

void Delivery::log_rejection(LogLevel level, const std::string& line) {
    std::uint64_t suppressed = 0;
    if (reject_log_.allow(c_.time.now(), suppressed)) c_.log.log(level, line + suppressed_note(suppressed));
}

}  // namespace gwd
