#define BOOST_TEST_MODULE backoff
#include <boost/test/unit_test.hpp>

#include <random>

#include "supervision/backoff.h"

using namespace gwd;
using std::chrono::milliseconds;

namespace {
BackoffConfig config(int initial_ms, int max_ms, int stable_ms) {
    return BackoffConfig{milliseconds(initial_ms), milliseconds(max_ms), milliseconds(stable_ms)};
}
}  // namespace

BOOST_AUTO_TEST_CASE(ceiling_doubles_up_to_max) {
    Backoff b(config(1000, 10000, 30000), [] { return 0.999999; });
    std::vector<long> delays;
    for (int i = 0; i < 6; ++i) delays.push_back(b.next_delay().count());
    BOOST_TEST((delays == std::vector<long>{999, 1999, 3999, 7999, 9999, 9999}));
}

BOOST_AUTO_TEST_CASE(full_jitter_draws_below_the_ceiling) {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    Backoff b(config(100, 120000, 30000), [&] { return u(rng); });
    for (int i = 0; i < 20; ++i) {
        const auto ceiling = b.ceiling();
        const auto d = b.next_delay();
        BOOST_TEST(d.count() >= 0);
        BOOST_TEST(d <= ceiling);
    }
    BOOST_TEST(b.failures() == 20);
}

BOOST_AUTO_TEST_CASE(fixed_seed_gives_a_fixed_sequence) {
    auto sequence = [] {
        std::mt19937_64 rng(7);
        std::uniform_real_distribution<double> u(0.0, 1.0);
        Backoff b(config(1000, 120000, 30000), [&] { return u(rng); });
        std::vector<long> out;
        for (int i = 0; i < 8; ++i) out.push_back(b.next_delay().count());
        return out;
    };
    BOOST_TEST((sequence() == sequence()));
}

BOOST_AUTO_TEST_CASE(floor_applies) {
    Backoff b(config(1000, 120000, 30000), [] { return 0.0; });
    BOOST_TEST(b.next_delay(milliseconds(1000)).count() == 1000);
    BOOST_TEST(b.next_delay().count() == 0);
}

BOOST_AUTO_TEST_CASE(resets_only_after_a_stable_connection) {
    Backoff b(config(1000, 120000, 30000), [] { return 0.5; });
    b.next_delay();
    b.next_delay();
    b.next_delay();
    BOOST_TEST(b.failures() == 3);
    const auto t0 = Backoff::Clock::time_point{} + std::chrono::hours(1);
    b.connected(t0);
    b.disconnected(t0 + std::chrono::seconds(5));  // flapping: keep growing
    BOOST_TEST(b.failures() == 3);
    b.connected(t0 + std::chrono::seconds(10));
    b.disconnected(t0 + std::chrono::seconds(41));  // stayed up 31 s
    BOOST_TEST(b.failures() == 0);
    BOOST_TEST(b.ceiling().count() == 1000);
}
