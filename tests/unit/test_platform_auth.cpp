// The platforms' credential algorithms and limits against test vectors. tv_hw_1 is the worked
// example of Huawei's "设备连接鉴权" (https://support.huaweicloud.com/devg-ocsmartcampus/ocsmartcampus_04_0030.html).
// The other tv_* vectors were computed independently (python3 hmac, checked with openssl dgst -mac HMAC)
// with the documented algorithms: Huawei's "Device Connection Authentication" (iot_06_v5_3009),
// OneNET's token page (https://open.iot.10086.cn/doc/multiprotocol/book/manual/auth/token.html; product
// 123123, device mydev and et 1537255523 are its examples, the key is bytes 00..1f) and AWS IoT Core's
// topic limits (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits).
#define BOOST_TEST_MODULE platform_auth
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "common/encoding.h"
#include "topics/aws_topic.h"
#include "upstream/profiles/hmac.h"
#include "upstream/profiles/huawei_auth.h"
#include "upstream/profiles/onenet_token.h"

using namespace gwd;
using std::chrono::system_clock;

namespace {

// A UTC wall-clock instant, without the local time zone getting involved.
system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
    const auto day = std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(mo) / std::chrono::day(d));
    return system_clock::time_point(day) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(s);
}

OnenetTokenRequest onenet_vector(OnenetSignMethod method) {
    OnenetTokenRequest r;
    r.product_id = "123123";
    r.device_name = "mydev";
    r.device_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";  // bytes 00 01 .. 1f
    r.method = method;
    r.expires_at = 1537255523;
    return r;
}

