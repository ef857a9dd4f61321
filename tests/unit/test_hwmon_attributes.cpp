#define BOOST_TEST_MODULE hwmon_attributes
#include <boost/test/unit_test.hpp>

// What the hwmon plugin makes of sysfs file names and contents
// (Documentation/hwmon/sysfs-interface.rst).

#include "sysfs_attributes.h"

using namespace gwd::hwmon;

BOOST_AUTO_TEST_CASE(input_files_are_classified_with_unit_and_scale) {
    auto t = classify_input("temp1_input");
    BOOST_REQUIRE(t.has_value());
    BOOST_TEST(t->kind == "temperature");
    BOOST_TEST(t->unit == "°C");
    BOOST_TEST(t->decimals == 3);
    BOOST_TEST(t->stem == "temp1");
    BOOST_TEST(classify_input("fan12_input")->unit == "RPM");
    BOOST_TEST(classify_input("fan12_input")->decimals == 0);
    BOOST_TEST(classify_input("in0_input")->unit == "V");
    BOOST_TEST(classify_input("curr1_input")->unit == "A");
    BOOST_TEST(classify_input("power1_input")->decimals == 6);
    BOOST_TEST(classify_input("energy1_input")->unit == "J");
    BOOST_TEST(classify_input("humidity1_input")->unit == "%");
    // Not inputs, or not one of these families.
    for (const char* other : {"temp1_label", "temp1_max", "temp_input", "tempx_input", "intrusion0_alarm", "name",
                              "pwm1", "power1_average", "in0_input.bak"})
        BOOST_TEST(!classify_input(other).has_value(), other);
}

BOOST_AUTO_TEST_CASE(values_are_scaled_exactly_as_decimal_text) {
    BOOST_TEST(scaled_text(45000, 3) == "45");
    BOOST_TEST(scaled_text(45500, 3) == "45.5");
    BOOST_TEST(scaled_text(27800, 3) == "27.8");
    BOOST_TEST(scaled_text(1104, 3) == "1.104");
    BOOST_TEST(scaled_text(-1250, 3) == "-1.25");
    BOOST_TEST(scaled_text(-5, 3) == "-0.005");
    BOOST_TEST(scaled_text(15250000, 6) == "15.25");
    BOOST_TEST(scaled_text(1, 6) == "0.000001");
    BOOST_TEST(scaled_text(1200, 0) == "1200");
    BOOST_TEST(scaled_text(0, 3) == "0");
    BOOST_TEST(scaled_text(INT64_MIN, 3) == "-9223372036854775.808");
}

BOOST_AUTO_TEST_CASE(labels_become_name_parts) {
    BOOST_TEST(name_part("Package id 0") == "Package_id_0");
    BOOST_TEST(name_part("  Core 0  ") == "Core_0");
    BOOST_TEST(name_part("+3.3V") == "3_3V");
    BOOST_TEST(name_part("a/b#c+d") == "a_b_c_d");
    BOOST_TEST(name_part("x86_pkg_temp") == "x86_pkg_temp");
    BOOST_TEST(name_part("...").empty());
}

BOOST_AUTO_TEST_CASE(sysfs_numbers_are_parsed_strictly) {
    BOOST_TEST(*parse_sysfs_integer("45000\n") == 45000);
    BOOST_TEST(*parse_sysfs_integer("-12") == -12);
    BOOST_TEST(!parse_sysfs_integer("").has_value());
    BOOST_TEST(!parse_sysfs_integer("N/A\n").has_value());
    BOOST_TEST(!parse_sysfs_integer("12abc").has_value());
}
