#include "outbox/disk_outbox.h"

#include <pthread.h>

#include <algorithm>

#include "common/release_memory.h"
#include "common/units.h"
#include "outbox/record_codec.h"

namespace gwd {

namespace {
// How long a full disk caps the queue at what it held before writes are
// tried at max_bytes again (someone may have freed space).
constexpr std::chrono::seconds kFullRetry{30};
// A new "disk full" episode is logged again at most this often.
constexpr std::chrono::minutes kFullLogInterval{10};
// After a failed write (other than a full disk) the committer waits this long.
constexpr std::chrono::seconds kFailedWriteRetry{1};
// Rows examined per round when dropping the oldest.
constexpr size_t kTrimBatch = 1024;
// Free pages given back to the file system after a drain.
constexpr int kVacuumPages = 1024;

const char* policy_name(OverflowPolicy p) { return p == OverflowPolicy::drop_oldest ? "drop-oldest" : "drop-newest"; }
}  // namespace

std::shared_ptr<DiskOutbox> DiskOutbox::open(Settings settings, Logger log, std::string& error) {
    auto file = QueueFile::open(settings.file, settings.fsync, log, error);
    if (!file) return nullptr;
    return std::shared_ptr<DiskOutbox>(new DiskOutbox(std::move(settings), std::move(log), std::move(file)));
}

DiskOutbox::DiskOutbox(Settings settings, Logger log, std::unique_ptr<QueueFile> file)
    : settings_(std::move(settings)),
      log_(std::move(log)),
      file_(std::move(file)),
      max_bytes_(settings_.max_bytes),
      overflow_(settings_.overflow) {
    const QueueFile::Contents& c = file_->contents();
    stats_.durable = true;
    if (!c.kept_as.empty()) {
        stats_.found_at_start =
            "the queue file was damaged (" + c.damage + "): " + std::to_string(c.salvaged) + " readings recovered" +
            (c.unreadable > 0 ? ", " + std::to_string(c.unreadable) + " damaged records lost" : "") +
            "; the damaged file is kept as " + c.kept_as.string();
    } else if (!c.damage.empty()) {
        stats_.found_at_start = "the queue file " + c.damage;
    }
    if (c.rows > 0) {
        head_ = c.first_id;
        next_id_ = c.last_id + 1;
        removed_ = c.gaps;
        stats_.queued = c.rows;
        stats_.bytes = c.record_bytes + c.rows * kRowOverhead;
        stats_.recovered = c.rows;
        log_.notice(std::to_string(c.rows) + " readings (" + format_size(stats_.bytes) + ") are waiting in " +
                    settings_.file.string() + " from before the restart; they go out first");
    }
    ram_floor_ = commit_cursor_ = settled_cursor_ = next_id_;
    cursor_ = head_;
    note_untaken_locked();  // no other thread yet
    trim_needed_ = stats_.bytes > max_bytes_ && overflow_ == OverflowPolicy::drop_oldest;
    committer_ = std::thread([this] { run_committer(); });
}

DiskOutbox::~DiskOutbox() { close(); }

void DiskOutbox::close() {
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        closing_ = true;
    }
    work_cv_.notify_all();
    space_cv_.notify_all();
    if (committer_.joinable()) committer_.join();
    std::lock_guard lock(mutex_);
    closed_ = true;
}

DiskOutbox::RamEntry* DiskOutbox::ram_entry(std::uint64_t id) {
    if (id < ram_floor_ || id >= next_id_) return nullptr;
    return &ram_[id - ram_floor_];
}

const DiskOutbox::RamEntry* DiskOutbox::ram_entry(std::uint64_t id) const {
    if (id < ram_floor_ || id >= next_id_) return nullptr;
    return &ram_[id - ram_floor_];
}

std::uint64_t DiskOutbox::capacity_locked() const { return full_cap_ ? std::min(*full_cap_, max_bytes_) : max_bytes_; }

