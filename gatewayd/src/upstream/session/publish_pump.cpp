#include "upstream/session/publish_pump.h"

#include <algorithm>
#include <iterator>
#include <limits>

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
    if (const std::string* type = r.content_type_text()) props += 3 + type->size();
    if (r.payload_format) props += 2;
    props += 2 + 5;  // topic alias, message expiry
    for (const auto& p : r.properties) props += 5 + p.key.size() + p.value.size();
    const std::uint64_t variable = 2 + r.topic.size() + 2 + 4 + props + r.payload_bytes().size();
    return 1 + 4 + variable;
}

PublishPump::PublishPump(Context context, ConnectionLimits limits, Transport& transport)
    : c_(context), limits_(limits), transport_(transport) {
    aliases_.reset(limits_.topic_alias_maximum);
    if (c_.config.replay == ReplayOrder::live_first) {
        // What is queued now is the backlog; what comes from now on is live.
        live_first_ = true;
        split_ = c_.outbox.next_id();
        c_.outbox.split_lanes(split_);
    }
}

bool PublishPump::lane_ready(const Lane& lane) const {
    return !lane.pending.empty() || (lane.live ? c_.outbox.has_untaken_live() : c_.outbox.has_untaken());
}

bool PublishPump::can_publish() const {
    if (inflight_.size() >= limits_.window) return false;
    // An unlimited pacer never holds a publish back: spare the clock read.
    if (c_.pacer.current_rate() > 0 && c_.pacer.wait(c_.time.now()).count() > 0) return false;
    if (c_.delivery.retry_ready() || c_.outbox.has_untaken() || (live_first_ && c_.outbox.has_untaken_live()))
        return true;
    if (backlog_.pending.empty() && live_.pending.empty()) return false;
    return !all_lingering_ || !linger_until_ || c_.time.now() >= *linger_until_;
}

bool PublishPump::drained() const {
    return inflight_.size() == 0 && !c_.delivery.retries_pending() && backlog_.pending.empty() &&
           live_.pending.empty() && !c_.outbox.has_untaken() && !(live_first_ && c_.outbox.has_untaken_live());
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
    const std::optional<bool> dead_letter = inflight_.settle(c.id);
    if (dead_letter) {
        size_t& lane = is_live(c.id) ? live_in_flight_ : backlog_in_flight_;
        if (lane > 0) --lane;
    }
    c_.delivery.settle(c, dead_letter);
    c_.status.set_in_flight(static_cast<int>(inflight_.size()));
    return true;
}

bool PublishPump::refill(Lane& lane, size_t wanted) {
    taken_.clear();
    if (wanted == 0) return false;
    if ((lane.live ? c_.outbox.take_live(wanted, taken_) : c_.outbox.take(wanted, taken_)) == 0) return false;
    for (OutboxEntry& e : taken_) {
        std::string key = c_.codec.batch_key(*e.message);
        lane.pending.push_back({std::move(e), std::move(key)});
    }
    taken_.clear();
    return true;
}

PublishPump::Group PublishPump::gather(Lane& lane, const OutboxEntry& lead, std::string key, size_t from,
                                       bool may_linger) {
    Group g;
    g.key = std::move(key);
    if (g.key.empty()) return g;
    const size_t max = c_.codec.max_batch(g.key);
    const BatchConfig& batch = c_.config.batch;
    std::vector<UplinkItem> items{{lead.id, lead.message.get()}};
    std::uint64_t bytes = approx_batch_bytes(*lead.message);
    bool full = false;  // no more may join, or none fits
    size_t at = from;
    auto& pending = lane.pending;
    while (!full) {
        if (items.size() >= max) {
            full = true;
        } else if (at >= pending.size()) {
            // Looked far enough ahead: go with what there is.
            if (pending.size() - from >= kMaxLookAhead)
                full = true;
            else if (!refill(lane, std::min(max - items.size(), kMaxLookAhead)))
                break;  // nothing more for now
        } else if (const Pending& p = pending[at]; p.key != g.key) {
            ++at;  // another topic or device: it goes in its own publish
        } else if (!c_.codec.batch_can_take(items, *p.entry.message) ||
                   (batch.enabled() && bytes + approx_batch_bytes(*p.entry.message) > batch.max_bytes)) {
            full = true;
        } else {
            items.push_back({p.entry.id, p.entry.message.get()});
            bytes += approx_batch_bytes(*p.entry.message);
            g.riders.push_back(p.entry);
            g.taken_at.push_back(at++);
        }
    }
    if (!full && may_linger && lingering_allowed_ && batch.enabled() && batch.linger.count() > 0) {
        const std::int64_t wait_ms = lead.message->accepted_ms + batch.linger.count() - c_.time.wall_ms();
        if (wait_ms > 0) {
            g.linger_until = c_.time.now() + std::chrono::milliseconds(wait_ms);
            // Readings of one topic are alike in size: assume the rest twice
            // the first's, so that a batch full by max_bytes is not missed.
            const std::uint64_t room = batch.max_bytes > bytes ? batch.max_bytes - bytes : 0;
            const std::uint64_t by_bytes = room / (2 * std::max<std::uint64_t>(1, approx_batch_bytes(*lead.message)));
            g.missing = std::max<size_t>(1, std::min<std::uint64_t>(max - items.size(), by_bytes));
        }
    }
    return g;
}

