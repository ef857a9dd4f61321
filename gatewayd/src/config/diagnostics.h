// Config problems, each pinned to a place in a file: "PATH:LINE:COLUMN: message".
#pragma once

#include <string>
#include <vector>

namespace gwd {

struct SourceLocation {
    std::string file;
    int line = 0;    // 1-based; 0 when unknown
    int column = 0;  // 1-based; 0 when unknown
    bool operator==(const SourceLocation&) const = default;
};

struct Diagnostic {
    SourceLocation where;
    std::string message;

    // "conf/gatewayd.toml:12:1: unknown key 'plugn'; did you mean 'plugin'?"
    std::string str() const;
};

class Diagnostics {
public:
    void error(SourceLocation where, std::string message);
    bool empty() const { return items_.empty(); }
    const std::vector<Diagnostic>& items() const { return items_; }
    void append(const Diagnostics& other);
    // Orders problems as they appear in the file (by file, line, column).
    void sort();

private:
    std::vector<Diagnostic> items_;
};

}  // namespace gwd
