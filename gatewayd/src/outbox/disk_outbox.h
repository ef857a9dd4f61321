// The durable outbox: a QueueFile (SQLite, WAL) per upstream, with a small
// write-behind buffer in memory.
//
//   append ──► memory tail ──committer thread──► queue file ──► take (backlog)
//                  └──────────── take (live) ─────────┘
//
// - append() only queues in memory and wakes the committer, so a plugin never
//   waits for the disk (unless the disk falls more than kMaxPendingBytes
//   behind: then it waits, rather than let memory grow).
// - The committer writes everything pending in one transaction, then settles
//   the readings' store tickets (now a crash of gatewayd cannot lose them), and
//   with fsync = "batch" makes the writes durable against power loss at most
//   every fsync_interval ("always": every commit; "never": the kernel decides).
// - An entry acknowledged before its commit is never written at all, and the
//   committer gives the live stream the chance. While the consumer is
//   taking (it asked within kConsumerActive), an entry is written only once
//   it is kLiveWriteDelay old; otherwise (the upstream is away or stalled)
//   once it is kIdleWriteDelay old, so readings reach the disk almost at
//   once. A healthy upstream's readings are acknowledged before, so they
//   cost no write, no delete and no wake-up of the committer; their store
//   tickets settle at delivery, and a source that waits for stored() (an
//   MQTT QoS 1 sensor broker) is held back by the upstream's pace instead of
//   filling the disk. The write-behind bound (kMaxPendingBytes / 2) still
//   forces writes. While the consumer holds readings back on purpose (a
//   batch lingering for company), they are written at the committer's next
//   look (within kConsumerActive) if appends paused for kLingerQuiet: a
//   source that waits for stored() before it sends more goes quiet, and then
//   gets its window back; a source that keeps sending is not waiting, and its
//   readings go with their batch, unwritten. Deletes of written rows wait up
//   to kDeleteDelay and go together.
// - The memory tail keeps recent entries that were not yet taken, up to
//   kRamCacheBytes, so a healthy upstream is fed without reading the disk;
//   older backlog is read from the file in id order. Memory stays flat
//   however long the backlog is.
// - max_bytes counts record bytes plus a per-row overhead, close to the
//   file's real growth. drop-newest refuses at append; drop-oldest is enforced
//   by the committer, which deletes the oldest rows.
// - A full disk is logged once and handled by the same overflow policy.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "outbox/id_ranges.h"
#include "outbox/outbox.h"
#include "outbox/queue_file.h"
#include "outbox/taken_sizes.h"

namespace gwd {

class DiskOutbox final : public Outbox {
public:
    struct Settings {
        std::filesystem::path file;
        std::uint64_t max_bytes = kDefaultDiskOutboxBytes;
        OverflowPolicy overflow = OverflowPolicy::drop_oldest;
        FsyncPolicy fsync = FsyncPolicy::batch;
        std::chrono::milliseconds fsync_interval{50};
    };

    // Bytes counted per row on top of its record: SQLite's cell and page overhead.
    static constexpr std::uint64_t kRowOverhead = 16;
    // Small on purpose: each byte held here costs about two in resident memory
    // (allocator overhead, and the per-thread arenas a burst spreads it over).
    // At 256 KiB each (and SQLite caches of 512 KiB) a 1,000,000-reading burst
    // took gatewayd from 11.7 to 13.8 MiB; at these sizes the appends/s of
    // bench_outbox do not change (147k vs 149k/s, noise) and the burst costs
    // 1.2 MiB. 64 KiB of recent entries still covers several windows of
    // publishes in flight.
    static constexpr std::uint64_t kRamCacheBytes = 64 * 1024;
    static constexpr std::uint64_t kMaxPendingBytes = 128 * 1024;
    // One transaction writes at most this much, so stores are acknowledged
    // steadily and a nearly full disk takes what still fits.
    static constexpr std::uint64_t kMaxTransactionBytes = 1024 * 1024;
    // How long an entry may stay unwritten: see above. The live delay bounds
    // what a kill -9 can take from a plugin that does not wait for stored();
    // it is the default fsync_interval, the bound a power cut has anyway.
    static constexpr std::chrono::milliseconds kLiveWriteDelay{50};
    static constexpr std::chrono::microseconds kIdleWriteDelay{1000};
    static constexpr std::chrono::milliseconds kConsumerActive{20};
    static constexpr std::chrono::microseconds kLingerQuiet{1000};
    static constexpr std::chrono::milliseconds kDeleteDelay{50};

    // Opens (or creates) the queue file and starts the committer. nullptr
    // with `error` when the file cannot be used.
    static std::shared_ptr<DiskOutbox> open(Settings settings, Logger log, std::string& error);
    ~DiskOutbox() override;

    bool append(std::shared_ptr<const Message> message, StoreTicketPtr ticket = nullptr) override;
    size_t take(size_t max, std::vector<OutboxEntry>& out) override;
    bool remove(std::uint64_t id, Removal why) override;
    void rewind() override;
    bool has_untaken() const override;
    void consumer_lingers() override;
    void split_lanes(std::uint64_t first_live) override;
    size_t take_live(size_t max, std::vector<OutboxEntry>& out) override;
    bool has_untaken_live() const override;
    std::uint64_t next_id() const override;
    std::shared_ptr<const Message> get(std::uint64_t id) const override;
    void set_append_listener(std::function<void()> listener) override;
    OutboxStats stats() const override;
    void set_limits(std::uint64_t max_bytes, OverflowPolicy overflow) override;

