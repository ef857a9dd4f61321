#define BOOST_TEST_MODULE property_rules
#include <boost/test/unit_test.hpp>

#include "normalize/property_rules.h"

using namespace gwd;

namespace {
UserProperties apply(const PropertyRules& rules, std::vector<std::pair<std::string, std::string>> in) {
    UserProperties out;
    for (const auto& [k, v] : in) rules.apply(k, v, out);
    return out;
}
std::string show(const UserProperties& props) {
    std::string s;
    for (const auto& p : props) s += p.key + "=" + p.value + ";";
    return s;
}
}  // namespace

BOOST_AUTO_TEST_CASE(pattern_compilation) {
    std::string error;
    BOOST_TEST(PropertyPattern::compile("{vendor}-rev{hw_revision}", error).has_value());
    BOOST_TEST(!PropertyPattern::compile("{vendor}{model}", error));
    BOOST_TEST(error.find("need literal text between them") != std::string::npos);
    BOOST_TEST(!PropertyPattern::compile("no fields", error));
    BOOST_TEST(!PropertyPattern::compile("{Vendor}", error));
    BOOST_TEST(!PropertyPattern::compile("{vendor", error));
}

BOOST_AUTO_TEST_CASE(pattern_matching) {
    std::string error;
    auto p = *PropertyPattern::compile("{vendor}-rev{hw_revision}", error);
    std::vector<std::pair<std::string, std::string>> fields;
    BOOST_TEST(p.match("Xiaomi-rev1.17c", fields));
    BOOST_TEST(fields.size() == 2u);
    BOOST_TEST(fields[0].second == "Xiaomi");
    BOOST_TEST(fields[1].second == "1.17c");
    BOOST_TEST(p.match("Acme-Sensors-REV2", fields));  // first "-rev" after a non-empty vendor, any case
    BOOST_TEST(fields[0].second == "Acme-Sensors");
    BOOST_TEST(!p.match("Xiaomi", fields));
    BOOST_TEST(!p.match("-rev1", fields));
    BOOST_TEST(!p.match("Xiaomi-rev", fields));

    auto suffix = *PropertyPattern::compile("{value} C", error);
    BOOST_TEST(suffix.match("23.4 C", fields));
    BOOST_TEST(fields[0].second == "23.4");
    BOOST_TEST(!suffix.match("23.4 F", fields));
}

BOOST_AUTO_TEST_CASE(seed_vendor_properties_become_canonical) {
    auto rules = PropertyRules::builtin();
    BOOST_TEST(show(apply(rules, {{"Hardware-Revision", "Xiaomi-rev1.17c"}})) == "vendor=xiaomi;hw_revision=1.17c;");
    BOOST_TEST(show(apply(rules, {{"Hardware-Manufacturer", "Huawei-rev8.2"}})) == "vendor=huawei;hw_revision=8.2;");
}

BOOST_AUTO_TEST_CASE(builtin_rules_cover_common_spellings) {
    auto rules = PropertyRules::builtin();
    BOOST_TEST(show(apply(rules, {{"hardware_revision", "rev1.2"}})) == "hw_revision=1.2;");
    BOOST_TEST(show(apply(rules, {{"HardwareRevision", "3b"}})) == "hw_revision=3b;");
    BOOST_TEST(show(apply(rules, {{"Manufacturer", "Bosch"}})) == "vendor=bosch;");
    BOOST_TEST(show(apply(rules, {{"Serial-Number", "SN123"}})) == "serial=SN123;");
    BOOST_TEST(show(apply(rules, {{"Firmware-Version", "2.0.1"}})) == "fw_version=2.0.1;");
    BOOST_TEST(show(apply(rules, {{"Unit", "°C"}})) == "unit=°C;");
}

BOOST_AUTO_TEST_CASE(unknown_properties_pass_through_in_order_with_duplicates) {
    auto rules = PropertyRules::builtin();
    BOOST_TEST(show(apply(rules, {{"Room", "kitchen"}, {"tag", "a"}, {"tag", "b"}, {"tag", "a"}})) ==
               "Room=kitchen;tag=a;tag=b;tag=a;");
}

BOOST_AUTO_TEST_CASE(identical_canonical_pairs_are_not_repeated) {
    auto rules = PropertyRules::builtin();
    auto out = apply(rules, {{"Hardware-Manufacturer", "Xiaomi"}, {"Hardware-Revision", "Xiaomi-rev1.17c"}});
    BOOST_TEST(show(out) == "vendor=xiaomi;hw_revision=1.17c;");
}

BOOST_AUTO_TEST_CASE(deny_globs_drop_properties) {
    PropertyRules rules;
    rules.add_deny("X-Debug-*");
    rules.add_deny("hw_revision");
    rules.append(PropertyRules::builtin());
    auto out = apply(rules, {{"X-Debug-Trace", "1"}, {"Hardware-Revision", "Xiaomi-rev1"}, {"keep", "me"}});
    BOOST_TEST(show(out) == "vendor=xiaomi;keep=me;");
}

BOOST_AUTO_TEST_CASE(user_rules_win_over_builtin_ones) {
    std::string error;
    PropertyRules rules;
    rules.add_rule(PropertyRule{{"Hardware-Revision"}, *PropertyPattern::compile("{model}/{hw_revision}", error), {}});
    rules.add_rename("Serial-Number", "sn");
    rules.append(PropertyRules::builtin());
    BOOST_TEST(show(apply(rules, {{"Hardware-Revision", "X1/7"}})) == "model=X1;hw_revision=7;");
    BOOST_TEST(show(apply(rules, {{"Hardware-Revision", "Xiaomi-rev1"}})) == "vendor=xiaomi;hw_revision=1;");
    BOOST_TEST(show(apply(rules, {{"Serial-Number", "9"}})) == "sn=9;");
}
