#include "upstream/profiles/batch_envelope.h"

#include <algorithm>

#include "upstream/profiles/message_envelope.h"

namespace gwd {

std::string envelope_array(std::span<const UplinkItem> items, std::string_view gateway_id) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i != 0) out += ',';
        out += message_envelope(*items[i].message, gateway_id);
    }
    out += ']';
    return out;
}

UserProperties shared_properties(std::span<const UplinkItem> items, size_t max_bytes) {
    UserProperties shared;
    if (items.empty()) return shared;
    size_t bytes = 0;
    for (const auto& p : items.front().message->properties) {
        const bool everywhere = std::all_of(items.begin() + 1, items.end(), [&](const UplinkItem& item) {
            const auto& ps = item.message->properties;
            return std::find_if(ps.begin(), ps.end(), [&](const UserProperty& q) {
                       return q.key == p.key && q.value == p.value;
                   }) != ps.end();
        });
        if (!everywhere) continue;
        if (max_bytes > 0 && bytes + p.key.size() + p.value.size() > max_bytes) break;
        bytes += p.key.size() + p.value.size();
        shared.push_back(p);
    }
    return shared;
}

}  // namespace gwd
