#define BOOST_TEST_MODULE topic_template
#include <boost/test/unit_test.hpp>

#include "topics/topic_template.h"

using namespace gwd;

namespace {
TopicTemplate compile(const char* text) {
    std::string error;
    auto t = TopicTemplate::compile(text, error);
    BOOST_REQUIRE_MESSAGE(t, error);
    return *t;
}
std::string error_of(const char* text) {
    std::string error;
    BOOST_TEST(!TopicTemplate::compile(text, error));
    return error;
}
}  // namespace

BOOST_AUTO_TEST_CASE(issue_example_renders) {
    // sensors/gateway01/sensor02 read by mqtt_local -> reading "sensor02"
    auto t = compile("telemetry/{gateway}/{sensor}");
    BOOST_TEST(t.render({"gw-01", "sensor02", "field", "mqtt_local", "cloud"}) == "telemetry/gw-01/sensor02");
}

BOOST_AUTO_TEST_CASE(every_variable) {
    auto t = compile("{upstream}/{plugin}/{instance}/{gateway}/{sensor}");
    BOOST_TEST(t.render({"g", "s", "i", "p", "u"}) == "u/p/i/g/s");
    BOOST_TEST(compile("fixed/topic").render({"g", "s", "i", "p", "u"}) == "fixed/topic");
    BOOST_TEST(compile("$aws/things/{gateway}/x").render({"g", "s", "i", "p", "u"}) == "$aws/things/g/x");
}

BOOST_AUTO_TEST_CASE(bad_templates_explain_themselves) {
    BOOST_TEST(error_of("telemetry/{sensr}") == "unknown topic variable {sensr}; did you mean {sensor}?");
    BOOST_TEST(error_of("telemetry/{zzzzzzzzzz}").find("known: {gateway}") != std::string::npos);
    BOOST_TEST(error_of("telemetry/{sensor").find("not closed") != std::string::npos);
    BOOST_TEST(error_of("telemetry/#").find("wildcard '#'") != std::string::npos);
    BOOST_TEST(error_of("telemetry/+/x").find("wildcard '+'") != std::string::npos);
    BOOST_TEST(error_of("").find("empty") != std::string::npos);
    BOOST_TEST(error_of("a}b").find("without '{'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(substituted_values_are_checked) {
    BOOST_TEST(topic_value_problem("sensor02").empty());
    BOOST_TEST(topic_value_problem("room/1").empty());  // levels are allowed
    BOOST_TEST(topic_value_problem("a+b") == "contains the MQTT wildcard '+'");
    BOOST_TEST(topic_value_problem("a#") == "contains the MQTT wildcard '#'");
    BOOST_TEST(topic_value_problem("") == "is empty");
    BOOST_TEST(topic_value_problem("a\nb") == "contains a control character");
    BOOST_TEST(topic_value_problem(std::string(300, 'x')) == "is longer than 256 bytes");
    BOOST_TEST(topic_value_problem("\xff") == "is not valid UTF-8");
}