void DiskOutbox::count_drop_locked() {
    ++stats_.dropped_overflow;
    // The disk, not max_bytes, set the limit that dropped it.
    if (store_failing_ || (full_cap_ && *full_cap_ < max_bytes_)) ++stats_.dropped_disk_full;
}

void DiskOutbox::settle_all(Settlements& settle) {
    for (auto& [ticket, stored] : settle) ticket->settle(stored);
    settle.clear();
}

bool DiskOutbox::append(std::shared_ptr<const Message> message, StoreTicketPtr ticket) {
    const std::uint64_t size = encoded_record_size(*message) + kRowOverhead;
    bool wake_committer = false;
    {
        std::unique_lock lock(mutex_);
        const std::uint64_t cap = capacity_locked();
        const bool over = stats_.bytes + size > cap;
        if (closing_ || (over && (overflow_ == OverflowPolicy::drop_newest || size > cap))) {
            count_drop_locked();
            lock.unlock();
            if (ticket) ticket->settle(false);
            return false;
        }
        // The disk is behind: wait for it rather than let memory grow. While
        // the store is failing, waiting would wedge the plugins; the overflow
        // policy decides instead.
        while (pending_bytes_ > kMaxPendingBytes && !closing_) {
            if (store_failing_) {
                if (overflow_ == OverflowPolicy::drop_newest) {
                    count_drop_locked();
                    lock.unlock();
                    if (ticket) ticket->settle(false);
                    return false;
                }
                Settlements settle;
                while (pending_bytes_ > kMaxPendingBytes) {
                    const std::uint64_t oldest = removed_.first_absent_from(std::max(commit_cursor_, ram_floor_));
                    RamEntry* e = ram_entry(oldest);
                    if (e == nullptr) break;
                    remove_locked(oldest, e->size, settle);
                    count_drop_locked();
                }
                lock.unlock();
                settle_all(settle);
                lock.lock();
                break;
            }
            space_cv_.wait(lock);
        }
        if (closing_) {
            count_drop_locked();
            lock.unlock();
            if (ticket) ticket->settle(false);
            return false;
        }
        const auto now = Clock::now();
        ram_.push_back(RamEntry{std::move(message), std::move(ticket), now, static_cast<std::uint32_t>(size), false});
        ++next_id_;
        note_untaken_locked();
        ram_bytes_ += size;
        pending_bytes_ += size;
        if (pending_bytes_ > kMaxPendingBytes / 2) burst_ = true;
        stats_.bytes += size;
        ++stats_.queued;
        ++stats_.appended;
        if (stats_.bytes > cap) trim_needed_ = true;
        // The committer sleeps until something is due; wake it only when
        // this entry is due before that (or memory runs short).
        wake_committer =
            committer_waiting_ && (!committer_wakes_at_ || *committer_wakes_at_ > now + write_delay_locked(now) ||
                                   pending_bytes_ > kMaxPendingBytes / 2 || trim_needed_);
    }
    if (wake_committer) work_cv_.notify_one();
    if (auto listener = listener_.load(std::memory_order_acquire); listener && *listener) (*listener)();
    return true;
}

size_t DiskOutbox::take(size_t max, std::vector<OutboxEntry>& out) {
    std::unique_lock lock(mutex_);
    return take_lane(lock, cursor_, live_from_ != 0 ? live_from_ : kNoLimit, taken_sizes_, max, out);
}

size_t DiskOutbox::take_live(size_t max, std::vector<OutboxEntry>& out) {
    std::unique_lock lock(mutex_);
    if (live_from_ == 0) return 0;
    return take_lane(lock, live_cursor_, kNoLimit, live_taken_sizes_, max, out);
}

