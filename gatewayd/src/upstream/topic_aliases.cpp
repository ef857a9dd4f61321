#include "upstream/topic_aliases.h"

namespace gwd {

void TopicAliases::reset(int maximum) {
    maximum_ = maximum < 0 ? 0 : maximum;
    next_ = 1;
    seen_.clear();
}

TopicAliases::Use TopicAliases::use(const std::string& topic) {
    if (maximum_ == 0) return {};
    auto it = seen_.find(topic);
    if (it == seen_.end()) {
        // Remember a bounded number of topics seen once, so a stream of
        // one-off topics cannot grow this map without end.
        if (seen_.size() < static_cast<size_t>(maximum_) * 16) seen_.emplace(topic, 0);
        return {};
    }
    if (it->second > 0) return {it->second, false};
    if (next_ > maximum_) return {};
    it->second = next_++;
    return {it->second, true};  // the first publish with the alias carries the topic too
}

}  // namespace gwd
