#include "normalize/normalizer.h"

#include <algorithm>

#include "common/encoding.h"
#include "common/text.h"

namespace gwd {

Normalizer::Normalizer(NormalizerOptions options) : options_(std::move(options)) {
    for (const auto& k : options_.content_type_keys) folded_content_type_keys_.push_back(fold_property_key(k));
    for (const auto& k : options_.transfer_encoding_keys)
        folded_transfer_encoding_keys_.push_back(fold_property_key(k));
}

bool Normalizer::is_content_type_key(std::string_view key) const {
    auto folded = fold_property_key(key);
    return std::find(folded_content_type_keys_.begin(), folded_content_type_keys_.end(), folded) !=
           folded_content_type_keys_.end();
}

bool Normalizer::is_transfer_encoding_key(std::string_view key) const {
    auto folded = fold_property_key(key);
    return std::find(folded_transfer_encoding_keys_.begin(), folded_transfer_encoding_keys_.end(), folded) !=
           folded_transfer_encoding_keys_.end();
}

Message Normalizer::normalize(const ReadingView& reading, const SensorDefaults& defaults, std::int64_t now_ms) const {
    Message msg;
    msg.sensor = std::string(reading.sensor);
    msg.instance = std::string(reading.instance);
    msg.timestamp_ms = reading.timestamp_ms != 0 ? reading.timestamp_ms : now_ms;

    // Find the declared type and encoding; remember which properties they
    // came from so that those are consumed and the rest pass through.
    // The MIME type and the transfer encoding are each taken from the first
    // source, in order of precedence, that declares one: a v5 Content Type of
    // application/json with a "Content-Type: base64" property means base64-
    // encoded JSON.
    std::optional<std::string> mime;
    std::optional<TransferEncoding> encoding_declared;
    std::vector<bool> consumed(reading.properties.size(), false);
    auto take = [&](const DeclaredContentType& meaning) {
        if (meaning.encoding != TransferEncoding::none && !encoding_declared) encoding_declared = meaning.encoding;
        if (meaning.mime && !mime) mime = meaning.mime;
    };

    if (reading.content_type) {
        if (auto meaning = interpret_content_type(*reading.content_type, options_.aliases)) take(*meaning);
    }
    for (size_t i = 0; i < reading.properties.size(); ++i) {
        const auto& p = reading.properties[i];
        if (is_content_type_key(p.key)) {
            auto meaning = interpret_content_type(p.value, options_.aliases);
            if (!meaning) continue;  // untrusted value: keep the property as it was
            consumed[i] = true;
            take(*meaning);
        } else if (is_transfer_encoding_key(p.key)) {
            auto te = parse_transfer_encoding(p.value);
            if (!te) continue;  // e.g. gzip: not ours to undo, so keep it visible
            consumed[i] = true;
            if (!encoding_declared) encoding_declared = *te;
        }
    }
    const TransferEncoding encoding = encoding_declared.value_or(TransferEncoding::none);
    if (!mime && defaults.content_type) mime = defaults.content_type;

    if (encoding != TransferEncoding::none) {
        std::string error;
        std::optional<std::string> decoded = encoding == TransferEncoding::base64
                                                 ? base64_decode(reading.payload, error)
                                                 : hex_decode(reading.payload, error);
        if (!decoded) {
            msg.kind = Message::Kind::dead_letter;
            msg.error = std::string(transfer_encoding_name(encoding)) + " decoding failed: " + error;
            msg.payload = std::string(reading.payload);
            msg.content_type = "application/octet-stream";
            // Keep every property as it came, so the dead letter explains itself.
            for (const auto& p : reading.properties)
                msg.properties.push_back({std::string(p.key), std::string(p.value)});
            msg.utf8 = false;
            return msg;
        }
        msg.payload = std::move(*decoded);
    } else {
        msg.payload = std::string(reading.payload);
    }

    if (mime) {
        msg.content_type = std::move(*mime);
        // The Payload Format Indicator promises UTF-8; a broker may refuse a
        // message that breaks the promise, so check the bytes, not just the type.
        msg.utf8 = is_textual_mime(msg.content_type) && is_valid_utf8(msg.payload);
    } else if (options_.sniff) {
        const SniffedType sniffed = sniff_payload(msg.payload);  // it checked the bytes already
        msg.content_type = sniffed.content_type;
        msg.utf8 = sniffed.utf8;
    } else {
        msg.content_type = "application/octet-stream";
        msg.utf8 = false;
    }

    msg.properties.reserve(reading.properties.size());
    for (size_t i = 0; i < reading.properties.size(); ++i) {
        if (consumed[i]) continue;
        options_.rules.apply(reading.properties[i].key, reading.properties[i].value, msg.properties);
    }
    return msg;
}

}  // namespace gwd