size_t DiskOutbox::take_lane(std::unique_lock<std::mutex>& lock, std::uint64_t& cursor, std::uint64_t limit,
                             TakenSizes& sizes, size_t max, std::vector<OutboxEntry>& out) {
    last_take_ = Clock::now();
    consumer_lingers_ = false;
    size_t n = 0;
    std::vector<QueueFile::Row> rows;
    while (n < max) {
        cursor = removed_.first_absent_from(std::max(cursor, head_));
        if (cursor >= std::min(next_id_, limit)) break;
        if (RamEntry* e = ram_entry(cursor)) {
            if (!e->removed) {
                out.push_back(OutboxEntry{cursor, e->message});
                sizes.record(cursor, e->size);
                ++n;
            }
            ++cursor;
            continue;
        }
        // On disk: ids [cursor, ram_floor_), all committed.
        const std::uint64_t from = cursor, below = std::min(ram_floor_, limit);
        const size_t wanted = max - n;
        rows.clear();
        lock.unlock();
        const QueueFile::Result read = file_->read(from, below, wanted, rows);
        lock.lock();
        if (read != QueueFile::Result::ok) {
            // Part of the file cannot be read: find the unreadable rows one by
            // one, skip them, and go on with the rest.
            std::optional<std::string> record;
            lock.unlock();
            const QueueFile::Result one = file_->read_one(from, record);
            lock.lock();
            if (one != QueueFile::Result::ok) {
                const auto size = size_of_locked(from, lock).value_or(kRowOverhead);
                if (!removed_.contains(from) && from >= head_)
                    mark_damaged_locked(from, size, "it cannot be read: " + file_->last_error());
                cursor = from + 1;
                continue;
            }
            rows.clear();
            if (record)
                rows.push_back(QueueFile::Row{from, std::move(*record)});
            else {
                cursor = from + 1;  // no such row
                continue;
            }
        }
        for (QueueFile::Row& row : rows) {
            if (row.id < head_ || removed_.contains(row.id)) continue;
            std::string problem;
            auto message = decode_record(row.record, problem);
            const std::uint64_t size = row.record.size() + kRowOverhead;
            if (!message) {
                mark_damaged_locked(row.id, size, problem);
                continue;
            }
            out.push_back(OutboxEntry{row.id, std::make_shared<const Message>(std::move(*message))});
            sizes.record(row.id, static_cast<std::uint32_t>(size));
            ++n;
        }
        // Fewer rows than asked for: nothing else is on disk below `below`.
        cursor = rows.size() < wanted ? below : rows.back().id + 1;
    }
    note_untaken_locked();
    return n;
}

