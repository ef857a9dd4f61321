#include "supervision/failure_classifier.h"

namespace gwd {

std::string_view failure_class_name(FailureClass c) {
    switch (c) {
        case FailureClass::authorization: return "authorization";
        case FailureClass::throttled: return "throttled";
        case FailureClass::redirect: return "redirect";
        case FailureClass::conflict: return "conflict";
        case FailureClass::protocol: return "protocol";
        case FailureClass::incompatible: return "incompatible";
        case FailureClass::transient: return "transient";
    }
    return "transient";
}

bool is_certificate_verification_failure(std::string_view tls_error) {
    return tls_error.find("certificate verify failed") != std::string_view::npos ||
           tls_error.find("CERTIFICATE_VERIFY_FAILED") != std::string_view::npos ||
           tls_error.find("hostname mismatch") != std::string_view::npos;
}

namespace {

Classification stop(std::string advice) {
    return {FailureClass::authorization, FailureAction::stop, std::move(advice)};
}

Classification incompatible(std::string advice) {
    return {FailureClass::incompatible, FailureAction::stop_incompatible, std::move(advice)};
}

Classification classify_v5(int code, bool has_reference) {
    switch (code) {
        case 0x84: return incompatible("the broker does not accept MQTT 5; set mqtt_version = 4 (MQTT 3.1.1)");
        case 0x85: return stop("the broker does not accept this client id; check client_id");
        case 0x86: return stop("check username and password (password_file)");
        case 0x87:
            return stop(
                "check the credentials (username, password_file, client certificate) and that the "
                "broker's policy allows this client id");
        case 0x8A: return stop("the broker has banned this client; ask its operator");
        case 0x8C: return stop("the broker does not accept this authentication method");
        case 0x88:
        case 0x89:
        case 0x96:
        case 0x97:
        case 0x9F: return {FailureClass::throttled, FailureAction::retry_after_floor, {}};
        case 0x9C:
        case 0x9D:
            if (has_reference) return {FailureClass::redirect, FailureAction::follow_reference, {}};
            return {FailureClass::transient, FailureAction::retry, {}};
        case 0x8E: return {FailureClass::conflict, FailureAction::retry_counting_takeovers, {}};
        case 0x94: return {FailureClass::protocol, FailureAction::retry_without_topic_aliases, {}};
        case 0x95: return {FailureClass::protocol, FailureAction::retry_within_packet_limit, {}};
        // A malformed packet or protocol error from our side: retry with the
        // optional features (topic aliases) off.
        case 0x81:
        case 0x82: return {FailureClass::protocol, FailureAction::retry_without_topic_aliases, {}};
        default: return {FailureClass::transient, FailureAction::retry, {}};
    }
}

Classification classify_v311(int code) {
    switch (code) {
        case 1: return incompatible("the broker does not accept MQTT 3.1.1; set mqtt_version = 5");
        case 2: return stop("the broker rejects this client id; check client_id");
        case 4: return stop("check username and password (password_file)");
        case 5: return stop("check the credentials and that the broker's policy allows this client id");
        case 3: return {FailureClass::throttled, FailureAction::retry_after_floor, {}};
        default: return {FailureClass::transient, FailureAction::retry, {}};
    }
}

}  // namespace

Classification classify_failure(const Failure& f) {
    switch (f.source) {
        case FailureSource::tls:
            if (is_certificate_verification_failure(f.tls_error) && !f.clock_unset) {
                return stop(
                    "the server's certificate does not verify against ca_file (or the system's CAs), or "
                    "does not name the host in url; check ca_file and the host");
            }
            return {FailureClass::transient, FailureAction::retry, {}};
        case FailureSource::transport: return {FailureClass::transient, FailureAction::retry, {}};
        case FailureSource::connack:
        case FailureSource::disconnect:
            if (f.code < 0) return {FailureClass::transient, FailureAction::retry, {}};
            if (f.mqtt_version == 5 && f.source == FailureSource::connack && f.code > 0 && f.code < 0x80) {
                // A 3.1.1 CONNACK to our MQTT 5 CONNECT: the broker speaks 3.1.1 only.
                if (f.code == 1) {
                    return incompatible("the broker speaks MQTT 3.1.1 only; set mqtt_version = 4");
                }
                return classify_v311(f.code);
            }
            return f.mqtt_version == 5 ? classify_v5(f.code, f.has_server_reference) : classify_v311(f.code);
    }
    return {FailureClass::transient, FailureAction::retry, {}};
}

}  // namespace gwd
