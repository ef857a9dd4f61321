#define BOOST_TEST_MODULE normalizer
#include <boost/test/unit_test.hpp>

#include "normalize/normalizer.h"

using namespace gwd;

namespace {
constexpr std::int64_t kNow = 1763802000000;  // 2025-11-22T09:00:00Z

struct Input {
    std::string sensor = "sensor01";
    std::string payload;
    std::optional<std::string> content_type;
    std::vector<std::pair<std::string, std::string>> properties;
    std::int64_t timestamp_ms = 0;
};

Message run(const Input& in, const Normalizer& normalizer, SensorDefaults defaults = {}) {
    std::vector<PropertyView> views;
    for (const auto& [k, v] : in.properties) views.push_back({k, v});
    ReadingView r;
    r.sensor = in.sensor;
    r.instance = "field";
    r.timestamp_ms = in.timestamp_ms;
    r.payload = in.payload;
    if (in.content_type) r.content_type = *in.content_type;
    r.properties = views;
    return normalizer.normalize(r, defaults, kNow);
}

Message run(const Input& in, SensorDefaults defaults = {}) {
    static const Normalizer normalizer{NormalizerOptions{}};
    return run(in, normalizer, std::move(defaults));
}

UserProperties props(std::vector<std::pair<std::string, std::string>> in) {
    UserProperties out;
    for (auto& [k, v] : in) out.push_back({k, v});
    return out;
}
}  // namespace

// The three sensors of the MQTT v5 user-property example (a Xiaomi text/plain
// reading, a Huawei base64 one, a plain one).
BOOST_AUTO_TEST_CASE(seed_sensor01_text_with_xiaomi_revision) {
    Message m =
        run({"sensor01", "23.4", {}, {{"Content-Type", "text/plain"}, {"Hardware-Revision", "Xiaomi-rev1.17c"}}});
    BOOST_TEST((m.kind == Message::Kind::data));
    BOOST_TEST(m.payload == "23.4");
    BOOST_TEST(m.content_type == "text/plain");
    BOOST_TEST(m.utf8);
    BOOST_TEST((m.properties == props({{"vendor", "xiaomi"}, {"hw_revision", "1.17c"}})));
}

BOOST_AUTO_TEST_CASE(seed_sensor02_base64_with_huawei_manufacturer) {
    Message m =
        run({"sensor02", "MjMuNw==", {}, {{"Content-Type", "base64"}, {"Hardware-Manufacturer", "Huawei-rev8.2"}}});
    BOOST_TEST((m.kind == Message::Kind::data));
    BOOST_TEST(m.payload == "23.7");
    BOOST_TEST(m.content_type == "text/plain");
    BOOST_TEST(m.utf8);
    BOOST_TEST((m.properties == props({{"vendor", "huawei"}, {"hw_revision", "8.2"}})));
}

BOOST_AUTO_TEST_CASE(seed_sensor03_plain_without_properties) {
    Message m = run({"sensor03", "24.4", {}, {}});
    BOOST_TEST(m.payload == "24.4");
    BOOST_TEST(m.content_type == "text/plain");
    BOOST_TEST(m.utf8);
    BOOST_TEST(m.properties.empty());
    BOOST_TEST(m.sensor == "sensor03");
    BOOST_TEST(m.instance == "field");
}

BOOST_AUTO_TEST_CASE(timestamp_defaults_to_now_and_is_kept_when_given) {
    BOOST_TEST(run({"s", "1", {}, {}}).timestamp_ms == kNow);
    BOOST_TEST(run({"s", "1", {}, {}, 1700000000123}).timestamp_ms == 1700000000123);
}

BOOST_AUTO_TEST_CASE(explicit_content_type_wins_over_property_default_and_sniffing) {
    Message m = run({"s", "{\"t\":1}", "text/plain", {{"Content-Type", "application/xml"}}},
                    SensorDefaults{"application/cbor"});
    BOOST_TEST(m.content_type == "text/plain");
    // The losing content-type property is consumed too: one truth, in the Content Type property.
    BOOST_TEST(m.properties.empty());
}

BOOST_AUTO_TEST_CASE(content_type_property_spellings) {
    for (const char* key : {"Content-Type", "content_type", "contentType", "ct", "CONTENT-TYPE", "ContentType"}) {
        Message m = run({"s", "1", {}, {{key, "application/json"}}});
        BOOST_TEST(m.content_type == "application/json", key);
        BOOST_TEST(m.properties.empty(), key);
    }
}

BOOST_AUTO_TEST_CASE(sensor_default_beats_sniffing) {
    BOOST_TEST(run({"s", "{\"a\":1}", {}, {}}, SensorDefaults{"text/csv"}).content_type == "text/csv");
}

BOOST_AUTO_TEST_CASE(sniffing_when_nothing_is_declared) {
    BOOST_TEST(run({"s", "{\"temp\":23.4}", {}, {}}).content_type == "application/json");
    BOOST_TEST(run({"s", std::string("\x01\x02\xff", 3), {}, {}}).content_type == "application/octet-stream");
    NormalizerOptions no_sniff;
    no_sniff.sniff = false;
    Normalizer strict(no_sniff);
    BOOST_TEST(run({"s", "23.4", {}, {}}, strict).content_type == "application/octet-stream");
}