void DiskOutbox::mark_damaged_locked(std::uint64_t id, std::uint64_t size, const std::string& why) {
    Settlements none;
    remove_locked(id, size, none);
    ++stats_.damaged;
    std::uint64_t suppressed = 0;
    if (damage_log_.allow(Clock::now(), suppressed)) {
        log_.error("skipped a damaged record (id " + std::to_string(id) + ") in " + settings_.file.string() + ": " +
                   why + (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
    }
}

std::optional<std::uint64_t> DiskOutbox::size_of_locked(std::uint64_t id, std::unique_lock<std::mutex>& lock) {
    if (const RamEntry* e = ram_entry(id)) return e->size;
    if (auto size = taken_sizes_.find(id)) return *size;
    if (auto size = live_taken_sizes_.find(id)) return *size;
    lock.unlock();
    auto size = file_->record_size(id);
    lock.lock();
    if (size) return *size + kRowOverhead;
    return std::nullopt;
}

void DiskOutbox::remove_locked(std::uint64_t id, std::uint64_t size, Settlements& settle) {
    if (id == head_) {
        // The usual case, ids removed in order: no range to record, only the head to move.
        head_ = removed_.first_absent_from(head_ + 1);
        removed_.erase_below(head_);
    } else {
        removed_.insert(id);
    }
    note_untaken_locked();
    taken_sizes_.erase(id);
    live_taken_sizes_.erase(id);
    stats_.bytes -= std::min(stats_.bytes, size);
    if (stats_.queued > 0) --stats_.queued;
    if (RamEntry* e = ram_entry(id)) {
        if (e->ticket) settle.emplace_back(std::move(e->ticket), false);
        e->ticket.reset();
        e->message.reset();
        e->removed = true;
        ram_bytes_ -= std::min<std::uint64_t>(ram_bytes_, e->size);
        if (id >= commit_cursor_) pending_bytes_ -= std::min<std::uint64_t>(pending_bytes_, e->size);
    }
    // Written, or being written right now: the row must go too.
    if (id < commit_cursor_ || id < committing_end_) {
        if (to_delete_.empty()) deletes_since_ = Clock::now();
        to_delete_.insert(id);
    }
}

bool DiskOutbox::remove(std::uint64_t id, Removal why) {
    // One removal per delivered reading: reuse this thread's list rather than allocate one each time.
    static thread_local Settlements scratch;
    Settlements settle = std::move(scratch);
    settle.clear();
    bool frees_pending = false;
    bool wake_committer = false;
    {
        std::unique_lock lock(mutex_);
        if (id < head_ || id >= next_id_ || removed_.contains(id)) return false;
        const auto size = size_of_locked(id, lock);
        // The lock was let go to ask the file: check again.
        if (!size || id < head_ || removed_.contains(id)) return false;
        const RamEntry* e = ram_entry(id);
        const bool delivered_before_commit = e != nullptr && e->ticket && why == Removal::delivered;
        // An entry taken before its commit frees write-behind space that a
        // plugin may be waiting for; the committer may then find nothing left
        // to write, so this is the only wake-up that plugin gets.
        frees_pending = id >= commit_cursor_;
        remove_locked(id, *size, settle);
        // Delivered before it was written: as good as stored for the plugin.
        if (delivered_before_commit && !settle.empty()) settle.back().second = true;
        switch (why) {
            case Removal::delivered: ++stats_.delivered; break;
            case Removal::expired: ++stats_.expired; break;
            case Removal::discarded: ++stats_.discarded; break;
        }
        compact_ram_locked();
        // Deletes wait for company (kDeleteDelay); an entry that was never
        // written needs nothing from the committer.
        wake_committer = committer_waiting_ && !to_delete_.empty() &&
                         (!committer_wakes_at_ ||
                          *committer_wakes_at_ > deletes_since_.value_or(Clock::time_point{}) + kDeleteDelay);
    }
    if (wake_committer) work_cv_.notify_one();
    if (frees_pending) space_cv_.notify_all();
    settle_all(settle);
    scratch = std::move(settle);
    return true;
}

void DiskOutbox::compact_ram_locked() {
    while (!ram_.empty()) {
        RamEntry& front = ram_.front();
        const std::uint64_t id = ram_floor_;
        if (!front.removed) {
            if (id >= commit_cursor_) break;  // not written yet
            // Keep what the consumer will want soon, within the cache budget.
            if (id >= cursor_ && ram_bytes_ <= kRamCacheBytes) break;
            ram_bytes_ -= std::min<std::uint64_t>(ram_bytes_, front.size);
        }
        ram_.pop_front();
        ++ram_floor_;
    }
    if (commit_cursor_ < ram_floor_) commit_cursor_ = ram_floor_;  // what was popped uncommitted was removed
}

void DiskOutbox::rewind() {
    {
        std::lock_guard lock(mutex_);
        cursor_ = head_;
        taken_sizes_.clear();
        live_taken_sizes_.clear();
        live_from_ = live_cursor_ = 0;
        note_untaken_locked();
        last_take_ = {};  // a new connection: until it takes, readings go to disk at once
    }
    work_cv_.notify_one();
}

void DiskOutbox::consumer_lingers() {
    // No wake-up: the committer looks again within kConsumerActive of the
    // last take(), and then writes what lingers if the appends have paused.
    std::lock_guard lock(mutex_);
    consumer_lingers_ = true;  // until it takes again
}

void DiskOutbox::note_untaken_locked() {
    untaken_.store(removed_.first_absent_from(std::max(cursor_, head_)) < (live_from_ != 0 ? live_from_ : next_id_));
    untaken_live_.store(live_from_ != 0 && removed_.first_absent_from(std::max(live_cursor_, head_)) < next_id_);
}

bool DiskOutbox::has_untaken() const { return untaken_.load(); }

void DiskOutbox::split_lanes(std::uint64_t first_live) {
    std::lock_guard lock(mutex_);
    live_from_ = live_cursor_ = first_live;
    note_untaken_locked();
}

bool DiskOutbox::has_untaken_live() const { return untaken_live_.load(); }

std::uint64_t DiskOutbox::next_id() const {
    std::lock_guard lock(mutex_);
    return next_id_;
}

std::shared_ptr<const Message> DiskOutbox::get(std::uint64_t id) const {
    {
        std::lock_guard lock(mutex_);
        if (id < head_ || id >= next_id_ || removed_.contains(id)) return nullptr;
        if (const RamEntry* e = ram_entry(id)) return e->message;
    }
    std::optional<std::string> record;
    if (file_->read_one(id, record) != QueueFile::Result::ok || !record) return nullptr;
    std::string problem;
    auto message = decode_record(*record, problem);
    if (!message) return nullptr;
    return std::make_shared<const Message>(std::move(*message));
}

void DiskOutbox::set_append_listener(std::function<void()> listener) {
    listener_.store(std::make_shared<const std::function<void()>>(std::move(listener)), std::memory_order_release);
}

OutboxStats DiskOutbox::stats() const {
    OutboxStats s;
    std::uint64_t oldest = 0;
    {
        std::lock_guard lock(mutex_);
        s = stats_;
        if (full_cap_)
            s.problem = "the disk is full: the queue is capped at " + format_size(*full_cap_);
        else if (store_failing_)
            s.problem = "cannot write " + settings_.file.string() + ": " + file_->last_error();
        const std::uint64_t first = removed_.first_absent_from(head_);
        if (first < next_id_) {
            if (const RamEntry* e = ram_entry(first); e != nullptr && e->message)
                s.oldest_accepted_ms = e->message->accepted_ms;
            else
                oldest = first;
        }
    }
    if (oldest != 0) {
        std::optional<std::string> record;
        std::string problem;
        if (file_->read_one(oldest, record) == QueueFile::Result::ok && record) {
            if (auto m = decode_record(*record, problem)) s.oldest_accepted_ms = m->accepted_ms;
        }
    }
    return s;
}

void DiskOutbox::set_limits(std::uint64_t max_bytes, OverflowPolicy overflow) {
    {
        std::lock_guard lock(mutex_);
        max_bytes_ = max_bytes;
        overflow_ = overflow;
        // Both policies shed the oldest when the bound shrinks below what is
        // queued: refusing what is already accepted is not possible.
        if (stats_.bytes > capacity_locked()) trim_needed_ = true;
    }
    work_cv_.notify_one();
}

bool DiskOutbox::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const std::uint64_t target = next_id_;
    flush_below_ = std::max(flush_below_, target);
    flush_deletes_ = true;
    work_cv_.notify_one();
    return committed_cv_.wait_for(lock, timeout, [&] {
        return closed_ || (settled_cursor_ >= target && committing_end_ == 0 && to_delete_.empty());
    });
}

QueueFile::Result DiskOutbox::write(const std::vector<PendingWrite>& batch,
                                    const std::vector<IdRanges::Range>& deletes) {
    thread_local std::string record;
    QueueFile::Result r = file_->begin();
    if (r != QueueFile::Result::ok) return r;
    for (const PendingWrite& w : batch) {
        encode_record(*w.message, record);
        r = file_->insert(w.id, record);
        // The buffer is reused to spare an allocation per reading, but one
        // large reading must not keep its size resident for good.
        if (record.capacity() > 64 * 1024) std::string().swap(record);
        if (r != QueueFile::Result::ok) {
            file_->rollback();
            return r;
        }
    }
    for (const auto& [first, last] : deletes) {
        if ((r = file_->erase(first, last)) != QueueFile::Result::ok) {
            file_->rollback();
            return r;
        }
    }
    return file_->commit();
}

DiskOutbox::Clock::duration DiskOutbox::write_delay_locked(Clock::time_point now) const {
    // Appends only push_back and compaction only pops the front, so the last entry is the
    // latest append; with none held there is nothing to write.
    if (consumer_lingers_ && !ram_.empty() && now - ram_.back().appended >= kLingerQuiet) return Clock::duration(0);
    return now - last_take_ < kConsumerActive ? Clock::duration(kLiveWriteDelay) : Clock::duration(kIdleWriteDelay);
}

std::uint64_t DiskOutbox::due_end_locked(Clock::time_point now, std::optional<Clock::time_point>& next) const {
    const std::uint64_t first = std::max(commit_cursor_, ram_floor_);
    // Everything goes now while closing, for flush(), or when the write-behind runs short.
    const bool all = closing_ || pending_bytes_ > kMaxPendingBytes / 2;
    const Clock::duration delay = write_delay_locked(now);
    // Appended in order, so the due ones are a prefix.
    std::uint64_t end = first;
    for (; end < next_id_; ++end) {
        const RamEntry& e = ram_[end - ram_floor_];
        if (e.removed || all || end < flush_below_ || now >= e.appended + delay) continue;
        next = e.appended + delay;
        break;
    }
    // While the consumer takes, the wait is long; when it stops, short: look again then.
    if (next && delay != Clock::duration(kIdleWriteDelay)) {
        const auto idle_at = last_take_ + kConsumerActive;
        if (idle_at < *next) next = idle_at;
    }
    return end;
}

void DiskOutbox::run_committer() {
    const std::string thread_name = ("ob-" + settings_.file.stem().string()).substr(0, 15);
    pthread_setname_np(pthread_self(), thread_name.c_str());

    std::vector<PendingWrite> batch;
    std::vector<IdRanges::Range> deletes;
    Settlements settle;
    auto last_sync = Clock::now();
    bool unsynced = false;  // commits since the last sync (fsync = "batch")
    int failed_while_closing = 0;
    bool drained_since_vacuum = true;

    std::unique_lock lock(mutex_);
    while (true) {
        std::optional<Clock::time_point> next_due;
        std::uint64_t due_end = 0;
        auto has_work = [&] {
            const auto now = Clock::now();
            next_due.reset();
            due_end = due_end_locked(now, next_due);
            const bool deletes_due =
                !to_delete_.empty() && (closing_ || flush_deletes_ || full_cap_ ||
                                        now >= deletes_since_.value_or(Clock::time_point{}) + kDeleteDelay ||
                                        due_end > std::max(commit_cursor_, ram_floor_));
            if (!to_delete_.empty() && !deletes_due) {
                const auto at = deletes_since_.value_or(Clock::time_point{}) + kDeleteDelay;
                if (!next_due || at < *next_due) next_due = at;
            }
            return closing_ || trim_needed_ || deletes_due || due_end > std::max(commit_cursor_, ram_floor_);
        };
        if (!has_work() && burst_ && !next_due) {
            // The burst is written: give its memory back before idling.
            burst_ = false;
            lock.unlock();
            release_free_memory();
            lock.lock();
            continue;
        }
        if (!has_work()) {
            std::optional<Clock::time_point> until = next_due;
            auto sooner = [&](Clock::time_point t) {
                if (!until || t < *until) until = t;
            };
            if (unsynced) sooner(last_sync + settings_.fsync_interval);
            if (full_cap_) sooner(*full_since_ + kFullRetry);
            committer_waiting_ = true;
            committer_wakes_at_ = until;
            if (until)
                work_cv_.wait_until(lock, *until);
            else
                work_cv_.wait(lock);
            committer_waiting_ = false;
            committer_wakes_at_.reset();
            if (!has_work() && !(unsynced && Clock::now() - last_sync >= settings_.fsync_interval) &&
                !(full_cap_ && Clock::now() >= *full_since_ + kFullRetry))
                continue;
        }
        if (full_cap_ && Clock::now() >= *full_since_ + kFullRetry) {
            full_cap_.reset();  // someone may have freed space: try max_bytes again
            full_since_.reset();
            file_->create_reserve();
        }
        if (trim_needed_) trim(lock, settle);
        trim_needed_ = false;
        due_end = due_end_locked(Clock::now(), next_due);

        // On a full disk, deleting comes first and alone: it frees the pages
        // the new rows will reuse, and the checkpoint after it frees the WAL.
        const bool free_space_first = full_cap_.has_value() && !to_delete_.empty();
        const std::uint64_t first = std::max(commit_cursor_, ram_floor_);
        std::uint64_t end = first;
        std::uint64_t batch_bytes = 0;
        batch.clear();
        while (!free_space_first && end < due_end && batch_bytes < kMaxTransactionBytes) {
            const RamEntry& e = ram_[end - ram_floor_];
            if (!e.removed) {
                batch.push_back(PendingWrite{end, e.message});
                batch_bytes += e.size;
            }
            ++end;
        }
        committing_end_ = end;
        deletes = to_delete_.ranges();
        to_delete_.clear();
        deletes_since_.reset();
        flush_deletes_ = false;
        const bool closing = closing_;
        lock.unlock();
        settle_all(settle);

        QueueFile::Result result = QueueFile::Result::ok;
        if (!batch.empty() || !deletes.empty()) result = write(batch, deletes);
        const bool wrote = result == QueueFile::Result::ok && (!batch.empty() || !deletes.empty());
        if (wrote && free_space_first && !file_->checkpoint())
            log_.debug("checkpoint on a full disk failed: " + file_->last_error());
        if (result != QueueFile::Result::ok)
            log_.debug("write of " + std::to_string(batch.size()) + " rows and " + std::to_string(deletes.size()) +
                       " delete ranges failed: " + file_->last_error());
        if (wrote && settings_.fsync == FsyncPolicy::batch) unsynced = true;
        if (unsynced && (closing || Clock::now() - last_sync >= settings_.fsync_interval)) {
            if (!file_->sync()) log_.warning("cannot sync " + settings_.file.string() + ": " + file_->last_error());
            last_sync = Clock::now();
            unsynced = false;
        }
        batch.clear();  // drop our references to the messages before taking the lock

        lock.lock();
        committing_end_ = 0;
        if (result == QueueFile::Result::ok) {
            for (std::uint64_t id = first; id < end; ++id) {
                RamEntry* e = ram_entry(id);
                if (e == nullptr || e->removed) continue;
                if (e->ticket) settle.emplace_back(std::move(e->ticket), true);
                e->ticket.reset();
                pending_bytes_ -= std::min<std::uint64_t>(pending_bytes_, e->size);
            }
            commit_cursor_ = std::max(commit_cursor_, end);
            // Tell the plugins before flush() returns: settle now, outside the lock.
            lock.unlock();
            settle_all(settle);
            lock.lock();
            settled_cursor_ = std::max(settled_cursor_, end);
            if (store_failing_) {
                store_failing_ = false;
                log_.notice("writing " + settings_.file.string() + " works again");
            }
            compact_ram_locked();
            if (wrote && stats_.queued == 0 && !drained_since_vacuum) {
                // Drained: give the space of the backlog back to the file system.
                lock.unlock();
                file_->release_free_pages(kVacuumPages);
                lock.lock();
                drained_since_vacuum = true;
            } else if (stats_.queued > 0) {
                drained_since_vacuum = false;
            }
            space_cv_.notify_all();
            committed_cv_.notify_all();
        } else {
            for (const auto& [a, b] : deletes) to_delete_.insert(a, b);
            if (!deletes.empty() && !deletes_since_) deletes_since_ = Clock::now();
            on_write_failed(result, first, end, free_space_first, settle);
            if (closing && ++failed_while_closing >= 3) {
                log_.error(std::to_string(stats_.queued) + " readings could not be written to " +
                           settings_.file.string() + " at stop and are lost: " + file_->last_error());
                break;
            }
            if (result == QueueFile::Result::failed && !closing_) {
                lock.unlock();
                settle_all(settle);
                lock.lock();
                work_cv_.wait_for(lock, kFailedWriteRetry, [&] { return closing_; });
            }
        }
        if (closing && commit_cursor_ >= next_id_ && to_delete_.empty() && !trim_needed_) break;
    }
    committed_cv_.notify_all();
    space_cv_.notify_all();
    lock.unlock();
    settle_all(settle);
    if (unsynced) file_->sync();
}

void DiskOutbox::on_write_failed(QueueFile::Result result, std::uint64_t first, std::uint64_t end, bool deleting_only,
                                 Settlements& settle) {
    if (result == QueueFile::Result::failed) {
        if (!store_failing_) {
            log_.error("cannot write " + settings_.file.string() + ": " + file_->last_error() +
                       "; readings wait in memory (up to " + format_size(kMaxPendingBytes) + ", then overflow = \"" +
                       policy_name(overflow_) + "\" applies) and writing is retried every second");
        }
        store_failing_ = true;
        space_cv_.notify_all();
        return;
    }
    // The disk is full. For this episode the queue cannot grow beyond what
    // is written now; the overflow policy decides what gives way.
    if (!full_cap_) {
        const std::uint64_t written = stats_.bytes - std::min(stats_.bytes, pending_bytes_);
        full_cap_ = written;
        full_since_ = Clock::now();
        const bool had_reserve = file_->release_reserve();
        if (!last_full_log_ || Clock::now() - *last_full_log_ >= kFullLogInterval) {
            last_full_log_ = Clock::now();
            log_.error("no space left on the disk for " + settings_.file.string() + " (" + file_->last_error() +
                       "): the queue holds " + format_size(written) + " and cannot grow; " +
                       (overflow_ == OverflowPolicy::drop_oldest
                            ? "the oldest readings are dropped to make room for new ones"
                            : "new readings are dropped") +
                       " (overflow = \"" + policy_name(overflow_) + "\") until space is freed" +
                       (had_reserve ? "" : "; there was no reserve space left to work with"));
        }
        if (overflow_ == OverflowPolicy::drop_oldest && written > 0) {
            trim_needed_ = true;  // delete the oldest, then write the new
            return;
        }
    }
    if (deleting_only) return;  // the pending rows wait; the cap keeps new ones out
    // drop-newest, or no room even after deleting: what waits to be written gives way.
    for (std::uint64_t id = first; id < end; ++id) {
        RamEntry* e = ram_entry(id);
        if (e == nullptr || e->removed) continue;
        remove_locked(id, e->size, settle);
        count_drop_locked();
    }
    compact_ram_locked();
    space_cv_.notify_all();
}

void DiskOutbox::trim(std::unique_lock<std::mutex>& lock, Settlements& settle) {
    std::vector<QueueFile::RowSize> rows;
    while (stats_.bytes > capacity_locked()) {
        const std::uint64_t from = removed_.first_absent_from(head_);
        if (from >= next_id_) break;
        if (from >= commit_cursor_) {
            // Not written yet: in memory.
            RamEntry* e = ram_entry(from);
            if (e == nullptr) break;
            remove_locked(from, e->size, settle);
            count_drop_locked();
            continue;
        }
        rows.clear();
        lock.unlock();
        const QueueFile::Result r = file_->head_sizes(from, kTrimBatch, rows);
        lock.lock();
        if (r != QueueFile::Result::ok || rows.empty()) {
            // The counted bytes and the file disagree; drop what memory holds.
            if (r != QueueFile::Result::ok)
                log_.warning("cannot read " + settings_.file.string() + ": " + file_->last_error());
            if (RamEntry* e = ram_entry(from); e != nullptr && !e->removed) {
                remove_locked(from, e->size, settle);
                count_drop_locked();
                continue;
            }
            removed_.insert(from, std::min(commit_cursor_, next_id_));
            head_ = removed_.first_absent_from(head_);
            removed_.erase_below(head_);
            note_untaken_locked();
            continue;
        }
        for (const auto& row : rows) {
            if (stats_.bytes <= capacity_locked()) break;
            if (row.id < head_ || row.id >= commit_cursor_ || removed_.contains(row.id)) continue;
            remove_locked(row.id, row.size + kRowOverhead, settle);
            count_drop_locked();
        }
    }
    compact_ram_locked();
}

}  // namespace gwd