std::string token(const OnenetTokenRequest& r) {
    std::string error;
    auto t = onenet_token(r, error);
    BOOST_REQUIRE_MESSAGE(t, error);
    return *t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(hmac_matches_rfc_4231_and_rfc_2202) {
    // RFC 4231 test case 2 and RFC 2202 test cases 2 (HMAC-SHA1, HMAC-MD5).
    BOOST_TEST(hex_encode(hmac(HmacDigest::sha256, "Jefe", "what do ya want for nothing?")) ==
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    BOOST_TEST(hex_encode(hmac(HmacDigest::sha1, "Jefe", "what do ya want for nothing?")) ==
               "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    BOOST_TEST(hex_encode(hmac(HmacDigest::md5, "Jefe", "what do ya want for nothing?")) ==
               "750c783e6ab0b503eaa86e310a5db738");
}

BOOST_AUTO_TEST_CASE(huawei_official_example_tv_hw_1) {
    BOOST_TEST(huawei_password("12345678", "2025041401") ==
               "c75150e6cb841417396819e4d2ee4358a416344a03a083e3a8567074ddec820a");
    // The key and message the wrong way round give something else.
    BOOST_TEST(huawei_password("2025041401", "12345678") !=
               "c75150e6cb841417396819e4d2ee4358a416344a03a083e3a8567074ddec820a");
    BOOST_TEST(huawei_password("2025041401", "12345678") ==
               "75e7262705ff85203403e600f652133f9cac4e4d1400b44f3582e778a97f6c36");
}

BOOST_AUTO_TEST_CASE(huawei_full_connect_tv_hw_2) {
    const auto at = utc(2024, 7, 26, 3, 42, 19);
    BOOST_TEST(huawei_timestamp(at) == "2024072603");
    BOOST_TEST(huawei_event_time(at) == "20240726T034219Z");
    const Credentials zero = huawei_credentials("5e06bfee334dd4f33759f5b3_demo", "mysecret123", 0, at);
    BOOST_TEST(zero.client_id == "5e06bfee334dd4f33759f5b3_demo_0_0_2024072603");
    BOOST_TEST(*zero.username == "5e06bfee334dd4f33759f5b3_demo");
    BOOST_TEST(*zero.password == "15e9c7274b2835b592525e326eaa422b923d82e38fdf634581d4e87757f4391b");
    BOOST_TEST(*zero.password !=
               "726e1a5765cfad6e2b5f82d3ca0c5cea673d3ede2284828f367a6eb5cbb15649");  // wrong direction
    const Credentials one = huawei_credentials("5e06bfee334dd4f33759f5b3_demo", "mysecret123", 1, at);
    BOOST_TEST(one.client_id == "5e06bfee334dd4f33759f5b3_demo_0_1_2024072603");
    BOOST_TEST(*one.password == *zero.password);
}

BOOST_AUTO_TEST_CASE(huawei_credentials_change_on_the_hour_tv_hw_3) {
    const auto before = utc(2024, 7, 26, 3, 59, 59);
    const auto after = utc(2024, 7, 26, 4, 0, 0);
    BOOST_TEST(huawei_timestamp(before) == "2024072603");
    BOOST_TEST(huawei_timestamp(after) == "2024072604");
    const auto a = huawei_credentials("dev", "s", 1, before);
    const auto b = huawei_credentials("dev", "s", 1, after);
    BOOST_TEST(a.client_id == "dev_0_1_2024072603");
    BOOST_TEST(b.client_id == "dev_0_1_2024072604");
    BOOST_TEST(*a.password != *b.password);
    // Year and day boundaries are UTC, whatever the local zone.
    BOOST_TEST(huawei_timestamp(utc(2023, 12, 31, 23, 59, 59)) == "2023123123");
    BOOST_TEST(huawei_timestamp(utc(2024, 1, 1, 0, 0, 0)) == "2024010100");
    BOOST_TEST(huawei_event_time(utc(2024, 2, 29, 0, 0, 5)) == "20240229T000005Z");
}

// iot_06_v5_3010 (property report): event_time "毫秒级别:yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",
// e.g. "2020-08-12T12:12:12.333Z".
BOOST_AUTO_TEST_CASE(huawei_event_time_to_the_millisecond) {
    BOOST_TEST(huawei_event_time_ms(utc(2020, 8, 12, 12, 12, 12) + std::chrono::milliseconds(333)) ==
               "2020-08-12T12:12:12.333Z");
    BOOST_TEST(huawei_event_time_ms(utc(2024, 2, 29, 0, 0, 5)) == "2024-02-29T00:00:05.000Z");
    BOOST_TEST(huawei_event_time_ms(utc(2023, 12, 31, 23, 59, 59) + std::chrono::milliseconds(999)) ==
               "2023-12-31T23:59:59.999Z");
}

BOOST_AUTO_TEST_CASE(onenet_tokens_tv_on_1_to_3) {
    BOOST_TEST(token(onenet_vector(OnenetSignMethod::md5)) ==
               "version=2018-10-31&res=products%2F123123%2Fdevices%2Fmydev&et=1537255523&method=md5"
               "&sign=8CAN1jLikWFnNLJKUt0wGQ%3D%3D");
    BOOST_TEST(token(onenet_vector(OnenetSignMethod::sha1)) ==
               "version=2018-10-31&res=products%2F123123%2Fdevices%2Fmydev&et=1537255523&method=sha1"
               "&sign=tpYxSonGkJ3T%2FUEEkjxPjml9Y%2FI%3D");
    BOOST_TEST(token(onenet_vector(OnenetSignMethod::sha256)) ==
               "version=2018-10-31&res=products%2F123123%2Fdevices%2Fmydev&et=1537255523&method=sha256"
               "&sign=FpBsBBlA0tT4OtnjgrcAjJWkmeyrWd69HcQIEJB7MEM%3D");
}

BOOST_AUTO_TEST_CASE(onenet_token_depends_on_every_field) {
    const std::string base = token(onenet_vector(OnenetSignMethod::sha256));
    auto r = onenet_vector(OnenetSignMethod::sha256);
    r.expires_at += 1;
    BOOST_TEST(token(r) != base);
    r = onenet_vector(OnenetSignMethod::sha256);
    r.device_name = "mydev2";
    BOOST_TEST(token(r).find("res=products%2F123123%2Fdevices%2Fmydev2&") != std::string::npos);
    BOOST_TEST(token(r) != base);
}

BOOST_AUTO_TEST_CASE(onenet_key_that_is_not_base64_is_a_clear_error) {
    auto r = onenet_vector(OnenetSignMethod::sha1);
    r.device_key = "not base64!";
    std::string error;
    BOOST_TEST(!onenet_token(r, error));
    BOOST_TEST(error.find("device key is not base64") != std::string::npos, error);
    r.device_key = "";
    BOOST_TEST(!onenet_token(r, error));
}

BOOST_AUTO_TEST_CASE(url_encoding_and_identifiers) {
    BOOST_TEST(url_encode_component("a+b/c=d e%f?g#h&i") == "a%2Bb%2Fc%3Dd%20e%25f%3Fg%23h%26i");
    BOOST_TEST(url_encode_component("AZaz09-._~") == "AZaz09-._~");
    BOOST_TEST(url_encode_component("\xE4") == "%E4");
    BOOST_TEST(is_onenet_identifier("mydev-01_a.b"));
    BOOST_TEST(!is_onenet_identifier(""));
    BOOST_TEST(!is_onenet_identifier("my dev"));
    BOOST_TEST(!is_onenet_identifier("dev/1"));
}

BOOST_AUTO_TEST_CASE(aws_topic_limits_tv_aws_2) {
    BOOST_TEST(aws_topic_levels("$aws/things/gw-01/shadow/name/sensors/update/accepted") == 8);
    BOOST_TEST(!aws_topic_problem("$aws/things/gw-01/shadow/name/sensors/update/accepted"));
    BOOST_TEST(aws_topic_levels("$aws/things/gw-01/shadow/update/delta") == 6);
    BOOST_TEST(aws_topic_levels("$aws/rules/myRule/a/b/c/d/e/f/g/h") == 8);
    BOOST_TEST(!aws_topic_problem("$aws/rules/myRule/a/b/c/d/e/f/g/h"));
    BOOST_TEST(aws_topic_levels("$share/group/a/b") == 2);
    const auto nine = aws_topic_problem("a/b/c/d/e/f/g/h/i");
    BOOST_REQUIRE(nine);
    BOOST_TEST(nine->find("9 levels") != std::string::npos, *nine);
    const std::string long_topic(257, 'x');
    const auto too_long = aws_topic_problem(long_topic);
    BOOST_REQUIRE(too_long);
    BOOST_TEST(too_long->find("257 bytes") != std::string::npos, *too_long);
    BOOST_TEST(!aws_topic_problem(std::string(256, 'x')));
}

// aws-c-mqtt @d699fe4 source/v5/mqtt5_utils.c aws_mqtt_is_valid_topic_for_iot_core():
// "post_rule_suffix.len <= AWS_IOT_CORE_MAXIMUM_TOPIC_LENGTH" after skipping
// "$share/<name>/" then "$aws/rules/<rule>/", both matched ignoring case;
// its test vector strips "$share/share-name/$aws/rules/some-rule/" off
// "segment1/segment2" (tests/v5/mqtt5_utils_tests.c).
BOOST_AUTO_TEST_CASE(aws_topic_length_is_counted_after_the_basic_ingest_prefix) {
    BOOST_TEST(aws_counted_topic("$share/share-name/$aws/rules/some-rule/segment1/segment2") == "segment1/segment2");
    BOOST_TEST(aws_counted_topic("$AWS/Rules/some-rule/a/b") == "a/b");
    const std::string body(256, 'x');
    const std::string rule = "$aws/rules/" + std::string(120, 'r') + "/";
    BOOST_TEST(!aws_topic_problem(rule + body));  // 387 bytes in all, 256 counted
    BOOST_TEST(!aws_topic_problem("$AWS/RULES/r/" + body));
    const auto over = aws_topic_problem(rule + body + "y");
    BOOST_REQUIRE(over);
    BOOST_TEST(over->find("257 bytes after its $aws/rules/<rule>/ prefix") != std::string::npos, *over);
}