    // Waits until everything appended before the call is committed, or the
    // timeout passes; false on timeout.
    bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Commits what is pending, syncs and stops the committer. Appends after
    // it are refused (and counted). Called by the destructor.
    void close() override;
    const std::filesystem::path& file() const { return settings_.file; }

private:
    using Clock = std::chrono::steady_clock;
    struct RamEntry {
        std::shared_ptr<const Message> message;  // null once removed
        StoreTicketPtr ticket;                   // until committed or removed
        Clock::time_point appended;
        std::uint32_t size = 0;
        bool removed = false;
    };
    struct PendingWrite {
        std::uint64_t id;
        std::shared_ptr<const Message> message;
    };
    // Tickets are settled outside the lock: a listener may call back into plugins.
    using Settlements = std::vector<std::pair<StoreTicketPtr, bool>>;

    DiskOutbox(Settings settings, Logger log, std::unique_ptr<QueueFile> file);
    static constexpr std::uint64_t kNoLimit = UINT64_MAX;
    // Takes from one lane: ids from `cursor` below `limit` (and next_id_).
    size_t take_lane(std::unique_lock<std::mutex>& lock, std::uint64_t& cursor, std::uint64_t limit, TakenSizes& sizes,
                     size_t max, std::vector<OutboxEntry>& out);
    void run_committer();
    // The end of the pending entries due to be written now (a prefix: all
    // before a due one go with it); `next` gets when the next one is due.
    std::uint64_t due_end_locked(Clock::time_point now, std::optional<Clock::time_point>& next) const;
    Clock::duration write_delay_locked(Clock::time_point now) const;
    QueueFile::Result write(const std::vector<PendingWrite>& batch, const std::vector<IdRanges::Range>& deletes);
    void on_write_failed(QueueFile::Result result, std::uint64_t first, std::uint64_t end, bool deleting_only,
                         Settlements& settle);
    void trim(std::unique_lock<std::mutex>& lock, Settlements& settle);
    // Counts one dropped entry, and whether the disk was why.
    void count_drop_locked();
    std::uint64_t capacity_locked() const;
    // Removes one queued entry of `size` bytes and counts it.
    void remove_locked(std::uint64_t id, std::uint64_t size, Settlements& settle);
    std::optional<std::uint64_t> size_of_locked(std::uint64_t id, std::unique_lock<std::mutex>& lock);
    void mark_damaged_locked(std::uint64_t id, std::uint64_t size, const std::string& why);
    void compact_ram_locked();
    // Brings untaken_ and untaken_live_ up to date; after every change of
    // the cursors, head_, next_id_, removed_ or live_from_.
    void note_untaken_locked();
    static void settle_all(Settlements& settle);
    RamEntry* ram_entry(std::uint64_t id);
    const RamEntry* ram_entry(std::uint64_t id) const;

    Settings settings_;
    Logger log_;
    std::unique_ptr<QueueFile> file_;

    mutable std::mutex mutex_;
    std::condition_variable work_cv_;       // wakes the committer
    std::condition_variable space_cv_;      // wakes appenders waiting for the disk
    std::condition_variable committed_cv_;  // wakes flush()
    std::deque<RamEntry> ram_;              // ids [ram_floor_, next_id_)
    std::uint64_t ram_floor_ = 1;
    std::uint64_t next_id_ = 1;
    std::uint64_t head_ = 1;                          // no queued id is below it
    std::uint64_t cursor_ = 1;                        // the next id take() looks at
    std::uint64_t commit_cursor_ = 1;                 // ids below it are committed (or were never worth writing)
    std::uint64_t committing_end_ = 0;                // while a commit runs: the end of its batch
    std::uint64_t settled_cursor_ = 1;                // ids below it are committed and their tickets settled
    std::uint64_t flush_below_ = 0;                   // flush(): ids below it are written now, due or not
    std::optional<Clock::time_point> deletes_since_;  // when to_delete_ last became non-empty
    Clock::time_point last_take_{};                   // the consumer's last take()
    bool consumer_lingers_ = false;                   // since its last take()
    // The committer sleeps until this (or a wake-up); appends due later need not wake it.
    std::optional<Clock::time_point> committer_wakes_at_;
    bool committer_waiting_ = false;
    bool flush_deletes_ = false;   // flush(): deletes go now too
    IdRanges removed_;             // ids in [head_, next_id_) that are not queued
    IdRanges to_delete_;           // committed ids to delete in the next commit
    TakenSizes taken_sizes_;       // taken and not yet removed (the backlog lane, or the only one)
    TakenSizes live_taken_sizes_;  // the same for the live lane
    std::uint64_t live_from_ = 0;  // live-first: the live lane's first id (0: one lane)
    std::uint64_t live_cursor_ = 0;
    // has_untaken() and has_untaken_live() without the lock: the session asks
    // several times per reading, and the outbox's lock is the appenders' too.
    // Sequentially consistent, as the session's "sleeping" flag is: an append
    // either sees the session asleep or is seen by it.
    std::atomic<bool> untaken_{false};
    std::atomic<bool> untaken_live_{false};
    std::uint64_t ram_bytes_ = 0;      // sizes of live entries in ram_
    std::uint64_t pending_bytes_ = 0;  // sizes of live entries not yet committed
    bool burst_ = false;               // pending came near its cap: release memory once idle
    std::uint64_t max_bytes_;
    OverflowPolicy overflow_;
    std::optional<std::uint64_t> full_cap_;  // while the disk is full: what it could hold
    std::optional<Clock::time_point> full_since_;
    std::optional<Clock::time_point> last_full_log_;
    bool store_failing_ = false;
    bool trim_needed_ = false;
    bool closing_ = false;
    bool closed_ = false;
    OutboxStats stats_;
    LogRateLimit damage_log_;
    std::thread committer_;
    std::atomic<std::shared_ptr<const std::function<void()>>> listener_;
};

}  // namespace gwd
