#define BOOST_TEST_MODULE units
#include <boost/test/unit_test.hpp>

#include "common/units.h"

using namespace gwd;
using std::chrono::milliseconds;

namespace {
std::optional<milliseconds> duration(const char* text) {
    std::string error;
    return parse_duration(text, error);
}
std::string duration_error(const char* text) {
    std::string error;
    BOOST_TEST(!parse_duration(text, error).has_value());
    return error;
}
std::optional<std::uint64_t> size(const char* text) {
    std::string error;
    return parse_size(text, error);
}
}  // namespace

BOOST_AUTO_TEST_CASE(durations_with_units) {
    BOOST_TEST(duration("250ms")->count() == 250);
    BOOST_TEST(duration("5s")->count() == 5000);
    BOOST_TEST(duration("2m")->count() == 120000);
    BOOST_TEST(duration("1h")->count() == 3600000);
    BOOST_TEST(duration("1d")->count() == 86400000);
    BOOST_TEST(duration("1m30s")->count() == 90000);
    BOOST_TEST(duration("1.5s")->count() == 1500);
    BOOST_TEST(duration("0s")->count() == 0);
}

BOOST_AUTO_TEST_CASE(durations_refused_with_a_reason) {
    BOOST_TEST(duration_error("5").find("needs a unit") != std::string::npos);
    BOOST_TEST(duration_error("5 s").find("unknown unit") == std::string::npos);  // "5 s": space is not a unit
    BOOST_TEST(duration_error("5x").find("unknown unit \"x\"") != std::string::npos);
    BOOST_TEST(duration_error("").find("empty") != std::string::npos);
    BOOST_TEST(duration_error("s").find("not a duration") != std::string::npos);
    BOOST_TEST(duration_error("-5s").find("not a duration") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sizes) {
    BOOST_TEST(*size("512") == 512u);
    BOOST_TEST(*size("512B") == 512u);
    BOOST_TEST(*size("64KiB") == 65536u);
    BOOST_TEST(*size("256MiB") == 268435456u);
    BOOST_TEST(*size("1GiB") == 1073741824u);
    BOOST_TEST(*size("10MB") == 10000000u);
    BOOST_TEST(*size("1.5KiB") == 1536u);
    BOOST_TEST(!size("10 parsecs"));
    BOOST_TEST(!size("MiB"));
}

BOOST_AUTO_TEST_CASE(formatting_durations) {
    BOOST_TEST(format_duration(milliseconds(0)) == "0s");
    BOOST_TEST(format_duration(milliseconds(250)) == "250ms");
    BOOST_TEST(format_duration(milliseconds(1500)) == "1.5s");
    BOOST_TEST(format_duration(milliseconds(5000)) == "5s");
    BOOST_TEST(format_duration(milliseconds(90000)) == "1m30s");
    BOOST_TEST(format_duration(milliseconds(3600000)) == "1h");
}

BOOST_AUTO_TEST_CASE(absurd_numbers_are_errors_not_exceptions) {
    std::string huge = "1" + std::string(400, '0');
    std::string error;
    BOOST_TEST(!parse_duration(huge + "s", error));
    BOOST_TEST(!parse_size(huge + "GiB", error));
    BOOST_TEST(!parse_duration("0." + std::string(400, '0') + "1s", error).has_value());
    BOOST_TEST(!parse_duration("99999999999999d", error));
    BOOST_TEST(error == "is too large");
}
