// A reading's payload as a value inside a platform's JSON document: numeric
// text ("23.4", " 23 ") becomes a JSON number, a JSON payload goes in as it
// is, "true"/"false" become booleans, other UTF-8 text a string, and binary
// payloads a base64 string. Pure.
#pragma once

#include <string>

#include "common/message.h"

namespace gwd {

std::string reading_json_value(const Message& message);

}  // namespace gwd
