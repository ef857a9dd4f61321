#define BOOST_TEST_MODULE memory_outbox
#include <boost/test/unit_test.hpp>

#include "outbox/memory_outbox.h"

using namespace gwd;

namespace {
std::shared_ptr<const Message> msg(const std::string& payload) {
    auto m = std::make_shared<Message>();
    m->sensor = "s";
    m->payload = payload;
    m->timestamp_ms = std::stoll(payload.empty() ? "0" : payload.substr(0, 1)) + 1;
    m->accepted_ms = m->timestamp_ms;
    return m;
}

std::vector<std::string> take_all(Outbox& o, size_t max = 100) {
    std::vector<OutboxEntry> entries;
    o.take(max, entries);
    std::vector<std::string> out;
    for (auto& e : entries) out.push_back(e.message->payload);
    return out;
}

using Strings = std::vector<std::string>;
}  // namespace

BOOST_AUTO_TEST_CASE(fifo_take_then_acknowledge) {
    MemoryOutbox o(1 << 20, OverflowPolicy::drop_oldest);
    for (auto p : {"1", "2", "3"}) o.append(msg(p));
    std::vector<OutboxEntry> first;
    BOOST_TEST(o.take(2, first) == 2u);
    BOOST_TEST(first[0].message->payload == "1");
    BOOST_TEST(first[1].message->payload == "2");
    BOOST_TEST((take_all(o) == Strings{"3"}));
    BOOST_TEST(!o.has_untaken());
    BOOST_TEST(o.stats().queued == 3u);
    o.acknowledge(first[0].id);
    BOOST_TEST(o.stats().queued == 2u);
    BOOST_TEST(o.stats().delivered == 1u);
}

BOOST_AUTO_TEST_CASE(rewind_offers_unacknowledged_again_in_order) {
    MemoryOutbox o(1 << 20, OverflowPolicy::drop_oldest);
    for (auto p : {"1", "2", "3", "4"}) o.append(msg(p));
    std::vector<OutboxEntry> taken;
    o.take(4, taken);
    o.acknowledge(taken[1].id);  // out of order: "2" acknowledged first
    o.rewind();
    BOOST_TEST((take_all(o) == Strings{"1", "3", "4"}));
    BOOST_TEST(o.acknowledge(taken[0].id));
    BOOST_TEST(!o.acknowledge(taken[0].id));  // twice: ignored
    BOOST_TEST(!o.acknowledge(9999));         // unknown: ignored
    BOOST_TEST(o.stats().queued == 2u);
    BOOST_TEST(o.stats().delivered == 2u);
}

BOOST_AUTO_TEST_CASE(drop_oldest_keeps_the_newest_and_counts) {
    const std::uint64_t one = msg("1")->approximate_size();
    MemoryOutbox o(one * 3, OverflowPolicy::drop_oldest);
    for (auto p : {"1", "2", "3", "4", "5"}) BOOST_TEST(o.append(msg(p)));
    BOOST_TEST(o.stats().dropped_overflow == 2u);
    BOOST_TEST((take_all(o) == Strings{"3", "4", "5"}));
    BOOST_TEST(o.stats().bytes <= one * 3);
}

BOOST_AUTO_TEST_CASE(drop_newest_refuses_and_counts) {
    const std::uint64_t one = msg("1")->approximate_size();
    MemoryOutbox o(one * 2, OverflowPolicy::drop_newest);
    BOOST_TEST(o.append(msg("1")));
    BOOST_TEST(o.append(msg("2")));
    BOOST_TEST(!o.append(msg("3")));
    BOOST_TEST(o.stats().dropped_overflow == 1u);
    BOOST_TEST((take_all(o) == Strings{"1", "2"}));
}

BOOST_AUTO_TEST_CASE(dropping_taken_entries_keeps_the_cursor_right) {
    const std::uint64_t one = msg("1")->approximate_size();
    MemoryOutbox o(one * 2, OverflowPolicy::drop_oldest);
    o.append(msg("1"));
    o.append(msg("2"));
    BOOST_TEST((take_all(o, 1) == Strings{"1"}));
    o.append(msg("3"));  // drops "1", which was in flight
    BOOST_TEST((take_all(o) == Strings{"2", "3"}));
}

BOOST_AUTO_TEST_CASE(listener_hears_every_append) {
    MemoryOutbox o(1 << 20, OverflowPolicy::drop_oldest);
    int calls = 0;
    o.set_append_listener([&] { ++calls; });
    o.append(msg("1"));
    o.append(msg("2"));
    BOOST_TEST(calls == 2);
}

BOOST_AUTO_TEST_CASE(stats_report_when_the_oldest_queued_was_accepted) {
    MemoryOutbox o(1 << 20, OverflowPolicy::drop_oldest);
    BOOST_TEST(o.stats().oldest_accepted_ms == 0);
    o.append(msg("5"));
    o.append(msg("7"));
    BOOST_TEST(o.stats().oldest_accepted_ms == 6);
}
