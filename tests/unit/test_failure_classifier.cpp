#define BOOST_TEST_MODULE failure_classifier
#include <boost/test/unit_test.hpp>

#include <map>

#include "supervision/failure_classifier.h"

using namespace gwd;
using C = FailureClass;
using A = FailureAction;

namespace {
Classification v5(FailureSource source, int code, bool reference = false) {
    return classify_failure(Failure{5, source, code, {}, reference});
}
}  // namespace

// MQTT 5.0 section 3.2.2.2: every CONNACK reason code.
BOOST_AUTO_TEST_CASE(every_connack_reason_code) {
    const std::map<int, C> expected = {
        {0x80, C::transient},    {0x81, C::protocol},      {0x82, C::protocol},      {0x83, C::transient},
        {0x84, C::incompatible}, {0x85, C::authorization}, {0x86, C::authorization}, {0x87, C::authorization},
        {0x88, C::throttled},    {0x89, C::throttled},     {0x8A, C::authorization}, {0x8C, C::authorization},
        {0x90, C::transient},    {0x95, C::protocol},      {0x97, C::throttled},     {0x99, C::transient},
        {0x9A, C::transient},    {0x9B, C::transient},     {0x9C, C::redirect},      {0x9D, C::redirect},
        {0x9F, C::throttled},
    };
    for (auto [code, cls] : expected) {
        BOOST_TEST((v5(FailureSource::connack, code, true).failure_class == cls), "CONNACK 0x" << std::hex << code);
    }
}

// MQTT 5.0 section 3.14.2.1: every DISCONNECT reason code a server may send.
BOOST_AUTO_TEST_CASE(every_disconnect_reason_code) {
    const std::map<int, C> expected = {
        {0x00, C::transient}, {0x80, C::transient},     {0x81, C::protocol},  {0x82, C::protocol},
        {0x83, C::transient}, {0x87, C::authorization}, {0x89, C::throttled}, {0x8B, C::transient},
        {0x8D, C::transient}, {0x8E, C::conflict},      {0x8F, C::transient}, {0x90, C::transient},
        {0x93, C::transient}, {0x94, C::protocol},      {0x95, C::protocol},  {0x96, C::throttled},
        {0x97, C::throttled}, {0x98, C::transient},     {0x99, C::transient}, {0x9A, C::transient},
        {0x9B, C::transient}, {0x9C, C::redirect},      {0x9D, C::redirect},  {0x9E, C::transient},
        {0x9F, C::throttled}, {0xA0, C::transient},     {0xA1, C::transient}, {0xA2, C::transient},
    };
    for (auto [code, cls] : expected) {
        BOOST_TEST((v5(FailureSource::disconnect, code, true).failure_class == cls),
                   "DISCONNECT 0x" << std::hex << code);
    }
}

BOOST_AUTO_TEST_CASE(every_mqtt311_return_code) {
    const std::map<int, C> expected = {
        {1, C::incompatible}, {2, C::authorization}, {3, C::throttled}, {4, C::authorization}, {5, C::authorization}};
    for (auto [code, cls] : expected) {
        BOOST_TEST((classify_failure(Failure{4, FailureSource::connack, code, {}, false}).failure_class == cls),
                   "return code " << code);
    }
}

// A broker that speaks only 3.1.1 answers an MQTT 5 CONNECT in 3.1.1.
BOOST_AUTO_TEST_CASE(a_311_answer_to_an_mqtt5_connect) {
    BOOST_TEST((v5(FailureSource::connack, 1).failure_class == C::incompatible));
    BOOST_TEST((v5(FailureSource::connack, 1).action == A::stop_incompatible));
    BOOST_TEST((v5(FailureSource::connack, 5).failure_class == C::authorization));
    BOOST_TEST((v5(FailureSource::connack, 3).failure_class == C::throttled));
    // Not after a DISCONNECT: 0x00..0x7F there are v5's own (0x00 normal).
    BOOST_TEST((v5(FailureSource::disconnect, 1).failure_class == C::transient));
}

BOOST_AUTO_TEST_CASE(actions) {
    BOOST_TEST((v5(FailureSource::connack, 0x87).action == A::stop));
    BOOST_TEST((v5(FailureSource::connack, 0x89).action == A::retry_after_floor));
    BOOST_TEST((v5(FailureSource::connack, 0x9C, true).action == A::follow_reference));
    BOOST_TEST((v5(FailureSource::disconnect, 0x8E).action == A::retry_counting_takeovers));
    BOOST_TEST((v5(FailureSource::disconnect, 0x94).action == A::retry_without_topic_aliases));
    BOOST_TEST((v5(FailureSource::disconnect, 0x95).action == A::retry_within_packet_limit));
    BOOST_TEST((v5(FailureSource::disconnect, 0x8B).action == A::retry));
}

BOOST_AUTO_TEST_CASE(redirect_needs_a_server_reference) {
    BOOST_TEST((v5(FailureSource::connack, 0x9C, false).failure_class == C::transient));
    BOOST_TEST((v5(FailureSource::disconnect, 0x9D, false).failure_class == C::transient));
}

BOOST_AUTO_TEST_CASE(authorization_says_what_to_check) {
    BOOST_TEST(v5(FailureSource::connack, 0x86).advice.find("password") != std::string::npos);
    BOOST_TEST(v5(FailureSource::connack, 0x87).advice.find("policy") != std::string::npos);
    BOOST_TEST(v5(FailureSource::connack, 0x85).advice.find("client_id") != std::string::npos);
    BOOST_TEST(classify_failure(Failure{4, FailureSource::connack, 5, {}, false}).advice.find("credentials") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(tls_and_transport) {
    auto bad_cert = classify_failure(
        Failure{5, FailureSource::tls, -1, "error:0A000086:SSL routines::certificate verify failed", false});
    BOOST_TEST((bad_cert.failure_class == C::authorization));
    BOOST_TEST(bad_cert.advice.find("ca_file") != std::string::npos);
    auto handshake = classify_failure(Failure{5, FailureSource::tls, -1, "sslv3 alert handshake failure", false});
    BOOST_TEST((handshake.failure_class == C::transient));
    BOOST_TEST((classify_failure(Failure{5, FailureSource::transport, -1, {}, false}).failure_class == C::transient));
    BOOST_TEST((classify_failure(Failure{5, FailureSource::disconnect, -1, {}, false}).failure_class == C::transient));
}

BOOST_AUTO_TEST_CASE(an_unset_clock_makes_certificate_failures_transient) {
    Failure f{5, FailureSource::tls, -1, "certificate verify failed", false, true};
    BOOST_TEST((classify_failure(f).failure_class == C::transient));
}
