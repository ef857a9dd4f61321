// Every way an entry leaves an upstream's outbox once it was taken: the
// broker acknowledged it (with the readings that rode along in a platform
// batch), refused it (that one message goes to the dead-letter topic and
// holds up nothing behind it), refused it for quota (0x97: the pace halves
// and it goes again a second later), it expired, it is too large, or the
// broker keeps closing the connection while it is the oldest in flight (a
// "poison" message, set aside after kPoisonStrikes). Counted in the status
// board and logged at a bounded rate. Runs on the session's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/message.h"
#include "common/time_source.h"
#include "config/config.h"
#include "outbox/outbox.h"
#include "upstream/publish_pacer.h"
#include "upstream/session/status_board.h"
#include "upstream/transport.h"

namespace gwd {

// After this many connections lost in a row with the same message oldest in
// flight, nothing after it acknowledged and no reason code that excuses the
// message, it goes to the dead-letter topic and the rest flow.
inline constexpr int kPoisonStrikes = 3;
// A 0x97-refused message waits at least this long before it goes again.
inline constexpr std::chrono::milliseconds kQuotaRetryDelay{1000};

// Reason codes of a server DISCONNECT that can be one message's fault.
bool blames_a_message(int reason);

class Delivery {
public:
    struct Context {
        const UpstreamConfig& config;
        Outbox& outbox;
        PublishPacer& pacer;
        StatusBoard& status;
        Logger& log;
        const TimeSource& time;
        // Told of every delivered message and the id of the publish it
        // travelled in (the platform link); may be empty.
        std::function<void(std::uint64_t publish_id, const std::shared_ptr<const Message>& message)> delivered;
    };
    explicit Delivery(Context context);

    // A new connection: the outbox offers again what was taken, so what this
    // room held for the last connection is forgotten.
    void connection_started();

    // `riders` travel in the publish of `lead` (a platform batch).
    void rode_along(std::uint64_t lead, std::vector<OutboxEntry> riders);
    // Applies one answered publish. `dead_letter` says what it was when the
    // in-flight window still knew; else the outbox is asked.
    void settle(const PublishCompletion& c, std::optional<bool> dead_letter);

    // Moves one message out of the way of the others: to the dead-letter
    // topic or, when that is impossible, dropped. Counted and logged.
    void divert(const OutboxEntry& entry, const std::string& why, bool without_payload, int reason);
    // A reading the broker took but the platform then refused (OneNET's post/reply).
    void refused_after_delivery(const std::shared_ptr<const Message>& original, const std::string& reason);
    // A reading whose deadline (ms since the epoch) passed before it went out.
    void expired(const OutboxEntry& entry, std::int64_t deadline_ms);

    // Quota-refused messages due again.
    bool retry_ready() const;
    bool retries_pending() const { return !quota_retry_.empty(); }
    OutboxEntry take_retry();

    // A connection was lost with `oldest` the oldest publish unanswered;
    // `acked_after_oldest`: something sent after it was acknowledged.
    void connection_lost(std::optional<std::uint64_t> oldest, bool acked_after_oldest, int reason,
                         const std::string& cause);

private:
    void log_rejection(LogLevel level, const std::string& line);

    Context c_;
    std::map<std::uint64_t, std::vector<OutboxEntry>> batches_;  // lead id -> readings that rode along
    struct QuotaRetry {
        OutboxEntry entry;
        TimeSource::Steady::time_point not_before;
    };
    std::deque<QuotaRetry> quota_retry_;
    std::uint64_t suspect_id_ = 0;
    int suspect_strikes_ = 0;
    LogRateLimit reject_log_;
    LogRateLimit expiry_log_;
};

}  // namespace gwd
