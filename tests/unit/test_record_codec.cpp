#define BOOST_TEST_MODULE record_codec
#include <boost/test/unit_test.hpp>

#include "common/crc32c.h"
#include "outbox/record_codec.h"

using namespace gwd;

namespace {
Message sample() {
    Message m;
    m.kind = Message::Kind::dead_letter;
    m.sensor = "temperature";
    m.instance = "boiler";
    m.timestamp_ms = 1700000000123;
    m.accepted_ms = 1700000000456;
    m.expires_at_ms = 1700000060456;
    m.payload = std::string("\x00\x01\xff payload", 11);
    m.content_type = "application/json";
    m.utf8 = true;
    m.properties = {{"unit", "C"}, {"unit", "K"}, {"k\xc3\xa9y", ""}};
    m.error = "invalid base64";
    return m;
}
}  // namespace

BOOST_AUTO_TEST_CASE(crc32c_matches_the_standard_check_value) {
    BOOST_TEST(crc32c("123456789") == 0xE3069283u);
    BOOST_TEST(crc32c("") == 0u);
    // Continuing a CRC equals computing it in one go (the 8-byte fast path and the tail agree).
    const std::string text = "The quick brown fox jumps over the lazy dog";
    BOOST_TEST(crc32c(text.substr(13), crc32c(text.substr(0, 13))) == crc32c(text));
}

BOOST_AUTO_TEST_CASE(every_field_survives_the_round_trip) {
    const Message m = sample();
    const std::string bytes = encode_record(m);
    BOOST_TEST(bytes.size() == encoded_record_size(m));
    std::string error;
    auto back = decode_record(bytes, error);
    BOOST_TEST_REQUIRE(back.has_value(), error);
    BOOST_TEST((back->kind == m.kind));
    BOOST_TEST(back->sensor == m.sensor);
    BOOST_TEST(back->instance == m.instance);
    BOOST_TEST(back->timestamp_ms == m.timestamp_ms);
    BOOST_TEST(back->accepted_ms == m.accepted_ms);
    BOOST_TEST(back->expires_at_ms == m.expires_at_ms);
    BOOST_TEST(back->payload == m.payload);
    BOOST_TEST(back->content_type == m.content_type);
    BOOST_TEST(back->utf8 == m.utf8);
    BOOST_TEST((back->properties == m.properties));
    BOOST_TEST(back->error == m.error);
}

BOOST_AUTO_TEST_CASE(the_size_is_exact_for_long_fields_too) {
    Message m = sample();
    m.payload.assign(300000, 'x');  // three-byte varint length
    m.properties.assign(200, UserProperty{"k", "v"});
    BOOST_TEST(encode_record(m).size() == encoded_record_size(m));
    std::string reused = "old content";
    encode_record(m, reused);
    BOOST_TEST(reused == encode_record(m));
}

BOOST_AUTO_TEST_CASE(every_single_bit_flip_is_detected) {
    const std::string bytes = encode_record(sample());
    int detected = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string damaged = bytes;
            damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
            std::string error;
            if (!decode_record(damaged, error)) {
                BOOST_TEST(!error.empty());
                ++detected;
            }
        }
    }
    BOOST_TEST(detected == static_cast<int>(bytes.size() * 8));
}

BOOST_AUTO_TEST_CASE(every_truncation_is_refused_with_a_reason) {
    const std::string bytes = encode_record(sample());
    for (size_t n = 0; n < bytes.size(); ++n) {
        std::string error;
        BOOST_TEST(!decode_record(bytes.substr(0, n), error).has_value());
        BOOST_TEST(!error.empty());
    }
}

BOOST_AUTO_TEST_CASE(unknown_formats_and_trailing_bytes_are_refused) {
    std::string bytes = encode_record(sample());
    std::string error;
    std::string other = bytes;
    other[0] = 2;
    BOOST_TEST(!decode_record(other, error));
    BOOST_TEST(error.find("format") != std::string::npos);
    BOOST_TEST(!decode_record(bytes + "x", error));  // the CRC covers the tail
}
