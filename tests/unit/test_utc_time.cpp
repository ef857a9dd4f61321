#define BOOST_TEST_MODULE utc_time
#include <boost/test/unit_test.hpp>

#include "common/utc_time.h"

using namespace gwd;

BOOST_AUTO_TEST_CASE(rfc3339_utc_round_trips) {
    auto t = parse_utc_time("2024-07-26T03:42:19Z");
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count() == 1721965339);
    BOOST_TEST(format_utc_time(*t) == "2024-07-26T03:42:19Z");
    BOOST_TEST((parse_utc_time("2024-07-26t03:42:19.250+00:00") == t));
    BOOST_TEST((parse_utc_time("2024-07-26 03:42:19Z") == t));
}

BOOST_AUTO_TEST_CASE(other_spellings_are_refused) {
    for (const char* bad : {"", "2024-07-26", "2024-07-26T03:42:19", "2024-07-26T03:42:19+08:00",
                            "2024-02-30T00:00:00Z", "2024-07-26T24:00:00Z", "yesterday", "2024-07-26T03:42:19.Z"}) {
        BOOST_TEST(!parse_utc_time(bad).has_value(), bad);
    }
}
