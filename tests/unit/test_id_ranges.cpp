#define BOOST_TEST_MODULE id_ranges
#include <boost/test/unit_test.hpp>

#include "outbox/id_ranges.h"

using namespace gwd;
using Ranges = std::vector<IdRanges::Range>;

BOOST_AUTO_TEST_CASE(neighbours_merge_into_one_range) {
    IdRanges r;
    r.insert(5);
    r.insert(7);
    BOOST_TEST(r.range_count() == 2u);
    r.insert(6);
    BOOST_TEST((r.ranges() == Ranges{{5, 8}}));
    r.insert(1, 5);
    BOOST_TEST((r.ranges() == Ranges{{1, 8}}));
    r.insert(20, 30);
    r.insert(2, 25);  // swallows the gap and reaches into the next range
    BOOST_TEST((r.ranges() == Ranges{{1, 30}}));
    BOOST_TEST(r.size() == 29u);
}

BOOST_AUTO_TEST_CASE(membership_and_the_first_absent_id) {
    IdRanges r;
    r.insert(10, 20);
    r.insert(30, 31);
    BOOST_TEST(!r.contains(9));
    BOOST_TEST(r.contains(10));
    BOOST_TEST(r.contains(19));
    BOOST_TEST(!r.contains(20));
    BOOST_TEST(r.first_absent_from(5) == 5u);
    BOOST_TEST(r.first_absent_from(10) == 20u);
    BOOST_TEST(r.first_absent_from(15) == 20u);
    BOOST_TEST(r.first_absent_from(30) == 31u);
}

BOOST_AUTO_TEST_CASE(erase_below_cuts_a_range_in_two) {
    IdRanges r;
    r.insert(10, 20);
    r.insert(30, 40);
    r.erase_below(15);
    BOOST_TEST((r.ranges() == Ranges{{15, 20}, {30, 40}}));
    r.erase_below(35);
    BOOST_TEST((r.ranges() == Ranges{{35, 40}}));
    r.erase_below(100);
    BOOST_TEST(r.empty());
}

BOOST_AUTO_TEST_CASE(a_million_in_order_ids_stay_one_range) {
    IdRanges r;
    for (std::uint64_t id = 1; id <= 1000000; ++id) r.insert(id);
    BOOST_TEST(r.range_count() == 1u);
    r.insert(3, 3);  // empty: ignored
    BOOST_TEST(r.size() == 1000000u);
}

BOOST_AUTO_TEST_CASE(growing_a_range_in_place_swallows_those_it_reaches) {
    IdRanges r;
    r.insert(1, 3);
    r.insert(5, 6);
    r.insert(8, 9);
    r.insert(20, 21);
    r.insert(2, 8);  // starts inside {1, 3}, reaches {5, 6} and touches {8, 9}
    BOOST_TEST((r.ranges() == Ranges{{1, 9}, {20, 21}}));
    r.insert(9);  // touches the end: grows it
    BOOST_TEST((r.ranges() == Ranges{{1, 10}, {20, 21}}));
    r.insert(3, 4);  // inside: nothing changes
    BOOST_TEST((r.ranges() == Ranges{{1, 10}, {20, 21}}));
    r.insert(15, 20);  // touches the next range from before: one range
    BOOST_TEST((r.ranges() == Ranges{{1, 10}, {15, 21}}));
    BOOST_TEST(r.size() == 15u);
}
