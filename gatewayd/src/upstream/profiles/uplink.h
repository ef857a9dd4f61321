// What a profile's uplink codec produces from a canonical Message: one
// platform publish. Kept free of Paho types so codecs stay pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/message.h"

namespace gwd {

struct PublishRequest {
    std::string topic;
    std::string payload;  // empty when borrowed: read payload_bytes()
    int qos = 1;
    bool retain = false;
    // MQTT v5 properties; ignored on 3.1.1 connections.
    std::optional<std::string> content_type;  // unset when borrowed: read content_type_text()
    std::optional<int> payload_format;        // 0 bytes, 1 UTF-8
    UserProperties properties;
    std::optional<std::string> response_topic;  // MQTT v5 request/response
    std::optional<std::string> correlation_data;
    // Set when the platform cannot take this message at all (a topic over
    // its limits): the session dead-letters it with this reason.
    std::optional<std::string> problem;
    // How much of the connection's per-second allowance it uses: Huawei
    // counts a sub-device status event once per device it names.
    int rate_cost = 1;
    // The platform's size limit for this kind of message, when it is not the
    // upstream's max_payload (Huawei: 64 KiB property reports, 1 MiB messages).
    std::optional<std::uint64_t> max_payload;

    // A codec that sends a reading's payload and content type as they are
    // points at them rather than copy them (two allocations per reading):
    // the request lives only while the message it borrows from is queued.
    void borrow_body(const Message& message) { body_ = &message; }
    const std::string& payload_bytes() const { return body_ ? body_->payload : payload; }
    const std::string* content_type_text() const {
        if (body_) return &body_->content_type;
        return content_type ? &*content_type : nullptr;
    }

private:
    const Message* body_ = nullptr;
};

// One queued reading and its outbox id.
struct UplinkItem {
    std::uint64_t id;
    const Message* message;
};

class UplinkCodec {
public:
    virtual ~UplinkCodec() = default;
    // nullopt when this upstream does not carry the message (a dead letter on
    // an upstream without a dead-letter topic).
    // `id` is the reading's outbox id: unique and increasing per upstream,
    // for platforms whose payload carries a request id. The request may
    // borrow from `message` (PublishRequest::borrow_body): keep the message
    // alive while the request is used.
    virtual std::optional<PublishRequest> encode(const Message& message, std::uint64_t id) const = 0;

    // Readings that may travel in one publish share a non-empty batch key;
    // at most max_batch(key) of them go together, through encode_batch(),
    // and batch_can_take() may end a batch early. A reading with a batch key
    // is always encoded through encode_batch(), alone or not, so a consumer
    // sees one format.
    virtual std::string batch_key(const Message& message) const {
        (void)message;
        return {};
    }
    virtual size_t max_batch(std::string_view key) const {
        (void)key;
        return 1;
    }
    virtual bool batch_can_take(std::span<const UplinkItem> batch, const Message& next) const {
        (void)batch, (void)next;
        return true;
    }
    virtual std::optional<PublishRequest> encode_batch(std::span<const UplinkItem> items) const {
        return encode(*items.front().message, items.front().id);
    }

    // The longest Message Expiry Interval the platform keeps; 0: no limit.
    virtual std::uint32_t max_message_expiry_s() const { return 0; }
};

}  // namespace gwd
