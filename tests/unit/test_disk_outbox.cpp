#define BOOST_TEST_MODULE disk_outbox
#include <boost/test/unit_test.hpp>

#include <sched.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "outbox/disk_outbox.h"
#include "outbox/record_codec.h"
#include "temp_dir.h"

using namespace gwd;
using gwd::test::TempDir;
using Strings = std::vector<std::string>;

namespace {

std::shared_ptr<const Message> msg(const std::string& payload, std::int64_t accepted_ms = 1000) {
    auto m = std::make_shared<Message>();
    m->sensor = "s";
    m->instance = "sensor";
    m->payload = payload;
    m->accepted_ms = accepted_ms;
    m->timestamp_ms = accepted_ms;
    return m;
}

std::uint64_t size_of(const std::string& payload) {
    return encoded_record_size(*msg(payload)) + DiskOutbox::kRowOverhead;
}

struct Fixture {
    TempDir dir;
    std::shared_ptr<MemorySink> sink = std::make_shared<MemorySink>();
    Logger log{sink, LogLevel::debug, "outbox"};

    std::filesystem::path file() const { return dir.path() / "outbox" / "cloud.db"; }

    std::shared_ptr<DiskOutbox> open(std::uint64_t max_bytes = 1 << 30,
                                     OverflowPolicy overflow = OverflowPolicy::drop_oldest,
                                     FsyncPolicy fsync = FsyncPolicy::batch) {
        return open_at(file(), max_bytes, overflow, fsync);
    }
    std::shared_ptr<DiskOutbox> open_at(const std::filesystem::path& at, std::uint64_t max_bytes = 1 << 30,
                                        OverflowPolicy overflow = OverflowPolicy::drop_oldest,
                                        FsyncPolicy fsync = FsyncPolicy::batch) {
        DiskOutbox::Settings s;
        s.file = at;
        s.max_bytes = max_bytes;
        s.overflow = overflow;
        s.fsync = fsync;
        std::string error;
        auto o = DiskOutbox::open(s, log, error);
        BOOST_REQUIRE_MESSAGE(o, error);
        return o;
    }
};

Strings payloads(const std::vector<OutboxEntry>& entries) {
    Strings out;
    for (const auto& e : entries) out.push_back(e.message->payload);
    return out;
}

Strings take_all(Outbox& o, size_t max = 1000000) {
    std::vector<OutboxEntry> entries;
    o.take(max, entries);
    return payloads(entries);
}

Strings numbered(int first, int last) {
    Strings out;
    for (int i = first; i <= last; ++i) out.push_back(std::to_string(i));
    return out;
}

// A listener that counts settled tickets by outcome.
struct CountingListener final : StoreListener {
    std::atomic<int> stored{0}, dropped{0};
    void settled(void*, bool ok) override { ++(ok ? stored : dropped); }
};

// Copies the database and its WAL as a crash would leave them.
void snapshot(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::create_directories(to.parent_path());
    for (const char* suffix : {"", "-wal"}) {
        std::error_code ec;
        std::filesystem::copy_file(from.string() + suffix, to.string() + suffix,
                                   std::filesystem::copy_options::overwrite_existing, ec);
    }
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(disk_outbox, Fixture)

BOOST_AUTO_TEST_CASE(fifo_order_and_rewind_like_any_outbox) {
    auto o = open();
    for (auto p : {"1", "2", "3", "4"}) BOOST_TEST(o->append(msg(p)));
    std::vector<OutboxEntry> taken;
    BOOST_TEST(o->take(2, taken) == 2u);
    BOOST_TEST((payloads(taken) == Strings{"1", "2"}));
    BOOST_TEST((take_all(*o) == Strings{"3", "4"}));
    BOOST_TEST(!o->has_untaken());
    BOOST_TEST(o->acknowledge(taken[1].id));  // out of order
    o->rewind();
    BOOST_TEST((take_all(*o) == Strings{"1", "3", "4"}));
    BOOST_TEST(o->acknowledge(taken[0].id));
    BOOST_TEST(!o->acknowledge(taken[0].id));  // twice: ignored
    BOOST_TEST(!o->acknowledge(9999));         // unknown: ignored
    const OutboxStats s = o->stats();
    BOOST_TEST(s.queued == 2u);
    BOOST_TEST(s.delivered == 2u);
    BOOST_TEST(s.bytes == size_of("3") + size_of("4"));
    BOOST_TEST(s.durable);
}

BOOST_AUTO_TEST_CASE(what_is_queued_survives_a_restart_in_order_and_acknowledged_is_deleted) {
    {
        auto o = open();
        for (int i = 1; i <= 10; ++i) o->append(msg(std::to_string(i), 1000 + i));
        BOOST_TEST(o->flush());
        std::vector<OutboxEntry> taken;
        o->take(3, taken);
        for (const auto& e : taken) o->acknowledge(e.id);  // 1..3 delivered
        o->take(2, taken);                                 // 4, 5 in flight at the "crash"
    }
    auto o = open();
    const OutboxStats s = o->stats();
    BOOST_TEST(s.queued == 7u);
    BOOST_TEST(s.recovered == 7u);
    BOOST_TEST(s.bytes == 7 * size_of("10") - 6);  // "4".."9" are one byte shorter than "10"
    BOOST_TEST(s.oldest_accepted_ms == 1004);
    BOOST_TEST((take_all(*o) == numbered(4, 10)));
    BOOST_TEST(sink->contains("7 readings"));
}

BOOST_AUTO_TEST_CASE(ids_keep_increasing_across_restarts) {
    std::uint64_t last_id = 0;
    {
        auto o = open();
        o->append(msg("a"));
        o->append(msg("b"));
        std::vector<OutboxEntry> taken;
        o->take(2, taken);
        o->acknowledge(taken[0].id);
        last_id = taken[1].id;
    }
    auto o = open();
    o->append(msg("c"));
    std::vector<OutboxEntry> taken;
    o->take(10, taken);
    BOOST_TEST_REQUIRE(taken.size() == 2u);
    BOOST_TEST(taken[0].id == last_id);
    BOOST_TEST(taken[1].id > last_id);
    BOOST_TEST((payloads(taken) == Strings{"b", "c"}));
}

BOOST_AUTO_TEST_CASE(a_backlog_far_larger_than_memory_comes_back_in_order) {
    auto o = open();
    const int n = 20000;  // about 1.3 MB of records, five times the memory cache
    for (int i = 1; i <= n; ++i) o->append(msg(std::to_string(i) + std::string(30, '.')));
    BOOST_TEST(o->flush());
    int expected = 1;
    bool in_order = true;
    std::vector<OutboxEntry> batch;
    for (int round = 0; round < 1000 && expected <= n; ++round) {
        batch.clear();
        o->take(64, batch);
        for (const auto& e : batch) {
            in_order = in_order && e.message->payload == std::to_string(expected) + std::string(30, '.');
            ++expected;
            o->acknowledge(e.id);
        }
    }
    BOOST_TEST(in_order);
    BOOST_TEST(expected == n + 1);
    BOOST_TEST(o->stats().queued == 0u);
    BOOST_TEST(o->stats().delivered == static_cast<std::uint64_t>(n));
    o->close();
    auto again = open();
    BOOST_TEST(again->stats().queued == 0u);  // every acknowledged row was deleted
}

BOOST_AUTO_TEST_CASE(drop_newest_refuses_exactly_what_does_not_fit) {
    const std::uint64_t one = size_of("1");
    auto o = open(3 * one, OverflowPolicy::drop_newest);
    for (auto p : {"1", "2", "3"}) BOOST_TEST(o->append(msg(p)));
    BOOST_TEST(!o->append(msg("4")));
    BOOST_TEST(!o->append(msg("5")));
    BOOST_TEST(o->stats().dropped_overflow == 2u);
    BOOST_TEST((take_all(*o) == Strings{"1", "2", "3"}));
}

BOOST_AUTO_TEST_CASE(drop_oldest_drops_exactly_the_oldest_and_counts_them) {
    const std::uint64_t one = size_of("100");  // three-digit payloads, all the same size
    auto o = open(25 * one, OverflowPolicy::drop_oldest);
    for (int i = 100; i < 200; ++i) BOOST_TEST(o->append(msg(std::to_string(i))));
    BOOST_TEST(o->flush());
    // The committer enforces the bound; give it the moment it needs.
    for (int i = 0; i < 200 && o->stats().bytes > 25 * one; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const OutboxStats s = o->stats();
    BOOST_TEST(s.queued == 25u);
    BOOST_TEST(s.dropped_overflow == 75u);
    BOOST_TEST((take_all(*o) == numbered(175, 199)));
    o->close();
    auto again = open(25 * one, OverflowPolicy::drop_oldest);
    BOOST_TEST((take_all(*again) == numbered(175, 199)));  // the dropped rows are gone from the file too
}

BOOST_AUTO_TEST_CASE(a_smaller_bound_at_reload_drops_the_oldest) {
    const std::uint64_t one = size_of("1");
    auto o = open(100 * one, OverflowPolicy::drop_newest);
    for (int i = 1; i <= 9; ++i) o->append(msg(std::to_string(i)));
    BOOST_TEST(o->flush());
    o->set_limits(4 * one, OverflowPolicy::drop_newest);
    for (int i = 0; i < 200 && o->stats().queued > 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    BOOST_TEST(o->stats().dropped_overflow == 5u);
    BOOST_TEST((take_all(*o) == numbered(6, 9)));
}

BOOST_AUTO_TEST_CASE(store_tickets_settle_once_committed_refused_or_delivered) {
    auto listener = std::make_shared<CountingListener>();
    const std::uint64_t one = size_of("1");
    auto o = open(2 * one, OverflowPolicy::drop_newest);
    for (auto p : {"1", "2", "3"}) {
        auto ticket = std::make_shared<StoreTicket>(listener, nullptr);
        ticket->hold();
        o->append(msg(p), ticket);
        ticket->settle(true);  // the emitter's own share
    }
    BOOST_TEST(o->flush());
    BOOST_TEST(listener->stored.load() == 2);
    BOOST_TEST(listener->dropped.load() == 1);  // "3" did not fit
}

// A batch lingering for company holds readings the consumer took; a source
// that waits for stored() before it sends more must get them stored without
// their delivery, or the batch would wait for company that cannot come.
BOOST_AUTO_TEST_CASE(what_a_lingering_consumer_holds_is_stored_when_the_source_pauses) {
    auto listener = std::make_shared<CountingListener>();
    auto o = open(1024 * 1024, OverflowPolicy::drop_newest);
    for (auto p : {"1", "2"}) {
        auto ticket = std::make_shared<StoreTicket>(listener, nullptr);
        ticket->hold();
        o->append(msg(p), ticket);
        ticket->settle(true);
    }
    BOOST_TEST(take_all(*o) == numbered(1, 2));
    o->consumer_lingers();
    // Neither delivered nor flushed: only the committer's own look stores them.
    for (int i = 0; i < 500 && listener->stored.load() < 2; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_TEST(listener->stored.load() == 2);
    BOOST_TEST(listener->dropped.load() == 0);
}

BOOST_AUTO_TEST_CASE(expired_and_discarded_entries_are_counted_apart) {
    auto o = open();
    for (auto p : {"1", "2", "3"}) o->append(msg(p));
    std::vector<OutboxEntry> taken;
    o->take(3, taken);
    BOOST_TEST(o->remove(taken[0].id, Removal::expired));
    BOOST_TEST(o->remove(taken[1].id, Removal::discarded));
    BOOST_TEST(o->acknowledge(taken[2].id));
    const OutboxStats s = o->stats();
    BOOST_TEST(s.expired == 1u);
    BOOST_TEST(s.discarded == 1u);
    BOOST_TEST(s.delivered == 1u);
    BOOST_TEST(s.queued == 0u);
    BOOST_TEST(s.bytes == 0u);
}

BOOST_AUTO_TEST_CASE(a_damaged_record_is_logged_and_skipped_and_the_rest_flow) {
    {
        auto o = open();
        for (auto p : {"1", "2", "3"}) o->append(msg(p));
        BOOST_TEST(o->flush());
    }
    // Flip bytes inside record 2, as a bad sector would.
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(file().c_str(), &db) == SQLITE_OK);
    BOOST_REQUIRE(sqlite3_exec(db, "UPDATE queue SET record = CAST(zeroblob(40) AS BLOB) WHERE id = 2", nullptr,
                               nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);

    auto o = open();
    BOOST_TEST((take_all(*o) == Strings{"1", "3"}));
    BOOST_TEST(o->stats().damaged == 1u);
    BOOST_TEST(o->stats().queued == 2u);
    BOOST_TEST(sink->contains("skipped a damaged record (id 2)"));
}

BOOST_AUTO_TEST_CASE(a_torn_wal_tail_loses_only_the_unfinished_commit) {
    auto o = open();
    for (int i = 1; i <= 300; ++i) o->append(msg(std::to_string(i)));
    BOOST_TEST(o->flush());
    const auto crashed = dir.path() / "crash" / "cloud.db";
    snapshot(file(), crashed);
    const auto wal = crashed.string() + "-wal";
    BOOST_REQUIRE(std::filesystem::exists(wal));
    const auto full = std::filesystem::file_size(wal);
    // Cut the WAL at many points, mid-frame included: each must open, and
    // hold an unbroken prefix of what was appended.
    int opened = 0;
    for (std::uintmax_t cut : {full - 1, full - 100, full / 2 + 7, full / 3, std::uintmax_t{33}}) {
        const auto attempt = dir.path() / ("cut" + std::to_string(cut)) / "cloud.db";
        snapshot(crashed, attempt);
        std::filesystem::resize_file(attempt.string() + "-wal", cut);
        auto reopened = open_at(attempt);
        const Strings got = take_all(*reopened);
        BOOST_TEST((got == numbered(1, static_cast<int>(got.size()))), "cut at " << cut);
        ++opened;
    }
    BOOST_TEST(opened == 5);
}

BOOST_AUTO_TEST_CASE(a_truncated_database_is_salvaged_and_kept_aside) {
    {
        auto o = open();
        for (int i = 1; i <= 2000; ++i) o->append(msg(std::to_string(i) + std::string(100, '.')));
    }  // closing checkpoints everything into the main file
    const auto size = std::filesystem::file_size(file());
    std::filesystem::resize_file(file(), size / 2);
    auto o = open();
    const OutboxStats s = o->stats();
    BOOST_TEST(s.queued > 0u);
    BOOST_TEST(s.queued < 2000u);
    BOOST_TEST(std::filesystem::exists(file().string() + ".damaged"));
    // The log and status say how many were recovered: exactly what is queued.
    BOOST_TEST(sink->contains("was damaged"));
    BOOST_TEST(sink->contains("; " + std::to_string(s.queued) + " readings were recovered from it"), sink->text());
    BOOST_TEST(s.recovered == s.queued);
    BOOST_TEST(s.found_at_start.find("the queue file was damaged (") == 0u, s.found_at_start);
    BOOST_TEST(s.found_at_start.find(std::to_string(s.queued) + " readings recovered") != std::string::npos);
    // What was salvaged is in order, and new readings queue behind it.
    o->append(msg("new"));
    const Strings got = take_all(*o);
    BOOST_TEST(got.back() == "new");
    BOOST_TEST(got.front() == "1" + std::string(100, '.'));
    BOOST_TEST(o->stats().damaged == 0u);  // nothing fake was copied out of the damaged pages
}

BOOST_AUTO_TEST_CASE(an_empty_queue_file_is_reported_not_taken_for_a_new_one) {
    std::filesystem::create_directories(file().parent_path());
    std::ofstream(file()).close();  // 0 bytes: what a crash before the first write leaves
    auto o = open();
    BOOST_TEST(o->stats().queued == 0u);
    BOOST_TEST(sink->contains("was empty (0 bytes) although it existed: whatever it held is lost"), sink->text());
    BOOST_TEST(o->stats().found_at_start == "the queue file was empty (0 bytes): whatever it held is lost");
    o->append(msg("1"));
    BOOST_TEST((take_all(*o) == Strings{"1"}));
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_queue_is_moved_aside) {
    std::filesystem::create_directories(file().parent_path());
    std::ofstream(file()) << std::string(10000, 'g');
    auto o = open();
    BOOST_TEST(o->stats().queued == 0u);
    o->append(msg("1"));
    BOOST_TEST((take_all(*o) == Strings{"1"}));
    BOOST_TEST(std::filesystem::exists(file().string() + ".damaged"));
}

BOOST_AUTO_TEST_CASE(fsync_always_and_never_keep_the_same_order) {
    for (FsyncPolicy policy : {FsyncPolicy::always, FsyncPolicy::never}) {
        const auto at = dir.path() / (policy == FsyncPolicy::always ? "always" : "never") / "q.db";
        {
            auto o = open_at(at, 1 << 30, OverflowPolicy::drop_oldest, policy);
            for (int i = 1; i <= 50; ++i) o->append(msg(std::to_string(i)));
        }
        auto o = open_at(at, 1 << 30, OverflowPolicy::drop_oldest, policy);
        BOOST_TEST((take_all(*o) == numbered(1, 50)));
    }
}

BOOST_AUTO_TEST_CASE(producers_on_many_threads_lose_nothing) {
    auto o = open();
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t) {
        producers.emplace_back([&o, t] {
            for (int i = 0; i < 5000; ++i) o->append(msg(std::to_string(t) + ":" + std::to_string(i)));
        });
    }
    std::atomic<int> consumed{0};
    std::thread consumer([&] {
        std::vector<OutboxEntry> batch;
        for (int round = 0; round < 200000 && consumed.load() < 20000; ++round) {
            batch.clear();
            if (o->take(100, batch) == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
            for (const auto& e : batch) {
                o->acknowledge(e.id);
                ++consumed;
            }
        }
    });
    for (auto& p : producers) p.join();
    consumer.join();
    BOOST_TEST(consumed.load() == 20000);
    BOOST_TEST(o->stats().queued == 0u);
    BOOST_TEST(o->stats().delivered == 20000u);
}

// A full disk, for real: a 6 MiB tmpfs in a private mount namespace. The
// queue grows as it does in an outage, a commit at a time, until the disk is
// full. Needs root (CI runs as root); elsewhere it says so and skips.
BOOST_AUTO_TEST_CASE(a_full_disk_is_one_clear_error_and_the_overflow_policy) {
    if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        BOOST_TEST_MESSAGE("skipped: needs root to mount a small tmpfs");
        return;
    }
    const auto small = dir.path() / "small";
    std::filesystem::create_directories(small);
    BOOST_REQUIRE(mount("tmpfs", small.c_str(), "tmpfs", 0, "size=6m") == 0);
    {
        auto o = open_at(small / "q.db", 1 << 30, OverflowPolicy::drop_oldest);
        const std::string filler(500, 'x');
        int appended = 0;
        for (int chunk = 0; chunk < 1000 && o->stats().dropped_overflow < 2000; ++chunk) {
            for (int i = 0; i < 50; ++i) appended += o->append(msg(std::to_string(appended) + filler)) ? 1 : 0;
            o->flush(std::chrono::seconds(5));
        }
        const OutboxStats s = o->stats();
        BOOST_TEST_MESSAGE("disk full, drop-oldest: " << appended << " appended, " << s.queued << " queued (" << s.bytes
                                                      << " bytes), " << s.dropped_overflow << " dropped");
        BOOST_TEST(s.dropped_overflow > 0u);
        BOOST_TEST(s.queued > 0u);
        BOOST_TEST(s.queued + s.dropped_overflow == static_cast<std::uint64_t>(appended));
        // The disk dropped them, not max_bytes (1 GiB here): counted as such.
        BOOST_TEST(s.dropped_disk_full == s.dropped_overflow);
        BOOST_TEST(!s.problem.empty());
        // The newest survive, in order.
        const Strings got = take_all(*o);
        BOOST_TEST_REQUIRE(!got.empty());
        BOOST_TEST(got.back() == std::to_string(appended - 1) + filler);
        const std::string logged = sink->text();
        size_t lines = 0;
        for (size_t at = logged.find("no space left"); at != std::string::npos;
             at = logged.find("no space left", at + 1))
            ++lines;
        BOOST_TEST(lines == 1u);  // one clear error, not one per reading
    }
    umount(small.c_str());
}

BOOST_AUTO_TEST_SUITE_END()

// Live-first replay: the backlog (also on disk, after a restart) and what
// comes after the split are two lanes, each in order; rewind() ends the split.
BOOST_FIXTURE_TEST_CASE(lanes_split_the_backlog_from_what_comes_after, Fixture) {
    {
        auto o = open();
        for (const char* p : {"b1", "b2"}) o->append(msg(p));
        BOOST_TEST(o->flush());
    }
    auto o = open();  // b1, b2 are on disk now
    o->append(msg("b3"));
    o->split_lanes(o->next_id());
    for (const char* p : {"n1", "n2"}) o->append(msg(p));
    BOOST_TEST(o->has_untaken());
    BOOST_TEST(o->has_untaken_live());
    std::vector<OutboxEntry> live, backlog;
    BOOST_TEST(o->take_live(10, live) == 2u);
    BOOST_TEST(payloads(live) == (Strings{"n1", "n2"}));
    BOOST_TEST(!o->has_untaken_live());
    BOOST_TEST(o->take(10, backlog) == 3u);
    BOOST_TEST(payloads(backlog) == (Strings{"b1", "b2", "b3"}));
    BOOST_TEST(!o->has_untaken());
    o->append(msg("n3"));
    BOOST_TEST(!o->has_untaken());  // a new one is live
    live.clear();
    BOOST_TEST(o->take_live(10, live) == 1u);
    BOOST_TEST(o->remove(live[0].id, Removal::delivered));
    BOOST_TEST(o->remove(backlog[0].id, Removal::delivered));
    BOOST_TEST(o->stats().queued == 4u);
    o->rewind();  // one lane again, everything unacknowledged in order
    BOOST_TEST(take_all(*o) == (Strings{"b2", "b3", "n1", "n2"}));
}
