// The publishing side of one connection: takes what the outbox holds and
// publishes it with at most `window` publishes unanswered, at the pacer's
// pace, within what CONNACK allowed (QoS, retain, Maximum Packet Size, topic
// aliases). Readings the platform takes together ride along in one publish
// (the codec's batch key; with `batch`, up to max_readings and max_bytes,
// and a young reading may linger for company); a batch too large is cut
// where it still fits. With replay = "live-first", readings queued after the
// connection began go first, in a lane of their own, and the backlog drains
// beside them in replay_share of the window. A reading that expired is
// dropped, one too large is set aside (Delivery), and what the broker
// answers is applied through Delivery. One per connection, on the session's
// thread; no waiting here: the session sleeps, this room decides.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/time_source.h"
#include "config/config.h"
#include "outbox/outbox.h"
#include "upstream/inflight_window.h"
#include "upstream/profiles/uplink.h"
#include "upstream/publish_pacer.h"
#include "upstream/session/delivery.h"
#include "upstream/session/status_board.h"
#include "upstream/topic_aliases.h"
#include "upstream/transport.h"

namespace gwd {

// What CONNACK allowed, for the life of one connection.
struct ConnectionLimits {
    size_t window = 1;
    int qos = 1;
    bool retain = true;
    std::uint32_t maximum_packet_size = 0;  // 0: none announced
    int topic_alias_maximum = 0;            // 0: no aliases
};

// An upper bound of the encoded size of a PUBLISH, for Maximum Packet Size.
std::uint64_t publish_packet_size(const PublishRequest& r);

class PublishPump {
public:
    struct Context {
        const UpstreamConfig& config;
        Outbox& outbox;
        const UplinkCodec& codec;
        PublishPacer& pacer;
        Delivery& delivery;
        StatusBoard& status;
        const TimeSource& time;
    };
    PublishPump(Context context, ConnectionLimits limits, Transport& transport);

    // Publishes while the window, the pace and the queue allow. False when
    // the client would not take a publish: the connection is not sound, and
    // failure() says why.
    bool fill();
    // One of this connection's publishes ended. False when it failed without
    // an answer from the broker (the connection is not sound; failure()).
    bool completed(const PublishCompletion& c);

    // Something could go out now (for the session's wait).
    bool can_publish() const;
    // When a lingering batch is due, if that is all that waits here.
    std::optional<TimeSource::Steady::time_point> linger_until() const {
        return all_lingering_ ? linger_until_ : std::nullopt;
    }
    // While everything lingers, how many new readings could first fill a
    // batch (before that, a new reading is no news until linger_until());
    // otherwise 1.
    size_t readings_to_news() const { return all_lingering_ ? min_missing_ : 1; }
    // From now on batches go as they are (a stop drains the queue).
    void stop_lingering() { lingering_allowed_ = false; }
    // Nothing unanswered, nothing waiting in this room, in Delivery or in the outbox.
    bool drained() const;
    size_t in_flight() const { return inflight_.size(); }
    // The oldest publish unanswered; when none is, one the client would not take.
    std::optional<std::uint64_t> oldest_in_flight() const {
        return inflight_.oldest() ? inflight_.oldest() : failed_id_;
    }
    // Something sent after the oldest still open was acknowledged: that one
    // was not what made the broker close the connection.
    bool acked_after_oldest() const;
    // When this connection first published with a topic alias.
    std::optional<TimeSource::Steady::time_point> first_alias_use() const { return first_alias_use_; }
    const std::string& failure() const { return failure_; }
    const ConnectionLimits& limits() const { return limits_; }

private:
    enum class Outcome { sent, settled, failed };
    struct Published {
        Outcome outcome;
        std::uint64_t lead_id = 0;  // the id the publish travels under
        bool dead_letter = false;
        std::vector<OutboxEntry> leftover;  // a batch's tail that did not fit: next in line
    };
    // A lead and the readings gathered to travel with it.
    struct Group {
        std::string key;                                             // empty: not a batch
        std::vector<OutboxEntry> riders;                             // in id order
        std::vector<size_t> taken_at;                                // their places in pending_, ascending
        std::optional<TimeSource::Steady::time_point> linger_until;  // set: wait for more
        size_t missing = 0;                                          // lingering: readings to a full batch
    };
    // Taken from the outbox, not yet published, in id order: the backlog
    // (the only lane with replay = "oldest-first") or, live-first, what was
    // queued after this connection began.
    struct Pending {
        OutboxEntry entry;
        std::string key;  // its batch key, worked out once (a topic render for mqtt and aws)
    };
    struct Lane {
        bool live = false;
        std::deque<Pending> pending;
    };
    // Takes more from the outbox into the lane; false when it had nothing.
    bool refill(Lane& lane, size_t wanted);
    // The readings of the lane (from `from`) that may travel with `lead`,
    // whose batch key is `key`.
    Group gather(Lane& lane, const OutboxEntry& lead, std::string key, size_t from, bool may_linger);
    bool lane_ready(const Lane& lane) const;
    Lane* next_lane(bool live_done, bool backlog_done);
    bool is_live(std::uint64_t id) const { return live_first_ && id >= split_; }
    Published publish(const OutboxEntry& first, const std::vector<OutboxEntry>& riders, bool batch);

    Context c_;
    ConnectionLimits limits_;
    Transport& transport_;
    InflightWindow inflight_;
    TopicAliases aliases_;
    bool live_first_ = false;
    std::uint64_t split_ = 0;  // live-first: the first id of the live lane
    Lane backlog_;
    Lane live_{true, {}};
    size_t backlog_in_flight_ = 0, live_in_flight_ = 0;
    std::vector<OutboxEntry> taken_;     // scratch for Outbox::take
    std::vector<OutboxEntry> admitted_;  // scratch for publish(): what has not expired of a lead and its riders
    std::optional<TimeSource::Steady::time_point> linger_until_;
    bool all_lingering_ = false;  // what pending_ holds waits for linger_until_ (or more readings)
    size_t min_missing_ = 1;      // the fewest readings a lingering batch lacks
    bool lingering_allowed_ = true;
    std::optional<std::uint64_t> newest_acked_;
    std::optional<TimeSource::Steady::time_point> first_alias_use_;
    std::string failure_;
    std::optional<std::uint64_t> failed_id_;
};

}  // namespace gwd
