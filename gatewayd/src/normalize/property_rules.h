// Vendor user properties -> canonical keys.
//
// A rule matches property keys (case-insensitively, ignoring '-', '_', '.'
// and spaces, so "Hardware-Revision" matches "hardware_revision") and splits
// the value with a pattern of named fields, e.g. "{vendor}-rev{hw_revision}"
// turns "Xiaomi-rev1.17c" into vendor=xiaomi (lower-cased by the rule) and
// hw_revision=1.17c. Rules are tried in order; the first whose pattern
// matches wins. A rename maps a key to a canonical key, keeping the value.
// Properties no rule or rename matches pass through unchanged unless a deny
// glob matches them. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/message.h"

namespace gwd {

// "Hardware-Revision" -> "hardwarerevision".
std::string fold_property_key(std::string_view key);

class PropertyPattern {
public:
    // Compiles "{vendor}-rev{hw_revision}". Fields are [a-z0-9_]+; two fields
    // must be separated by literal text. nullopt with `error` on bad syntax.
    static std::optional<PropertyPattern> compile(std::string_view pattern, std::string& error);

    // Splits `value`; every field must capture at least one byte. Literals
    // match case-insensitively.
    bool match(std::string_view value, std::vector<std::pair<std::string, std::string>>& fields) const;

    const std::string& text() const { return text_; }

private:
    struct Segment {
        bool field;
        std::string text;  // field name or literal
    };
    std::vector<Segment> segments_;
    std::string text_;
};

struct PropertyRule {
    std::vector<std::string> keys;  // as the user wrote them
    PropertyPattern pattern;
    std::vector<std::string> lowercase;  // fields whose value is lower-cased
};

class PropertyRules {
public:
    // The rules for the vendor properties seen in the field (Hardware-Revision,
    // Hardware-Manufacturer, serial numbers, firmware versions, units).
    static PropertyRules builtin();

    void add_rule(PropertyRule rule);
    void add_rename(std::string_view from_key, std::string_view to_key);
    void add_deny(std::string_view glob);
    // Appends `other`'s rules, renames and denies after this one's.
    void append(const PropertyRules& other);

    // Maps one property and appends the result to `out`. Canonical pairs a
    // rule or rename produced are not repeated (Hardware-Manufacturer and
    // Hardware-Revision may both say vendor=xiaomi); properties passed
    // through keep their duplicates.
    void apply(std::string_view key, std::string_view value, UserProperties& out) const;

private:
    bool denied(std::string_view key) const;
    struct CompiledRule {
        std::vector<std::string> folded_keys;
        PropertyRule rule;
    };
    struct Rename {
        std::string folded_from;
        std::string to;
    };
    std::vector<CompiledRule> rules_;
    std::vector<Rename> renames_;
    std::vector<std::string> deny_;
};

}  // namespace gwd
