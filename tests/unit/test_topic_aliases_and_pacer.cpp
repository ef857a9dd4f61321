#define BOOST_TEST_MODULE topic_aliases_and_pacer
#include <boost/test/unit_test.hpp>

#include "upstream/publish_pacer.h"
#include "upstream/topic_aliases.h"

#include <vector>

using namespace gwd;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(aliases_on_second_use_up_to_the_maximum) {
    TopicAliases a;
    a.reset(2);
    auto first = a.use("sensors/field/field001/equipments/a804e598/temperature");
    BOOST_TEST(first.alias == 0);
    BOOST_TEST(first.send_topic);
    auto second = a.use("sensors/field/field001/equipments/a804e598/temperature");
    BOOST_TEST(second.alias == 1);
    BOOST_TEST(second.send_topic);  // establishes the alias
    auto third = a.use("sensors/field/field001/equipments/a804e598/temperature");
    BOOST_TEST(third.alias == 1);
    BOOST_TEST(!third.send_topic);  // the alias alone
    a.use("b");
    BOOST_TEST(a.use("b").alias == 2);
    a.use("c");
    BOOST_TEST(a.use("c").alias == 0);  // maximum reached
    BOOST_TEST(a.assigned() == 2);
}

BOOST_AUTO_TEST_CASE(no_aliases_when_the_broker_allows_none) {
    TopicAliases a;
    a.reset(0);
    a.use("t");
    BOOST_TEST(a.use("t").alias == 0);
    a.reset(5);  // a new connection starts over
    BOOST_TEST(a.use("t").alias == 0);
    BOOST_TEST(a.use("t").alias == 1);
}

BOOST_AUTO_TEST_CASE(unlimited_pacer_never_waits) {
    PublishPacer p;
    const auto t = PublishPacer::Clock::time_point{} + 1h;
    for (int i = 0; i < 10000; ++i) BOOST_TEST_REQUIRE(p.try_take(t));
    BOOST_TEST(p.wait(t).count() == 0);
}

BOOST_AUTO_TEST_CASE(a_rate_limits_publishes_per_second) {
    PublishPacer p(100);
    auto t = PublishPacer::Clock::time_point{} + 1h;
    int taken = 0;
    for (int ms = 0; ms < 2000; ++ms) {
        while (p.try_take(t)) ++taken;
        t += 1ms;
    }
    BOOST_TEST(taken >= 195);
    BOOST_TEST(taken <= 205);
}

BOOST_AUTO_TEST_CASE(quota_exceeded_halves_then_recovers) {
    PublishPacer p;  // unlimited
    auto t = PublishPacer::Clock::time_point{} + 1h;
    for (int i = 0; i < 400; ++i) p.try_take(t + std::chrono::milliseconds(i * 2));  // ~500/s for 0.8 s
    t += 1s;
    p.try_take(t);
    p.quota_exceeded(t);
    const double slowed = p.current_rate();
    BOOST_TEST(slowed > 0);
    BOOST_TEST(slowed <= 250);
    p.quota_exceeded(t + 1s);
    BOOST_TEST(p.current_rate() == slowed / 2);
    p.try_take(t + 1s + 61s);
    BOOST_TEST(p.current_rate() == slowed);  // one quiet minute doubles it back
}

namespace {
// The most events `events` puts in any window of `window` length.
int busiest_window(const std::vector<std::pair<PublishPacer::Clock::time_point, int>>& events,
                   PublishPacer::Clock::duration window) {
    int most = 0;
    for (size_t i = 0; i < events.size(); ++i) {
        int in = 0;
        for (size_t j = i; j < events.size() && events[j].first < events[i].first + window; ++j) in += events[j].second;
        most = std::max(most, in);
    }
    return most;
}
}  // namespace

// AWS IoT Core: "100 publish requests per second per connection (inbound and
// outbound)"; excess is discarded. A token bucket of one second would let
// 200 through in a second after a quiet one; the window never does, and
// once the platform's pace is known (from the second window on) what it
// sends fits beside ours.
BOOST_AUTO_TEST_CASE(no_second_holds_more_than_the_rate_inbound_included) {
    PublishPacer p(100);
    const auto start = PublishPacer::Clock::time_point{} + 1h;
    auto t = start;
    std::vector<std::pair<PublishPacer::Clock::time_point, int>> events, settled;
    int outbound = 0, inbound = 0;
    for (int ms = 0; ms < 10000; ++ms) {
        // The platform sends us 30 a second (commands, shadow replies), in bursts of 3.
        if (ms % 100 == 0) {
            p.record_received(t, 3);
            events.push_back({t, 3});
            inbound += 3;
        }
        while (p.try_take(t)) {
            events.push_back({t, 1});
            ++outbound;
        }
        t += 1ms;
    }
    for (const auto& e : events) {
        if (e.first >= start + 1s) settled.push_back(e);
    }
    BOOST_TEST(busiest_window(settled, 1s) <= 100);
    BOOST_TEST(inbound == 300);
    BOOST_TEST(outbound >= 690);  // what is left of 100/s: ~70/s over 10 s
    BOOST_TEST(outbound <= 730);  // the first second did not know the platform's pace yet
    // Without the platform's share the same loop would send 1,000.
    PublishPacer alone(100);
    int own = 0;
    for (int ms = 0; ms < 10000; ++ms) {
        while (alone.try_take(start + std::chrono::milliseconds(ms))) ++own;
    }
    BOOST_TEST(own == 1000);
}

BOOST_AUTO_TEST_CASE(wait_says_when_the_window_has_room) {
    PublishPacer p(2);
    const auto t = PublishPacer::Clock::time_point{} + 1h;
    BOOST_TEST(p.try_take(t));
    BOOST_TEST(p.try_take(t + 300ms));
    BOOST_TEST(!p.try_take(t + 400ms));
    BOOST_TEST((p.wait(t + 400ms) == 600ms));  // the first leaves the window at t + 1 s
    BOOST_TEST((p.wait(t + 400ms, 2) == 900ms));
    BOOST_TEST(p.try_take(t + 1000ms));
    // A cost over the whole allowance goes once the window is empty.
    PublishPacer q(2);
    BOOST_TEST(q.try_take(t, 5));
    BOOST_TEST(!q.try_take(t + 999ms, 5));
    BOOST_TEST(q.try_take(t + 1000ms, 5));
    // Under 1/s: one per 1/rate seconds.
    PublishPacer slow(0.5);
    BOOST_TEST(slow.try_take(t));
    BOOST_TEST(!slow.try_take(t + 1999ms));
    BOOST_TEST(slow.try_take(t + 2000ms));
}
