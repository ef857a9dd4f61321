// Reading -> Message. Pure: the clock is an argument, nothing is logged here.
//
// Content type, in order of precedence:
//   1. the reading's explicit content type (the MQTT v5 Content Type property),
//   2. a user property whose key folds to one of `content_type_keys`
//      (Content-Type, content_type, contentType, ct),
//   3. the sensor's configured default,
//   4. sniffing (JSON object/array, UTF-8 text, else octet-stream).
// A value naming a transfer encoding (base64, hex) decodes the payload; the
// MIME type and the encoding are each taken from the first source that
// declares one, so the real type of decoded bytes comes from a later source,
// the sensor default, or sniffing. A Content-Transfer-Encoding property works too.
// A value that is none of MIME type, alias or encoding ("float") is not
// trusted: the property is kept as it was and the next source decides.
// A payload that fails to decode becomes a dead letter carrying the error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/message.h"
#include "normalize/content_type.h"
#include "normalize/property_rules.h"

namespace gwd {

struct NormalizerOptions {
    std::vector<std::string> content_type_keys = {"Content-Type", "content_type", "contentType", "ct"};
    std::vector<std::string> transfer_encoding_keys = {"Content-Transfer-Encoding", "Transfer-Encoding", "Encoding"};
    ContentTypeAliases aliases;
    PropertyRules rules = PropertyRules::builtin();
    bool sniff = true;  // false: undeclared payloads are application/octet-stream
};

struct SensorDefaults {
    std::optional<std::string> content_type;  // [[sensor]] content_type, canonical
};

class Normalizer {
public:
    explicit Normalizer(NormalizerOptions options);

    // `now_ms` stamps readings that carry no timestamp.
    Message normalize(const ReadingView& reading, const SensorDefaults& defaults, std::int64_t now_ms) const;

private:
    bool is_content_type_key(std::string_view key) const;
    bool is_transfer_encoding_key(std::string_view key) const;

    NormalizerOptions options_;
    std::vector<std::string> folded_content_type_keys_;
    std::vector<std::string> folded_transfer_encoding_keys_;
};

}  // namespace gwd