BOOST_AUTO_TEST_CASE(mime_values_are_canonicalized) {
    BOOST_TEST(run({"s", "1", "Application/JSON; Charset=UTF-8", {}}).content_type ==
               "application/json; charset=utf-8");
    BOOST_TEST(run({"s", "1", {}, {{"ct", "json"}}}).content_type == "application/json");
    BOOST_TEST(run({"s", "1", {}, {{"ct", "TEXT"}}}).content_type == "text/plain");
}

BOOST_AUTO_TEST_CASE(base64_json_is_redetected_as_json) {
    // {"t":23.4} in base64
    Message m = run({"s", "eyJ0IjoyMy40fQ==", {}, {{"Content-Type", "base64"}}});
    BOOST_TEST(m.payload == "{\"t\":23.4}");
    BOOST_TEST(m.content_type == "application/json");
}

BOOST_AUTO_TEST_CASE(hex_payloads_are_decoded) {
    Message m = run({"s", "32332e37", "hex", {}});
    BOOST_TEST(m.payload == "23.7");
    BOOST_TEST(m.content_type == "text/plain");
}

BOOST_AUTO_TEST_CASE(decoded_binary_gets_octet_stream_and_no_utf8_promise) {
    Message m = run({"s", "AAEC/w==", {}, {{"Content-Type", "base64"}}});
    BOOST_TEST(m.payload == std::string("\x00\x01\x02\xff", 4));
    BOOST_TEST(m.content_type == "application/octet-stream");
    BOOST_TEST(!m.utf8);
}

BOOST_AUTO_TEST_CASE(transfer_encoding_property_with_a_real_type) {
    Message m = run(
        {"s", "eyJ0IjoyMy40fQ==", {}, {{"Content-Type", "application/json"}, {"Content-Transfer-Encoding", "base64"}}});
    BOOST_TEST(m.payload == "{\"t\":23.4}");
    BOOST_TEST(m.content_type == "application/json");
    BOOST_TEST(m.properties.empty());
}

BOOST_AUTO_TEST_CASE(unknown_transfer_encoding_is_left_visible) {
    Message m = run({"s", "xyz", {}, {{"Content-Encoding", "gzip"}, {"Encoding", "gzip"}}});
    BOOST_TEST(m.payload == "xyz");
    BOOST_TEST((m.properties == props({{"Content-Encoding", "gzip"}, {"Encoding", "gzip"}})));
}

BOOST_AUTO_TEST_CASE(untrusted_content_type_values_are_kept_as_properties) {
    Message m = run({"s", "23.4", {}, {{"Content-Type", "float"}}});
    BOOST_TEST(m.content_type == "text/plain");  // sniffed
    BOOST_TEST((m.properties == props({{"Content-Type", "float"}})));
}

BOOST_AUTO_TEST_CASE(text_type_with_invalid_utf8_gets_no_utf8_promise) {
    Message m = run({"s", "\xff\xfe", "text/plain", {}});
    BOOST_TEST(m.content_type == "text/plain");
    BOOST_TEST(!m.utf8);  // a v5 broker may refuse PFI=1 on bytes that are not UTF-8
}

BOOST_AUTO_TEST_CASE(failed_decode_becomes_a_dead_letter_with_everything_kept) {
    Message m =
        run({"sensor02", "MjM!Nw==", {}, {{"Content-Type", "base64"}, {"Hardware-Manufacturer", "Huawei-rev8.2"}}});
    BOOST_TEST((m.kind == Message::Kind::dead_letter));
    BOOST_TEST(m.error == "base64 decoding failed: not base64: byte 3 ('!')");
    BOOST_TEST(m.payload == "MjM!Nw==");
    BOOST_TEST(m.content_type == "application/octet-stream");
    BOOST_TEST((m.properties == props({{"Content-Type", "base64"}, {"Hardware-Manufacturer", "Huawei-rev8.2"}})));
}

BOOST_AUTO_TEST_CASE(empty_and_huge_payloads_do_not_break_anything) {
    BOOST_TEST(run({"s", "", {}, {}}).content_type == "text/plain");
    BOOST_TEST((run({"s", "", "base64", {}}).kind == Message::Kind::dead_letter));
    std::string big(1 << 20, 'a');
    BOOST_TEST(run({"s", big, {}, {}}).payload.size() == big.size());
}

BOOST_AUTO_TEST_CASE(configured_aliases_and_keys) {
    NormalizerOptions options;
    options.aliases.set("temperature", "text/plain; charset=utf-8");
    options.content_type_keys = {"format"};
    Normalizer custom(options);
    Message m = run({"s", "21", {}, {{"format", "temperature"}, {"Content-Type", "application/json"}}}, custom);
    BOOST_TEST(m.content_type == "text/plain; charset=utf-8");
    // Content-Type is no longer a content-type key here, so it passes through.
    BOOST_TEST((m.properties == props({{"Content-Type", "application/json"}})));
}

BOOST_AUTO_TEST_CASE(type_and_encoding_come_from_different_sources) {
    // v5 Content Type says JSON; a Content-Type property says the bytes are base64.
    Message m = run({"s", "eyJ0IjoyMy40fQ==", "application/json", {{"Content-Type", "base64"}}});
    BOOST_TEST(m.payload == "{\"t\":23.4}");
    BOOST_TEST(m.content_type == "application/json");
    BOOST_TEST(m.properties.empty());
}

BOOST_AUTO_TEST_CASE(untrusted_explicit_content_type_falls_through) {
    Message m = run({"s", "{\"t\":1}", "float", {}});
    BOOST_TEST(m.content_type == "application/json");
}
