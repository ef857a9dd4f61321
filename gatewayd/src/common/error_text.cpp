#include "common/error_text.h"

#include <string.h>

namespace gwd {

namespace {
// strerror_r comes in two shapes: GNU returns the text (maybe not in the
// buffer), XSI fills the buffer and returns 0. Overloads take either.
[[maybe_unused]] const char* text_of(const char* gnu_result, const char*) { return gnu_result; }
[[maybe_unused]] const char* text_of(int xsi_result, const char* buffer) {
    return xsi_result == 0 ? buffer : "unknown error";
}
}  // namespace

std::string error_text(int error_number) {
    char buffer[256] = {};
    return text_of(strerror_r(error_number, buffer, sizeof buffer), buffer);
}

}  // namespace gwd
