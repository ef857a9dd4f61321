#include "config/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace gwd {

std::string Diagnostic::str() const {
    std::string out = where.file;
    if (where.line > 0) {
        out += ':' + std::to_string(where.line);
        out += ':' + std::to_string(where.column > 0 ? where.column : 1);
    }
    out += ": ";
    out += message;
    return out;
}

void Diagnostics::error(SourceLocation where, std::string message) {
    items_.push_back({std::move(where), std::move(message)});
}

void Diagnostics::append(const Diagnostics& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

void Diagnostics::sort() {
    std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.where.file, a.where.line, a.where.column) <
               std::tie(b.where.file, b.where.line, b.where.column);
    });
}

}  // namespace gwd
