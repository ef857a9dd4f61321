#include "upstream/session/publish_pump.h"

#include <algorithm>
#include <iterator>

#include "common/expiry.h"

namespace gwd {

namespace {

// Readings taken from the outbox ahead of the next to go, at most, while a
// batch looks for company (other topics' readings are passed over).
constexpr size_t kMaxLookAhead = 1024;

// What a reading adds to a batch, for gathering; the encoding then decides
// (a batch found too large is cut).
std::uint64_t approx_batch_bytes(const Message& m) {
    std::uint64_t bytes = m.payload.size() + m.sensor.size() + m.content_type.size() + 64;
    for (const auto& p : m.properties) bytes += p.key.size() + p.value.size() + 6;
    return bytes;
}

}  // namespace

std::uint64_t publish_packet_size(const PublishRequest& r) {
    std::uint64_t props = 0;
    if (r.content_type) props += 3 + r.content_type->size();
    if (r.payload_format) props += 2;
    props += 2 + 5;  // topic alias, message expiry
    for (const auto& p : r.properties) props += 5 + p.key.size() + p.value.size();
    const std::uint64_t variable = 2 + r.topic.size() + 2 + 4 + props + r.payload.size();
    return 1 + 4 + variable;
}

PublishPump::PublishPump(Context context, ConnectionLimits limits, Transport& transport)
    : c_(context), limits_(limits), transport_(transport) {
    aliases_.reset(limits_.topic_alias_maximum);
}

bool PublishPump::can_publish() const {
    if (inflight_.size() >= limits_.window || c_.pacer.wait(c_.time.now()).count() > 0) return false;
    if (c_.delivery.retry_ready() || c_.outbox.has_untaken()) return true;
    if (pending_.empty()) return false;
    return !all_lingering_ || !linger_until_ || c_.time.now() >= *linger_until_;
}

bool PublishPump::drained() const {
    return inflight_.size() == 0 && !c_.delivery.retries_pending() && pending_.empty() && !c_.outbox.has_untaken();
}

bool PublishPump::acked_after_oldest() const {
    const auto oldest = oldest_in_flight();
    return oldest && newest_acked_ && *newest_acked_ > *oldest;
}

bool PublishPump::completed(const PublishCompletion& c) {
    if (!c.answered()) {
        // No answer, only a failure: the entry stays unanswered, so the
        // oldest in flight stays known.
        failure_ = "a publish failed: " + transport_.error_text(c.client_code);
        return false;
    }
    if (!newest_acked_ || c.id > *newest_acked_) newest_acked_ = c.id;
    c_.delivery.settle(c, inflight_.settle(c.id));
    c_.status.set_in_flight(static_cast<int>(inflight_.size()));
    return true;
}

bool PublishPump::refill(size_t wanted) {
    taken_.clear();
    if (wanted == 0 || c_.outbox.take(wanted, taken_) == 0) return false;
    for (OutboxEntry& e : taken_) pending_.push_back(std::move(e));
    taken_.clear();
    return true;
}

PublishPump::Group PublishPump::gather(const OutboxEntry& lead, size_t from, bool may_linger) {
    Group g;
    g.key = c_.codec.batch_key(*lead.message);
    if (g.key.empty()) return g;
    const size_t max = c_.codec.max_batch(g.key);
    const BatchConfig& batch = c_.config.batch;
    std::vector<UplinkItem> items{{lead.id, lead.message.get()}};
    std::uint64_t bytes = approx_batch_bytes(*lead.message);
    bool full = false;  // no more may join, or none fits
    size_t at = from;
    while (!full) {
        if (items.size() >= max) {
            full = true;
        } else if (at >= pending_.size()) {
            // Looked far enough ahead: go with what there is.
            if (pending_.size() - from >= kMaxLookAhead)
                full = true;
            else if (!refill(std::min(max - items.size(), kMaxLookAhead)))
                break;  // nothing more for now
        } else if (const OutboxEntry& e = pending_[at]; c_.codec.batch_key(*e.message) != g.key) {
            ++at;  // another topic or device: it goes in its own publish
        } else if (!c_.codec.batch_can_take(items, *e.message) ||
                   (batch.enabled() && bytes + approx_batch_bytes(*e.message) > batch.max_bytes)) {
            full = true;
        } else {
            items.push_back({e.id, e.message.get()});
            bytes += approx_batch_bytes(*e.message);
            g.riders.push_back(e);
            g.taken_at.push_back(at++);
        }
    }
    if (!full && may_linger && lingering_allowed_ && batch.enabled() && batch.linger.count() > 0) {
        const std::int64_t wait_ms = lead.message->accepted_ms + batch.linger.count() - c_.time.wall_ms();
        if (wait_ms > 0) g.linger_until = c_.time.now() + std::chrono::milliseconds(wait_ms);
    }
    return g;
}

bool PublishPump::fill() {
    linger_until_.reset();
    all_lingering_ = false;
    std::vector<std::string> lingering;  // batch keys waiting for company in this round
    auto lingers = [&](const OutboxEntry& e) {
        return !lingering.empty() &&
               std::find(lingering.begin(), lingering.end(), c_.codec.batch_key(*e.message)) != lingering.end();
    };
    size_t from = 0;  // what pending_ holds before it lingers
    while (inflight_.size() < limits_.window) {
        const auto now = c_.time.now();
        if (c_.pacer.wait(now).count() > 0) break;
        OutboxEntry lead;
        const bool retry = c_.delivery.retry_ready();
        if (retry) {
            lead = c_.delivery.take_retry();
        } else {
            while (from < pending_.size() && lingers(pending_[from])) ++from;
            if (from >= pending_.size()) {
                if (refill(limits_.window - inflight_.size())) continue;
                all_lingering_ = !pending_.empty();
                if (all_lingering_) c_.outbox.consumer_lingers();
                break;
            }
            lead = pending_[from];
        }
        Group group = gather(lead, retry ? 0 : from + 1, !retry);
        if (group.linger_until) {
            lingering.push_back(group.key);
            if (!linger_until_ || *group.linger_until < *linger_until_) linger_until_ = group.linger_until;
            continue;
        }
        for (auto it = group.taken_at.rbegin(); it != group.taken_at.rend(); ++it)
            pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(*it));
        if (!retry) pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(from));
        Published r = publish(lead, group.riders, !group.key.empty());
        if (!r.leftover.empty()) {
            pending_.insert(pending_.begin() + static_cast<std::ptrdiff_t>(from),
                            std::make_move_iterator(r.leftover.begin()), std::make_move_iterator(r.leftover.end()));
        }
        if (r.outcome == Outcome::sent) {
            c_.pacer.record_sent(now);
            inflight_.sent(r.lead_id, r.dead_letter);
        } else if (r.outcome == Outcome::failed) {
            failed_id_ = lead.id;
            c_.status.set_in_flight(static_cast<int>(inflight_.size()));
            return false;
        }
    }
    c_.status.set_in_flight(static_cast<int>(inflight_.size()));
    return true;
}

