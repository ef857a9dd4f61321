// mqtt_local's acknowledgement order: a QoS 1 message is acknowledged to
// the broker only once stored, and never before one that came earlier.
#define BOOST_TEST_MODULE mqtt_local_ack_queue
#include <boost/test/unit_test.hpp>

#include "ack_queue.h"

using namespace mqtt_local;

BOOST_AUTO_TEST_CASE(acks_go_out_in_arrival_order) {
    AckQueue q;
    const auto a = q.arrived(10), b = q.arrived(11), c = q.arrived(12);
    std::vector<std::uint16_t> out;
    q.stored(c);
    q.stored(b);
    q.release(out);
    BOOST_TEST(out.empty());  // 10 is not stored yet: nothing may overtake it
    q.stored(a);
    q.release(out);
    BOOST_TEST((out == std::vector<std::uint16_t>{10, 11, 12}));
    BOOST_TEST(q.outstanding() == 0u);
}

BOOST_AUTO_TEST_CASE(reports_for_a_lost_connection_are_ignored) {
    AckQueue q;
    const auto old = q.arrived(1);
    q.reset();  // reconnected: the broker sends packet 1 again, maybe under a new id
    const auto fresh = q.arrived(1);
    q.stored(old);
    std::vector<std::uint16_t> out;
    q.release(out);
    BOOST_TEST(out.empty());
    q.stored(fresh);
    q.stored(fresh + 100);  // unknown: ignored
    q.release(out);
    BOOST_TEST((out == std::vector<std::uint16_t>{1}));
}
