#define BOOST_TEST_MODULE content_type
#include <boost/test/unit_test.hpp>

#include "common/text.h"
#include "normalize/content_type.h"

using namespace gwd;

BOOST_AUTO_TEST_CASE(canonical_mime_lowercases_and_keeps_parameters) {
    BOOST_TEST(*canonical_mime("text/plain") == "text/plain");
    BOOST_TEST(*canonical_mime("Text/Plain") == "text/plain");
    BOOST_TEST(*canonical_mime(" application/JSON ;Charset=UTF-8 ") == "application/json; charset=utf-8");
    BOOST_TEST(*canonical_mime("text/csv; Header=present;") == "text/csv; header=present");
    BOOST_TEST(*canonical_mime("text/plain; name=\"a b\"") == "text/plain; name=\"a b\"");
    BOOST_TEST(*canonical_mime("application/vnd.acme+json;v=2") == "application/vnd.acme+json; v=2");
}

BOOST_AUTO_TEST_CASE(canonical_mime_refuses_non_types) {
    for (const char* bad : {"", "json", "text/", "/plain", "text plain", "text/pl ain", "text/plain; =x",
                            "text/plain; a=\"unclosed", "text/plain; a", "text/csv; delimiter=;"}) {
        BOOST_TEST(!canonical_mime(bad), bad);
    }
}

BOOST_AUTO_TEST_CASE(aliases_map_informal_names) {
    ContentTypeAliases aliases;
    BOOST_TEST(*interpret_content_type("json", aliases)->mime == "application/json");
    BOOST_TEST(*interpret_content_type("JSON", aliases)->mime == "application/json");
    BOOST_TEST(*interpret_content_type("text", aliases)->mime == "text/plain");
    BOOST_TEST(*interpret_content_type("text/json", aliases)->mime == "application/json");
    BOOST_TEST(*interpret_content_type("Text/Plain", aliases)->mime == "text/plain");
    aliases.set("x-temp", "text/plain; charset=utf-8");
    BOOST_TEST(*interpret_content_type("X-Temp", aliases)->mime == "text/plain; charset=utf-8");
}

BOOST_AUTO_TEST_CASE(transfer_encodings_are_not_types) {
    ContentTypeAliases aliases;
    for (const char* v : {"base64", "BASE64", "b64", "application/base64", "text/base64"}) {
        auto d = interpret_content_type(v, aliases);
        BOOST_REQUIRE(d);
        BOOST_TEST((d->encoding == TransferEncoding::base64), v);
        BOOST_TEST(!d->mime.has_value());
    }
    for (const char* v : {"hex", "base16", "application/hex"}) {
        BOOST_TEST((interpret_content_type(v, aliases)->encoding == TransferEncoding::hex), v);
    }
    BOOST_TEST((*parse_transfer_encoding("identity") == TransferEncoding::none));
    BOOST_TEST(!parse_transfer_encoding("gzip"));
}

BOOST_AUTO_TEST_CASE(unrecognised_values_are_not_interpreted) {
    ContentTypeAliases aliases;
    BOOST_TEST(!interpret_content_type("float", aliases));
    BOOST_TEST(!interpret_content_type("", aliases));
}

BOOST_AUTO_TEST_CASE(textual_types) {
    for (const char* t : {"text/plain", "text/csv", "application/json", "application/senml+json", "application/xml",
                          "image/svg+xml", "application/octet-stream; charset=utf-8"}) {
        BOOST_TEST(is_textual_mime(t), t);
    }
    for (const char* t : {"application/octet-stream", "application/cbor", "image/png"}) {
        BOOST_TEST(!is_textual_mime(t), t);
    }
}

BOOST_AUTO_TEST_CASE(sniffing) {
    BOOST_TEST(sniff_payload("23.4").content_type == "text/plain");  // a bare number is text, as sensors mean it
    BOOST_TEST(sniff_payload("{\"t\":23.4}").content_type == "application/json");
    BOOST_TEST(sniff_payload(" [1,2]\n").content_type == "application/json");
    BOOST_TEST(sniff_payload("{not json").content_type == "text/plain");
    BOOST_TEST(sniff_payload("line1\nline2\ttab").content_type == "text/plain");
    BOOST_TEST(sniff_payload(std::string("\x00\x01\x02", 3)).content_type == "application/octet-stream");
    BOOST_TEST(sniff_payload("\xff\xfe").content_type == "application/octet-stream");
    BOOST_TEST(sniff_payload("").content_type == "text/plain");
}

// The normalizer takes sniffing's word for UTF-8: it must match the bytes.
BOOST_AUTO_TEST_CASE(sniffing_knows_utf8) {
    for (const std::string& payload : {std::string("{\"name\":\"K\xc3\xbc"
                                                   "che\"}"),
                                       std::string("[\"\\u00fc\"]"),
                                       std::string("23.4 \xc2\xb0"
                                                   "C"),
                                       std::string("\xff\xfe"), std::string("{\"bad\":\"\xc3\x28\"}"),
                                       std::string("\x00\x01", 2), std::string("")}) {
        const SniffedType sniffed = sniff_payload(payload);
        BOOST_TEST(sniffed.utf8 == (is_textual_mime(sniffed.content_type) && is_valid_utf8(payload)), payload);
    }
    BOOST_TEST(sniff_payload("{\"bad\":\"\xc3\x28\"}").content_type == "application/octet-stream");
}
