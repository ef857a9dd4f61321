#define BOOST_TEST_MODULE encoding
#include <boost/test/unit_test.hpp>

#include "common/encoding.h"

using namespace gwd;

namespace {
std::optional<std::string> b64(std::string_view text, std::string* error_out = nullptr) {
    std::string error;
    auto r = base64_decode(text, error);
    if (error_out) *error_out = error;
    return r;
}
std::optional<std::string> hex(std::string_view text, std::string* error_out = nullptr) {
    std::string error;
    auto r = hex_decode(text, error);
    if (error_out) *error_out = error;
    return r;
}
}  // namespace

BOOST_AUTO_TEST_CASE(base64_seed_vector) {
    // Seed 000, sensor02: base64.b64encode(b"23.7")
    BOOST_TEST(*b64("MjMuNw==") == "23.7");
    BOOST_TEST(base64_encode("23.7") == "MjMuNw==");
}

BOOST_AUTO_TEST_CASE(base64_rfc4648_vectors) {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (auto [plain, encoded] : vectors) {
        BOOST_TEST(base64_encode(plain) == encoded);
        if (*plain) BOOST_TEST(*b64(encoded) == plain);
    }
}

BOOST_AUTO_TEST_CASE(base64_tolerates_missing_padding_url_alphabet_and_line_breaks) {
    BOOST_TEST(*b64("MjMuNw") == "23.7");
    BOOST_TEST(*b64("-_8") == std::string("\xfb\xff", 2));
    BOOST_TEST(*b64("Zm9v\nYmFy\r\n") == "foobar");
}

BOOST_AUTO_TEST_CASE(base64_errors_name_the_byte) {
    std::string error;
    BOOST_TEST(!b64("MjM!Nw==", &error));
    BOOST_TEST(error == "not base64: byte 3 ('!')");
    BOOST_TEST(!b64("Zm9vY", &error));
    BOOST_TEST(error.find("truncated") != std::string::npos);
    BOOST_TEST(!b64("Zg==Zg==", &error));
    BOOST_TEST(error.find("after '=' padding") != std::string::npos);
    BOOST_TEST(!b64("", &error));
    BOOST_TEST(!b64("Zg===", &error));
}

BOOST_AUTO_TEST_CASE(hex_round_trip_and_forms) {
    BOOST_TEST(hex_encode("23.7") == "32332e37");
    BOOST_TEST(*hex("32332e37") == "23.7");
    BOOST_TEST(*hex("32332E37") == "23.7");
    BOOST_TEST(*hex("0x32332e37") == "23.7");
    BOOST_TEST(*hex("32 33 2e 37") == "23.7");
    BOOST_TEST(*hex("32:33:2e:37") == "23.7");
}

BOOST_AUTO_TEST_CASE(hex_errors) {
    std::string error;
    BOOST_TEST(!hex("3233g", &error));
    BOOST_TEST(error == "not hex: byte 4 ('g')");
    BOOST_TEST(!hex("323", &error));
    BOOST_TEST(error.find("odd number") != std::string::npos);
    BOOST_TEST(!hex("3 23", &error));  // a separator inside a byte pair
    BOOST_TEST(!hex("", &error));
}
