#define BOOST_TEST_MODULE json
#include <boost/test/unit_test.hpp>

#include "common/json.h"

using namespace gwd;

BOOST_AUTO_TEST_CASE(valid_documents) {
    for (const char* text : {"{}", "[]", "{\"a\":1}", " [1, 2.5, -3e2, true, false, null, \"x\"] ", "23.4",
                             "\"\\u00e9\\ud83c\\udf21\"", "{\"nested\":{\"deep\":[{}]}}"}) {
        BOOST_TEST(json_is_valid(text), text);
    }
}

BOOST_AUTO_TEST_CASE(invalid_documents) {
    for (const char* text : {"", "{", "{\"a\":}", "[1,]", "01", "1.", "+1", "'x'", "{\"a\" 1}", "\"\\x\"",
                             "\"\\ud800\"", "nul", "[1] [2]", "\"a\nb\"", "\"\xff\""}) {
        BOOST_TEST(!json_is_valid(text), text);
    }
}

// json_is_valid runs the parser without building anything; it must agree
// with json_parse on every document, valid or not.
BOOST_AUTO_TEST_CASE(validating_agrees_with_parsing) {
    for (const char* text :
         {"{}", "[1,{\"a\":[true,null]}]", "\"\\n\\t\\\"\\/\"", "-0.5e-3", "{\"a\":1,}", "[\"\\u12\"]",
          "{\"k\":\"\\udc00\"}", "[1 2]", "tru", "{\"\xe6\xb8\xa9\":\"\xc2\"}", "  7  ", "[[]]x"}) {
        std::string error;
        BOOST_TEST(json_is_valid(text) == json_parse(text, error).has_value(), text);
    }
}

// UTF-8 is checked only in runs of a string that have a non-ASCII byte; an
// escape starts a new run, which must be checked on its own.
BOOST_AUTO_TEST_CASE(utf8_is_checked_on_both_sides_of_an_escape) {
    BOOST_TEST(json_is_valid("\"\xc3\xa9\\n\xc3\xa9\""));
    BOOST_TEST(!json_is_valid("\"\xc3\xa9\\n\xff\""));
    BOOST_TEST(!json_is_valid("\"\xc3\\n\xa9\""));  // a sequence cut by the escape
    BOOST_TEST(!json_is_valid("\"abcdefgh\\tabcdefgh\xe2\x82\""));
}

// Strings are scanned eight bytes at a time: whatever ends a plain run must
// be found at every offset.
BOOST_AUTO_TEST_CASE(strings_are_read_right_wherever_a_special_byte_sits) {
    const std::string plain(20, 'x');
    for (size_t at = 0; at <= plain.size(); ++at) {
        const std::string head = plain.substr(0, at), tail = plain.substr(at);
        std::string error;
        auto escaped = json_parse("\"" + head + "\\n" + tail + "\"", error);
        BOOST_REQUIRE(escaped);
        BOOST_TEST(escaped->as_string() == head + "\n" + tail);
        auto utf8 = json_parse("\"" + head + "\xc2\xb0" + tail + "\"", error);
        BOOST_REQUIRE(utf8);
        BOOST_TEST(utf8->as_string() == head + "\xc2\xb0" + tail);
        BOOST_TEST(!json_is_valid("\"" + head + "\x01" + tail + "\""), "control byte at " << at);
        BOOST_TEST(!json_is_valid("\"" + head + "\xff" + tail + "\""), "bad UTF-8 at " << at);
        BOOST_TEST(!json_is_valid("\"" + head + "\"" + tail + "\""), "early quote at " << at);
        BOOST_TEST(!json_is_valid("\"" + head), "unterminated at " << at);
    }
}

BOOST_AUTO_TEST_CASE(depth_is_bounded) {
    std::string deep(10000, '[');
    deep += std::string(10000, ']');
    std::string error;
    BOOST_TEST(!json_parse(deep, error));
    BOOST_TEST(error.find("too deep") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(parse_builds_a_tree) {
    std::string error;
    auto v = json_parse(R"({"id":"7","params":{"temp":{"value":23.4,"time":1700000000000}},"ok":true})", error);
    BOOST_REQUIRE(v);
    BOOST_TEST(v->find("id")->as_string() == "7");
    BOOST_TEST(v->find("params")->find("temp")->find("value")->as_number().text == "23.4");
    BOOST_TEST(v->find("params")->find("temp")->find("value")->as_number().value == 23.4);
    BOOST_TEST(v->find("ok")->as_bool());
    BOOST_TEST(v->find("missing") == nullptr);
    BOOST_TEST(v->dump() == R"({"id":"7","params":{"temp":{"value":23.4,"time":1700000000000}},"ok":true})");
}

BOOST_AUTO_TEST_CASE(quoting) {
    BOOST_TEST(json_quote("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"");
    BOOST_TEST(json_quote(std::string("\x01", 1)) == "\"\\u0001\"");
    BOOST_TEST(json_quote("°C") == "\"°C\"");
    BOOST_TEST(json_quote("\xff") == "\"\xEF\xBF\xBD\"");  // invalid byte -> U+FFFD
}

BOOST_AUTO_TEST_CASE(numbers) {
    BOOST_TEST(is_json_number("23.4"));
    BOOST_TEST(is_json_number("-1e3"));
    BOOST_TEST(!is_json_number("1."));
    BOOST_TEST(!is_json_number("abc"));
    BOOST_TEST(!is_json_number("\"1\""));
}

// Codes from the cloud are read through integer(); a huge or fractional one
// is "not a code", never an undefined cast (found by fuzz_downlink_aws).
BOOST_AUTO_TEST_CASE(whole_integers_only) {
    std::string error;
    auto v =
        json_parse(R"([200, -9223372036854775808, 322222222222222222222222, 2e2, 200.5, 9223372036854775808])", error);
    BOOST_REQUIRE(v);
    const auto& a = v->as_array();
    BOOST_TEST(a[0].as_number().integer().value_or(0) == 200);
    BOOST_TEST(a[1].as_number().integer().value_or(0) == INT64_MIN);
    BOOST_TEST(!a[2].as_number().integer());
    BOOST_TEST(!a[3].as_number().integer());
    BOOST_TEST(!a[4].as_number().integer());
    BOOST_TEST(!a[5].as_number().integer());
}
