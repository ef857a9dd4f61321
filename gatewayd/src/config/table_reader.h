// Reads one TOML table of gatewayd.toml with the loader's conventions: typed
// getters that report a wrong type or range in words, and finish(), which
// reports every key nobody asked for with the nearest known one. Internal to
// the config room.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "common/error_text.h"
#include "common/file_reference.h"
#include "common/text.h"
#include "common/units.h"
#include "config/config.h"
#include "config/diagnostics.h"

namespace gwd {

inline SourceLocation location(const std::string& file, const toml::source_region& region) {
    return SourceLocation{file, static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

inline std::string_view toml_type_description(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a number";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::array: return "a list";
        case toml::node_type::table: return "a table";
        default: return "a date/time";
    }
}

// Reads one TOML table, remembering which keys were asked for: whatever is
// left at finish() is unknown and reported with the nearest known key.
class TableReader {
public:
    TableReader(const toml::table& table, std::string label, const std::string& file, Diagnostics& diags)
        : table_(table), label_(std::move(label)), file_(file), diags_(diags) {}

    SourceLocation where() const { return location(file_, table_.source()); }
    const std::string& file() const { return file_; }
    Diagnostics& diagnostics() { return diags_; }
    bool has(std::string_view key) const { return table_.contains(key); }
    const std::string& label() const { return label_; }

    SourceLocation where(std::string_view key) const {
        if (const toml::node* node = table_.get(key)) return location(file_, node->source());
        return where();
    }

    void error(std::string_view key, const std::string& message) { diags_.error(where(key), message); }
    void error_here(const std::string& message) { diags_.error(where(), message); }

    const toml::node* get(std::string_view key) {
        known_.insert(std::string(key));
        return table_.get(key);
    }

    void known(std::string_view key) { known_.insert(std::string(key)); }

    std::optional<std::string> string(std::string_view key, bool required = false) {
        const toml::node* node = get(key);
        if (node == nullptr) {
            if (required) error_here(label_ + " needs '" + std::string(key) + "'");
            return std::nullopt;
        }
        if (const auto* s = node->as_string()) return s->get();
        type_error(key, *node, "a string");
        return std::nullopt;
    }

    // One name of a fixed set: its value, or an error naming every allowed
    // name with what it means. Declared once per key, where it is read.
    template <typename Value>
    struct Choice {
        std::string_view name;
        Value value;
        std::string_view meaning = {};  // e.g. "the default"
    };

    template <typename Value>
    std::optional<Value> choice(std::string_view key, std::initializer_list<Choice<Value>> choices) {
        auto name = string(key);
        if (!name) return std::nullopt;
        for (const auto& c : choices)
            if (*name == c.name) return c.value;
        std::string allowed;
        size_t i = 0;
        for (const auto& c : choices) {
            if (i > 0) allowed += i + 1 == choices.size() ? " or " : ", ";
            allowed += "\"" + std::string(c.name) + "\"";
            if (!c.meaning.empty()) allowed += " (" + std::string(c.meaning) + ")";
            ++i;
        }
        error(key, label_ + ": " + std::string(key) + " must be " + allowed + ", not \"" + *name + "\"");
        return std::nullopt;
    }

    // A *_file key: a path, or credential:NAME (file_reference.h).
    std::optional<std::filesystem::path> file(std::string_view key, bool required = false) {
        auto value = string(key, required);
        if (!value) return std::nullopt;
        std::string problem;
        auto path = resolve_file_reference(*value, std::getenv("CREDENTIALS_DIRECTORY"), problem);
        if (!path) error(key, label_ + ": " + std::string(key) + " " + problem);
        return path;
    }

    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) {
        const toml::node* node = get(key);
        if (node == nullptr) return std::nullopt;
        const auto* i = node->as_integer();
        if (i == nullptr) {
            type_error(key, *node, "an integer");
            return std::nullopt;
        }
        if (i->get() < min || i->get() > max) {
            error(key, label_ + ": '" + std::string(key) + "' must be between " + std::to_string(min) + " and " +
                           std::to_string(max) + ", not " + std::to_string(i->get()));
            return std::nullopt;
        }
        return i->get();
    }

    std::optional<bool> boolean(std::string_view key) {
        const toml::node* node = get(key);
        if (node == nullptr) return std::nullopt;
        if (const auto* b = node->as_boolean()) return b->get();
        type_error(key, *node, "true or false");
        return std::nullopt;
    }

    std::optional<Duration> duration(std::string_view key, Duration min = Duration(0)) {
        const toml::node* node = get(key);
        if (node == nullptr) return std::nullopt;
        const auto* s = node->as_string();
        if (s == nullptr) {
            if (node->is_integer()) {
                error(key, label_ + ": '" + std::string(key) + "' needs a unit: write \"" +
                               std::to_string(node->as_integer()->get()) + "s\" (units: ms, s, m, h, d)");
            } else {
                type_error(key, *node, "a duration string such as \"5s\"");
            }
            return std::nullopt;
        }
        std::string problem;
        auto d = parse_duration(s->get(), problem);
        if (!d) {
            error(key, label_ + ": '" + std::string(key) + "' = \"" + s->get() + "\" " + problem);
            return std::nullopt;
        }
        if (*d < min) {
            error(key, label_ + ": '" + std::string(key) + "' must be at least " + format_duration(min));
            return std::nullopt;
        }
        return d;
    }

    std::optional<std::uint64_t> size(std::string_view key) {
        const toml::node* node = get(key);
        if (node == nullptr) return std::nullopt;
        if (const auto* i = node->as_integer()) {
            if (i->get() < 0) {
                error(key, label_ + ": '" + std::string(key) + "' cannot be negative");
                return std::nullopt;
            }
            return static_cast<std::uint64_t>(i->get());
        }
        const auto* s = node->as_string();
        if (s == nullptr) {
            type_error(key, *node, "a size such as \"256MiB\"");
            return std::nullopt;
        }
        std::string problem;
        auto bytes = parse_size(s->get(), problem);
        if (!bytes) error(key, label_ + ": '" + std::string(key) + "' = \"" + s->get() + "\" " + problem);
        return bytes;
    }

    std::optional<std::vector<std::string>> string_list(std::string_view key) {
        const toml::node* node = get(key);
        if (node == nullptr) return std::nullopt;
        const auto* array = node->as_array();
        if (array == nullptr) {
            type_error(key, *node, "a list of strings");
            return std::nullopt;
        }
        std::vector<std::string> out;
        for (const auto& item : *array) {
            const auto* s = item.as_string();
            if (s == nullptr) {
                diags_.error(location(file_, item.source()), label_ + ": '" + std::string(key) +
                                                                 "' must hold only strings, not " +
                                                                 std::string(toml_type_description(item)));
                return std::nullopt;
            }
            out.push_back(s->get());
        }
        return out;
    }

    const toml::table* table(std::string_view key) {
        const toml::node* node = get(key);
        if (node == nullptr) return nullptr;
        if (const auto* t = node->as_table()) return t;
        type_error(key, *node, "a table");
        return nullptr;
    }

    // Reports every key that nobody asked for.
    void finish() {
        std::vector<std::string> candidates(known_.begin(), known_.end());
        for (const auto& [key, node] : table_) {
            if (known_.count(std::string(key.str())) != 0) continue;
            std::string message = "unknown key '" + std::string(key.str()) + "' in " + label_;
            std::string hint = nearest_match(key.str(), candidates);
            if (!hint.empty()) message += "; did you mean '" + hint + "'?";
            diags_.error(location(file_, key.source()), message);
        }
    }

private:
    void type_error(std::string_view key, const toml::node& node, std::string_view wanted) {
        error(key, label_ + ": '" + std::string(key) + "' must be " + std::string(wanted) + ", not " +
                       std::string(toml_type_description(node)));
    }

    const toml::table& table_;
    std::string label_;
    const std::string& file_;
    Diagnostics& diags_;
    std::set<std::string> known_;
};

// Checks at load time that a file the daemon will read exists and is readable.
inline void check_readable_file(TableReader& reader, std::string_view key, const std::filesystem::path& path) {
    std::ifstream probe(path);
    if (!probe) {
        reader.error(key, reader.label() + ": " + std::string(key) + " '" + path.string() +
                              "' cannot be read: " + gwd::error_text(errno));
    }
}

}  // namespace gwd
