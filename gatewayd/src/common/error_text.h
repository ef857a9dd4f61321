// The text of an errno value, safe to call from any thread (std::strerror
// may return a buffer that another thread's call overwrites).
#pragma once

#include <string>

namespace gwd {

std::string error_text(int error_number);

}  // namespace gwd
