#include "normalize/property_rules.h"

#include <algorithm>

#include "common/text.h"

namespace gwd {

std::string fold_property_key(std::string_view key) {
    std::string out;
    out.reserve(key.size());
    for (char c : key) {
        if (c == '-' || c == '_' || c == '.' || c == ' ') continue;
        out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return out;
}

std::optional<PropertyPattern> PropertyPattern::compile(std::string_view pattern, std::string& error) {
    PropertyPattern compiled;
    compiled.text_ = std::string(pattern);
    size_t i = 0;
    bool any_field = false;
    while (i < pattern.size()) {
        if (pattern[i] == '{') {
            size_t close = pattern.find('}', i);
            if (close == std::string_view::npos) {
                error = "'{' at position " + std::to_string(i) + " is not closed";
                return std::nullopt;
            }
            std::string name(pattern.substr(i + 1, close - i - 1));
            if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                })) {
                error = "field name '{" + name + "}' must be lower-case letters, digits and '_'";
                return std::nullopt;
            }
            if (!compiled.segments_.empty() && compiled.segments_.back().field) {
                error =
                    "fields {" + compiled.segments_.back().text + "} and {" + name + "} need literal text between them";
                return std::nullopt;
            }
            compiled.segments_.push_back({true, name});
            any_field = true;
            i = close + 1;
        } else {
            size_t next = pattern.find('{', i);
            std::string literal(pattern.substr(i, next == std::string_view::npos ? std::string_view::npos : next - i));
            if (literal.find('}') != std::string::npos) {
                error = "'}' without '{'";
                return std::nullopt;
            }
            compiled.segments_.push_back({false, ascii_lower(literal)});
            i = next == std::string_view::npos ? pattern.size() : next;
        }
    }
    if (!any_field) {
        error = "has no {field}";
        return std::nullopt;
    }
    return compiled;
}

bool PropertyPattern::match(std::string_view value, std::vector<std::pair<std::string, std::string>>& fields) const {
    fields.clear();
    std::string lowered = ascii_lower(value);
    size_t pos = 0;
    for (size_t s = 0; s < segments_.size(); ++s) {
        const Segment& seg = segments_[s];
        if (!seg.field) {
            if (lowered.compare(pos, seg.text.size(), seg.text) != 0) return false;
            pos += seg.text.size();
            continue;
        }
        size_t end;
        if (s + 1 == segments_.size()) {
            end = value.size();
        } else {
            // The next segment is a literal: the field ends at its first
            // occurrence that leaves the field non-empty; the last literal
            // must sit at the very end.
            const std::string& literal = segments_[s + 1].text;
            if (s + 2 == segments_.size()) {
                if (lowered.size() < pos + 1 + literal.size() ||
                    lowered.compare(lowered.size() - literal.size(), literal.size(), literal) != 0)
                    return false;
                end = lowered.size() - literal.size();
            } else {
                end = lowered.find(literal, pos + 1);
                if (end == std::string::npos) return false;
            }
        }
        if (end <= pos) return false;
        fields.emplace_back(seg.text, std::string(value.substr(pos, end - pos)));
        pos = end;
    }
    return pos == value.size();
}

void PropertyRules::add_rule(PropertyRule rule) {
    CompiledRule compiled;
    for (const auto& k : rule.keys) compiled.folded_keys.push_back(fold_property_key(k));
    compiled.rule = std::move(rule);
    rules_.push_back(std::move(compiled));
}

void PropertyRules::add_rename(std::string_view from_key, std::string_view to_key) {
    renames_.push_back({fold_property_key(from_key), std::string(to_key)});
}

void PropertyRules::add_deny(std::string_view glob) { deny_.emplace_back(glob); }

void PropertyRules::append(const PropertyRules& other) {
    rules_.insert(rules_.end(), other.rules_.begin(), other.rules_.end());
    renames_.insert(renames_.end(), other.renames_.begin(), other.renames_.end());
    deny_.insert(deny_.end(), other.deny_.begin(), other.deny_.end());
}

bool PropertyRules::denied(std::string_view key) const {
    return std::any_of(deny_.begin(), deny_.end(), [&](const std::string& g) { return glob_match_icase(g, key); });
}

namespace {
void append_unique(UserProperties& out, std::string key, std::string value) {
    for (const auto& p : out)
        if (p.key == key && p.value == value) return;
    out.push_back({std::move(key), std::move(value)});
}
}  // namespace

void PropertyRules::apply(std::string_view key, std::string_view value, UserProperties& out) const {
    if (denied(key)) return;
    const std::string folded = fold_property_key(key);
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& compiled : rules_) {
        if (std::find(compiled.folded_keys.begin(), compiled.folded_keys.end(), folded) == compiled.folded_keys.end())
            continue;
        if (!compiled.rule.pattern.match(trim(value), fields)) continue;
        for (auto& [name, captured] : fields) {
            const auto& lc = compiled.rule.lowercase;
            if (std::find(lc.begin(), lc.end(), name) != lc.end()) captured = ascii_lower(captured);
            if (!denied(name)) append_unique(out, name, std::move(captured));
        }
        return;
    }
    for (const auto& rename : renames_) {
        if (rename.folded_from == folded) {
            if (!denied(rename.to)) append_unique(out, rename.to, std::string(value));
            return;
        }
    }
    // Passed through as sent: duplicates are the sender's business (MQTT v5 allows them).
    out.push_back({std::string(key), std::string(value)});
}

PropertyRules PropertyRules::builtin() {
    PropertyRules rules;
    auto rule = [&](std::vector<std::string> keys, std::string_view pattern, std::vector<std::string> lowercase) {
        std::string error;
        auto compiled = PropertyPattern::compile(pattern, error);
        rules.add_rule(PropertyRule{std::move(keys), std::move(*compiled), std::move(lowercase)});
    };
    const std::vector<std::string> hardware = {"Hardware-Revision", "Hardware-Manufacturer", "Hardware",
                                               "HW-Revision",       "Manufacturer",          "Vendor"};
    // "Xiaomi-rev1.17c", "Huawei-rev8.2", "Bosch rev 2", "Acme_rev3"
    rule(hardware, "{vendor}-rev{hw_revision}", {"vendor"});
    rule(hardware, "{vendor} rev {hw_revision}", {"vendor"});
    rule(hardware, "{vendor}_rev{hw_revision}", {"vendor"});
    // A revision alone: "rev1.17c" or "1.17c".
    rule({"Hardware-Revision", "HW-Revision", "Revision"}, "rev{hw_revision}", {});
    rule({"Hardware-Revision", "HW-Revision", "Revision"}, "{hw_revision}", {});
    // A manufacturer alone: "Xiaomi".
    rule({"Hardware-Manufacturer", "Manufacturer", "Vendor", "Make", "Brand"}, "{vendor}", {"vendor"});
    for (const char* k : {"Serial-Number", "Serial", "SN", "Device-Serial"}) rules.add_rename(k, "serial");
    for (const char* k : {"Firmware-Version", "Firmware", "FW-Version", "FW"}) rules.add_rename(k, "fw_version");
    for (const char* k : {"Model", "Hardware-Model", "Device-Model"}) rules.add_rename(k, "model");
    for (const char* k : {"Unit", "Units", "UOM"}) rules.add_rename(k, "unit");
    for (const char* k : {"Location", "Site"}) rules.add_rename(k, "location");
    return rules;
}

}  // namespace gwd
