#define BOOST_TEST_MODULE inflight_window
#include <boost/test/unit_test.hpp>

#include "upstream/inflight_window.h"

using namespace gwd;

BOOST_AUTO_TEST_CASE(tracks_open_publishes_and_the_oldest) {
    InflightWindow w;
    BOOST_TEST(!w.oldest());
    for (std::uint64_t id : {3, 4, 7, 9}) w.sent(id);
    BOOST_TEST(w.size() == 4u);
    BOOST_TEST(*w.oldest() == 3u);
    BOOST_TEST(w.settle(4).has_value());  // out of order
    BOOST_TEST(*w.oldest() == 3u);
    BOOST_TEST(w.settle(3).has_value());
    BOOST_TEST(*w.oldest() == 7u);
    BOOST_TEST(w.size() == 2u);
    BOOST_TEST(!w.settle(3));  // twice
    BOOST_TEST(!w.settle(5));  // never sent
    BOOST_TEST(w.settle(9).has_value());
    BOOST_TEST(w.settle(7).has_value());
    BOOST_TEST(w.size() == 0u);
    BOOST_TEST(!w.oldest());
}

BOOST_AUTO_TEST_CASE(clear_forgets_everything) {
    InflightWindow w;
    w.sent(1);
    w.sent(2);
    w.clear();
    BOOST_TEST(w.size() == 0u);
    BOOST_TEST(!w.settle(1));
}

BOOST_AUTO_TEST_CASE(an_older_id_sent_again_keeps_the_order) {
    InflightWindow w;
    w.sent(5);
    w.sent(9);
    w.sent(3);  // retried after a quota refusal
    BOOST_TEST(*w.oldest() == 3u);
    BOOST_TEST(w.size() == 3u);
    w.sent(3);  // not twice
    BOOST_TEST(w.size() == 3u);
    BOOST_TEST(w.settle(3).has_value());
    BOOST_TEST(*w.oldest() == 5u);
}

BOOST_AUTO_TEST_CASE(a_settled_id_sent_again_is_open_again) {
    InflightWindow w;
    w.sent(1);
    w.sent(2);
    BOOST_TEST(w.settle(2).has_value());  // refused with 0x97 while 1 is still open
    w.sent(2);                            // retried
    BOOST_TEST(w.size() == 2u);
    BOOST_TEST(w.settle(2).has_value());
    BOOST_TEST(w.size() == 1u);
}

BOOST_AUTO_TEST_CASE(settle_tells_dead_letters_apart) {
    InflightWindow w;
    w.sent(1, false);
    w.sent(2, true);
    BOOST_TEST(*w.settle(2) == true);
    BOOST_TEST(*w.settle(1) == false);
}
