#include "config/option_table.h"

#include <charconv>

namespace gwd {

std::string_view OptionValue::type_description() const {
    switch (value.index()) {
        case 0: return "a string";
        case 1: return "an integer";
        case 2: return "a number";
        case 3: return "a boolean";
        case 4: return "a list";
        default: return "a table";
    }
}

const OptionValue* OptionValue::find(std::string_view dotted_key) const {
    const OptionValue* node = this;
    while (true) {
        size_t dot = dotted_key.find('.');
        std::string_view head = dotted_key.substr(0, dot);
        const OptionValue* next = nullptr;
        if (node->is_list()) {
            // A list element by its index: "devices.0.unit_id".
            const auto& list = std::get<List>(node->value);
            size_t index = 0;
            auto [end, ec] = std::from_chars(head.data(), head.data() + head.size(), index);
            if (ec != std::errc() || end != head.data() + head.size() || head.empty() || index >= list.size())
                return nullptr;
            next = &list[index];
        } else if (node->is_table()) {
            for (const auto& [k, v] : std::get<Table>(node->value)) {
                if (k == head) {
                    next = &v;
                    break;
                }
            }
        }
        if (next == nullptr) return nullptr;
        if (dot == std::string_view::npos) return next;
        node = next;
        dotted_key.remove_prefix(dot + 1);
    }
}

void flatten_option_keys(const OptionValue& table, std::vector<std::pair<std::string, const OptionValue*>>& out,
                         const std::string& prefix) {
    if (!table.is_table()) return;
    for (const auto& [k, v] : std::get<OptionValue::Table>(table.value)) {
        std::string path = prefix.empty() ? k : prefix + "." + k;
        // An empty table is a leaf: it must be checked like any other value.
        if (v.is_table() && !std::get<OptionValue::Table>(v.value).empty()) {
            flatten_option_keys(v, out, path);
        } else {
            out.emplace_back(path, &v);
        }
    }
}

}  // namespace gwd
