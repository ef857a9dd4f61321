// What a connection failure means and what to do about it. Pure: from the
// MQTT version, where the failure came from and its code to a class and an
// action (README.md, "What happens when the connection fails").
//
//   authorization  v5 0x85 0x86 0x87 0x8A 0x8C; 3.1.1 return codes 2 4 5;
//                  TLS: the server's certificate failed verification   -> stop
//   throttled      0x88 0x89 0x96 0x97 0x9F; 3.1.1 return code 3         -> retry after a long floor
//   redirect       0x9C 0x9D with a Server Reference                     -> follow it (when allowed)
//   conflict       0x8E session taken over                               -> retry, count takeovers
//   protocol       0x94 0x95 0x81 0x82                                   -> retry with features reduced
//   incompatible   v5 0x84; a v5 CONNECT answered with 3.1.1's return
//                  code 1; 3.1.1 return code 1                           -> stop: another mqtt_version is needed
//   transient      everything else: network errors, 0x8B, 0x8D, ...      -> retry with backoff
//
// Two codes are classed by analogy, both with the same meaning as one
// listed: 0x96 "Message rate too high" is throttling, and 3.1.1's return code
// 3 "Server unavailable" is 0x88's older spelling. A broker that speaks only
// MQTT 3.1.1 answers an MQTT 5 CONNECT with a 3.1.1 CONNACK (aedes: return
// code 1): codes below 0x80 after a v5 CONNECT are read as 3.1.1's.
#pragma once

#include <string>
#include <string_view>

namespace gwd {

enum class FailureSource { connack, disconnect, transport, tls };
enum class FailureClass { authorization, throttled, redirect, conflict, protocol, incompatible, transient };
enum class FailureAction {
    stop,                         // park until credentials change
    stop_incompatible,            // park: this broker needs another MQTT version
    retry_after_floor,            // backoff, but not sooner than the throttle floor
    follow_reference,             // reconnect to the Server Reference
    retry_counting_takeovers,     // backoff; repeated takeovers stop the upstream
    retry_without_topic_aliases,  // the broker refused our topic aliases
    retry_within_packet_limit,    // the broker refused a packet size
    retry,                        // plain backoff
};

struct Failure {
    int mqtt_version = 5;
    FailureSource source = FailureSource::transport;
    int code = -1;          // reason code (v5) or return code (3.1.1); -1 for none
    std::string tls_error;  // OpenSSL's text for TLS failures
    bool has_server_reference = false;
    // The system clock is clearly unset (a box without a real-time clock,
    // before NTP): certificates cannot be judged, so a failed verification
    // is not evidence of a wrong CA.
    bool clock_unset = false;
};

struct Classification {
    FailureClass failure_class = FailureClass::transient;
    FailureAction action = FailureAction::retry;
    std::string advice;  // for authorization and incompatible: what the user should do
};

Classification classify_failure(const Failure& failure);

std::string_view failure_class_name(FailureClass c);

// True when OpenSSL's text says the server's certificate failed verification
// (as opposed to a handshake that failed for another reason).
bool is_certificate_verification_failure(std::string_view tls_error);

}  // namespace gwd
