#define BOOST_TEST_MODULE expiry
#include <boost/test/unit_test.hpp>

#include <limits>

#include "common/expiry.h"

using namespace gwd;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_CASE(zero_means_never) {
    BOOST_TEST(earlier_deadline(0, 0) == 0);
    BOOST_TEST(earlier_deadline(0, 500) == 500);
    BOOST_TEST(earlier_deadline(700, 0) == 700);
    BOOST_TEST(earlier_deadline(700, 500) == 500);
    BOOST_TEST(deadline_after(1000, std::nullopt) == 0);
    BOOST_TEST(deadline_after(1000, milliseconds(0)) == 0);
    BOOST_TEST(deadline_after(1000, milliseconds(60000)) == 61000);
    const auto max = std::numeric_limits<std::int64_t>::max();
    BOOST_TEST(deadline_after(max - 5, milliseconds(60000)) == max);  // no overflow
}

BOOST_AUTO_TEST_CASE(the_remaining_interval_is_rounded_up_never_to_zero) {
    const std::int64_t deadline = 100000;
    BOOST_TEST(!check_expiry(0, deadline).expired);
    BOOST_TEST(check_expiry(0, deadline).remaining_s == 0u);  // no deadline: no property
    BOOST_TEST(check_expiry(deadline, deadline - 60000).remaining_s == 60u);
    BOOST_TEST(check_expiry(deadline, deadline - 59001).remaining_s == 60u);
    BOOST_TEST(check_expiry(deadline, deadline - 59000).remaining_s == 59u);
    BOOST_TEST(check_expiry(deadline, deadline - 1).remaining_s == 1u);
    BOOST_TEST(!check_expiry(deadline, deadline - 1).expired);
    BOOST_TEST(check_expiry(deadline, deadline).expired);
    BOOST_TEST(check_expiry(deadline, deadline + 5000).expired);
}

BOOST_AUTO_TEST_CASE(a_message_queued_for_a_while_goes_out_with_what_is_left) {
    // Accepted at t=10s with a 60 s expiry, sent at t=35.5s: 25 s left (24.5 rounded up).
    const std::int64_t deadline = deadline_after(10000, milliseconds(60000));
    const ExpiryVerdict v = check_expiry(deadline, 45500);
    BOOST_TEST(!v.expired);
    BOOST_TEST(v.remaining_s == 25u);
}

BOOST_AUTO_TEST_CASE(huge_intervals_are_capped_at_the_mqtt_maximum) {
    const std::int64_t far = std::numeric_limits<std::int64_t>::max();
    BOOST_TEST(check_expiry(far, 0).remaining_s == std::numeric_limits<std::uint32_t>::max());
}
