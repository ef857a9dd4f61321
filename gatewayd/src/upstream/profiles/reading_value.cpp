#include "upstream/profiles/reading_value.h"

#include "common/encoding.h"
#include "common/json.h"
#include "common/text.h"

namespace gwd {

std::string reading_json_value(const Message& message) {
    if (!message.utf8) return json_quote(base64_encode(message.payload));
    const std::string_view text = trim(message.payload);
    if (is_json_number(text)) return std::string(text);
    if (text == "true" || text == "false") return std::string(text);
    // A JSON document (an object of several values, an array) stays one.
    if (!text.empty() && (text.front() == '{' || text.front() == '[') && json_is_valid(text)) return std::string(text);
    if (message.content_type.starts_with("application/json") && json_is_valid(text)) return std::string(text);
    return json_quote(message.payload);
}

}  // namespace gwd
