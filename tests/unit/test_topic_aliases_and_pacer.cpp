#define BOOST_TEST_MODULE topic_aliases_and_pacer
#include <boost/test/unit_test.hpp>

#include "upstream/publish_pacer.h"
#include "upstream/topic_aliases.h"

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