// Live-first: which lane the next publish comes from. New readings go first
// until they hold their share of the window (1 - replay_share); the backlog
// has the rest, and either takes the whole window while the other is idle.
PublishPump::Lane* PublishPump::next_lane(bool live_done, bool backlog_done) {
    const bool live = !live_done && live_first_ && lane_ready(live_);
    const bool backlog = !backlog_done && lane_ready(backlog_);
    if (live && backlog) {
        const size_t backlog_share = std::max<size_t>(
            1, static_cast<size_t>(c_.config.replay_share * static_cast<double>(limits_.window) + 0.5));
        const size_t live_share = limits_.window > backlog_share ? limits_.window - backlog_share : 1;
        return live_in_flight_ >= live_share && backlog_in_flight_ < backlog_share ? &backlog_ : &live_;
    }
    if (live) return &live_;
    if (backlog) return &backlog_;
    return nullptr;
}

bool PublishPump::fill() {
    linger_until_.reset();
    all_lingering_ = false;
    min_missing_ = std::numeric_limits<size_t>::max();
    struct Round {
        std::vector<std::string> lingering;  // batch keys waiting for company in this round
        size_t from = 0;                     // what the lane's pending holds before it lingers
        bool done = false;                   // nothing more from this lane in this round
    };
    Round rounds[2];  // backlog, live
    bool exhausted = false;
    auto round_of = [&](const Lane& lane) -> Round& { return rounds[lane.live ? 1 : 0]; };
    while (inflight_.size() < limits_.window) {
        if (c_.pacer.current_rate() > 0 && c_.pacer.wait(c_.time.now()).count() > 0) break;
        OutboxEntry lead;
        std::string lead_key;
        Lane* lane = nullptr;
        const bool retry = c_.delivery.retry_ready();
        if (retry) {
            lead = c_.delivery.take_retry();
            lane = live_first_ && lead.id >= split_ ? &live_ : &backlog_;
        } else {
            lane = next_lane(rounds[1].done, rounds[0].done);
            if (lane == nullptr) {
                exhausted = true;
                break;
            }
            Round& r = round_of(*lane);
            auto lingers = [&](const Pending& p) {
                return !r.lingering.empty() &&
                       std::find(r.lingering.begin(), r.lingering.end(), p.key) != r.lingering.end();
            };
            while (r.from < lane->pending.size() && lingers(lane->pending[r.from])) ++r.from;
            if (r.from >= lane->pending.size()) {
                if (refill(*lane, limits_.window - inflight_.size())) continue;
                r.done = true;
                continue;
            }
            lead = lane->pending[r.from].entry;
            lead_key = lane->pending[r.from].key;
        }
        Round& r = round_of(*lane);
        if (retry) lead_key = c_.codec.batch_key(*lead.message);
        Group group = gather(*lane, lead, std::move(lead_key), retry ? 0 : r.from + 1, !retry);
        if (group.linger_until) {
            r.lingering.push_back(group.key);
            min_missing_ = std::min(min_missing_, group.missing);
            if (!linger_until_ || *group.linger_until < *linger_until_) linger_until_ = group.linger_until;
            continue;
        }
        auto& pending = lane->pending;
        for (auto it = group.taken_at.rbegin(); it != group.taken_at.rend(); ++it)
            pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(*it));
        if (!retry) pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(r.from));
        Published published = publish(lead, group.riders, !group.key.empty());
        if (!published.leftover.empty()) {
            std::vector<Pending> back;
            for (OutboxEntry& e : published.leftover) {
                std::string key = c_.codec.batch_key(*e.message);
                back.push_back({std::move(e), std::move(key)});
            }
            pending.insert(pending.begin() + static_cast<std::ptrdiff_t>(retry ? 0 : r.from),
                           std::make_move_iterator(back.begin()), std::make_move_iterator(back.end()));
        }
        if (published.outcome == Outcome::sent) {
            c_.pacer.record_sent(c_.time.now());
            inflight_.sent(published.lead_id, published.dead_letter);
            ++(is_live(published.lead_id) ? live_in_flight_ : backlog_in_flight_);
        } else if (published.outcome == Outcome::failed) {
            failed_id_ = lead.id;
            c_.status.set_in_flight(static_cast<int>(inflight_.size()));
            return false;
        }
    }
    // Both lanes had nothing more to send: what they hold waits for company.
    if (exhausted) {
        all_lingering_ = !backlog_.pending.empty() || !live_.pending.empty();
        if (all_lingering_) c_.outbox.consumer_lingers();
    }
    c_.status.set_in_flight(static_cast<int>(inflight_.size()));
    return true;
}

// Publishes `first` and the readings riding along with it (a platform
// batch) as one message; expired ones are dropped first.
PublishPump::Published PublishPump::publish(const OutboxEntry& first, const std::vector<OutboxEntry>& riders,
                                            bool batch) {
    // Reused: one publish per reading must not cost an allocation.
    std::vector<OutboxEntry>& live = admitted_;
    live.clear();
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
        const auto bytes = static_cast<double>(r.payload_bytes().size());
        double factor = platform > 0 ? bytes / static_cast<double>(platform) : 0;
        if (n > 1 && c_.config.batch.enabled()) factor = std::max(factor, bytes / c_.config.batch.max_bytes);
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
    const bool too_large_for_platform = platform_limit > 0 && request->payload_bytes().size() > platform_limit;
    const bool too_large_for_broker =
        limits_.maximum_packet_size > 0 && publish_packet_size(*request) > limits_.maximum_packet_size;
    if (request->problem) {
        c_.delivery.divert(entry, *request->problem, false, -1);
        return {Outcome::settled, 0, false, std::move(leftover)};
    }
    if (too_large_for_platform) {
        c_.delivery.divert(entry,
                           "larger than the platform's limit of " + std::to_string(platform_limit) + " bytes (" +
                               std::to_string(request->payload_bytes().size()) + " bytes)",
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
    out.payload = &request->payload_bytes();
    out.qos = std::min(request->qos, limits_.qos);
    out.retain = request->retain && limits_.retain;
    std::string no_topic;
    out.topic = &request->topic;
    if (c_.config.mqtt_version == 5) {
        out.content_type = request->content_type_text();
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
