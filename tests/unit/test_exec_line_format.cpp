// The exec plugin's line formats (plugins/exec/line_format.h).
#define BOOST_TEST_MODULE exec_line_format
#include <boost/test/unit_test.hpp>

#include "line_format.h"

using namespace exec_plugin;

namespace {
LineReading only(const ParsedLine& p) {
    BOOST_REQUIRE_MESSAGE(p.error.empty(), p.error);
    BOOST_REQUIRE_EQUAL(p.readings.size(), 1u);
    return p.readings[0];
}
}  // namespace

BOOST_AUTO_TEST_CASE(value_lines_are_a_name_and_a_value_or_a_bare_value) {
    auto r = only(parse_line("temperature 21.5", LineFormat::value));
    BOOST_TEST(r.name == "temperature");
    BOOST_TEST(r.payload == "21.5");
    r = only(parse_line("  status all good \r", LineFormat::automatic));
    BOOST_TEST(r.name == "status");
    BOOST_TEST(r.payload == "all good");
    r = only(parse_line("21.5", LineFormat::automatic));
    BOOST_TEST(r.name == "");
    BOOST_TEST(r.payload == "21.5");
    BOOST_TEST(parse_line("", LineFormat::value).readings.empty());
    BOOST_TEST(parse_line("# a comment", LineFormat::automatic).readings.empty());
    BOOST_TEST(parse_line("# a comment", LineFormat::automatic).error.empty());
}

BOOST_AUTO_TEST_CASE(json_lines_carry_content_type_properties_and_time) {
    auto r = only(parse_line(R"({"name":"t","value":21.50,"content_type":"text/plain",)"
                             R"("properties":{"unit":"C","calibrated":true},"timestamp_ms":1700000000000})",
                             LineFormat::automatic));
    BOOST_TEST(r.name == "t");
    BOOST_TEST(r.payload == "21.50");  // as written
    BOOST_TEST(r.content_type == "text/plain");
    BOOST_REQUIRE_EQUAL(r.properties.size(), 2u);
    BOOST_TEST(r.properties[1].second == "true");
    BOOST_TEST(r.timestamp_ms == 1700000000000);

    r = only(parse_line(R"({"value":{"x":1},"properties":[["k","a"],["k","b"]]})", LineFormat::json));
    BOOST_TEST(r.payload == R"({"x":1})");
    BOOST_TEST(r.content_type == "application/json");
    BOOST_TEST(r.properties.size() == 2u);  // duplicates kept, in order

    BOOST_TEST(parse_line(R"({"name":"t")", LineFormat::automatic).error.find("not JSON") == 0u);
    BOOST_TEST(parse_line(R"({"name":"t"})", LineFormat::json).error == "a JSON reading needs a \"value\"");
    BOOST_TEST(parse_line(R"({"value":1,"colour":"red"})", LineFormat::json).error.find("unknown key \"colour\"") ==
               0u);
    BOOST_TEST(!parse_line(R"({"value":1,"properties":{"k":[1]}})", LineFormat::json).error.empty());
    BOOST_TEST(!parse_line(R"({"value":1,"timestamp_ms":1.5})", LineFormat::json).error.empty());
    BOOST_TEST(!parse_line("[1,2]", LineFormat::json).error.empty());
}

BOOST_AUTO_TEST_CASE(influx_lines_give_one_reading_per_field_with_tags_as_properties) {
    const ParsedLine p =
        parse_line(R"(weather,room=lab\ 2,site=a\,b temp=21.5,hum=40i,ok=t,note="say \"hi\"" 1700000000123456789)",
                   LineFormat::automatic);
    BOOST_REQUIRE_MESSAGE(p.error.empty(), p.error);
    BOOST_REQUIRE_EQUAL(p.readings.size(), 4u);
    BOOST_TEST(p.readings[0].name == "weather.temp");
    BOOST_TEST(p.readings[0].payload == "21.5");
    BOOST_TEST(p.readings[1].payload == "40");
    BOOST_TEST(p.readings[2].payload == "true");
    BOOST_TEST(p.readings[3].payload == "say \"hi\"");
    BOOST_REQUIRE_EQUAL(p.readings[0].properties.size(), 2u);
    BOOST_TEST(p.readings[0].properties[0].second == "lab 2");
    BOOST_TEST(p.readings[0].properties[1].second == "a,b");
    BOOST_TEST(p.readings[3].timestamp_ms == 1700000000123);

    auto r = only(parse_line("cpu value=0.5", LineFormat::influx));
    BOOST_TEST(r.name == "cpu");  // a field called "value" is the measurement itself

    BOOST_TEST(!parse_line("cpu value=", LineFormat::influx).error.empty());
    BOOST_TEST(!parse_line("cpu value=abc", LineFormat::influx).error.empty());
    BOOST_TEST(!parse_line("cpu value=\"open", LineFormat::influx).error.empty());
    BOOST_TEST(!parse_line("cpu,tag value=1", LineFormat::influx).error.empty());
    BOOST_TEST(!parse_line("cpu value=1 12x", LineFormat::influx).error.empty());
    BOOST_TEST(!parse_line("cpu", LineFormat::influx).error.empty());
}

BOOST_AUTO_TEST_CASE(format_names) {
    BOOST_TEST((line_format_named("influx") == LineFormat::influx));
    BOOST_TEST(!line_format_named("csv"));
}