// Publishes `first` and the readings riding along with it (a platform
// batch) as one message; expired ones are dropped first.
PublishPump::Published PublishPump::publish(const OutboxEntry& first, const std::vector<OutboxEntry>& riders,
                                            bool batch) {
    std::vector<OutboxEntry> live;
    std::uint32_t remaining_s = 0;  // the soonest expiry among them; 0: none
    const std::int64_t wall_ms = c_.time.wall_ms();
    auto admit = [&](const OutboxEntry& entry) {
        const Message& message = *entry.message;
        const std::int64_t deadline =
            earlier_deadline(message.expires_at_ms, deadline_after(message.accepted_ms, c_.config.message_expiry));
        const ExpiryVerdict expiry = check_expiry(deadline, wall_ms);
        if (expiry.expired) {
            c_.delivery.expired(entry, deadline);
            return;
        }
        if (expiry.remaining_s > 0 && (remaining_s == 0 || expiry.remaining_s < remaining_s))
            remaining_s = expiry.remaining_s;
        live.push_back(entry);
    };
    admit(first);
    for (const auto& r : riders) admit(r);
    if (live.empty()) return {Outcome::settled, 0, false, {}};
    // The first n of them as one publish.
    auto encode_first = [&](size_t n) {
        if (n == 1 && !batch) return c_.codec.encode(*live.front().message, live.front().id);
        std::vector<UplinkItem> items;
        for (size_t i = 0; i < n; ++i) items.push_back({live[i].id, live[i].message.get()});
        return c_.codec.encode_batch(items);
    };
    // How many times too large for the platform, the broker or (a batch of
    // several) `batch.max_bytes`; <= 1: it fits.
    auto oversize = [&](const PublishRequest& r, size_t n) {
        const std::uint64_t platform = r.max_payload.value_or(c_.config.max_payload);
        double factor = platform > 0 ? static_cast<double>(r.payload.size()) / static_cast<double>(platform) : 0;
        if (n > 1 && c_.config.batch.enabled())
            factor = std::max(factor, static_cast<double>(r.payload.size()) / c_.config.batch.max_bytes);
        if (limits_.maximum_packet_size > 0)
            factor = std::max(factor, static_cast<double>(publish_packet_size(r)) / limits_.maximum_packet_size);
        return factor;
    };
    // A batch too big (not its readings) is cut where it still fits; the
    // rest goes next, as a batch of its own.
    size_t n = live.size();
    std::optional<PublishRequest> request = encode_first(n);
    while (request && n > 1 && oversize(*request, n) > 1) {
        n = std::min(n - 1, std::max<size_t>(1, static_cast<size_t>(static_cast<double>(n) / oversize(*request, n))));
        request = encode_first(n);
    }
    std::vector<OutboxEntry> leftover(live.begin() + static_cast<std::ptrdiff_t>(n), live.end());
    live.resize(n);
    const OutboxEntry& entry = live.front();
    if (!request) {
        // Not for this upstream (a dead letter without a dead-letter topic).
        for (const auto& e : live) c_.outbox.remove(e.id, Removal::discarded);
        c_.status.update([&](UpstreamStatus& s) { s.dropped += live.size(); });
        return {Outcome::settled, 0, false, std::move(leftover)};
    }
    const std::uint64_t platform_limit = request->max_payload.value_or(c_.config.max_payload);
    const bool too_large_for_platform = platform_limit > 0 && request->payload.size() > platform_limit;
    const bool too_large_for_broker =
        limits_.maximum_packet_size > 0 && publish_packet_size(*request) > limits_.maximum_packet_size;
    if (request->problem) {
        c_.delivery.divert(entry, *request->problem, false, -1);
        return {Outcome::settled, 0, false, std::move(leftover)};
    }
    if (too_large_for_platform) {
        c_.delivery.divert(entry,
                           "larger than the platform's limit of " + std::to_string(platform_limit) + " bytes (" +
                               std::to_string(request->payload.size()) + " bytes)",
                           true, -1);
        return {Outcome::settled, 0, false, std::move(leftover)};
    }
    if (too_large_for_broker) {
        c_.delivery.divert(
            entry,
            "larger than the broker's Maximum Packet Size of " + std::to_string(limits_.maximum_packet_size) + " bytes",
            true, -1);
        return {Outcome::settled, 0, false, std::move(leftover)};
    }
    if (const std::uint32_t cap = c_.codec.max_message_expiry_s(); cap > 0 && remaining_s > cap) remaining_s = cap;
    OutgoingPublish out;
    out.payload = &request->payload;
    out.qos = std::min(request->qos, limits_.qos);
    out.retain = request->retain && limits_.retain;
    std::string no_topic;
    out.topic = &request->topic;
    if (c_.config.mqtt_version == 5) {
        if (request->content_type) out.content_type = &*request->content_type;
        if (request->payload_format) out.payload_format = *request->payload_format;
        out.properties = &request->properties;
        out.message_expiry_s = remaining_s;  // what is left of it
        const TopicAliases::Use alias = aliases_.use(request->topic);
        out.topic_alias = alias.alias;
        if (alias.alias > 0 && !first_alias_use_) first_alias_use_ = c_.time.now();
        if (alias.alias > 0 && !alias.send_topic) out.topic = &no_topic;
        if (alias.alias > 0) c_.status.update([&](UpstreamStatus& s) { s.topic_aliases = aliases_.assigned(); });
    }
    const int rc = transport_.publish(out, entry.id);
    if (rc != 0) {
        failure_ = "publishing failed: " + transport_.error_text(rc);
        return {Outcome::failed, entry.id, false, {}};
    }
    if (live.size() > 1) c_.delivery.rode_along(entry.id, std::vector<OutboxEntry>(live.begin() + 1, live.end()));
    return {Outcome::sent, entry.id, entry.message->kind == Message::Kind::dead_letter, std::move(leftover)};
}

}  // namespace gwd
