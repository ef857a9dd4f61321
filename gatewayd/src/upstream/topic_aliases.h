// MQTT v5 topic aliases for one connection (MQTT 5.0, 3.3.2.3.4 Topic Alias): a topic
// used again gets a number, and later publishes send the number instead of
// the topic, which saves bandwidth on metered links. Aliases are handed out
// on a topic's second use, up to the broker's Topic Alias Maximum, and kept
// for the connection's life (a gateway publishes to a stable set of topics).
// Pure bookkeeping; the session resets it on every connection.
#pragma once

#include <string>
#include <unordered_map>

namespace gwd {

class TopicAliases {
public:
    // 0 disables aliases (the broker's default when it announces none).
    void reset(int maximum);

    struct Use {
        int alias = 0;           // 0: publish without an alias
        bool send_topic = true;  // false: the alias alone names the topic
    };
    Use use(const std::string& topic);

    int assigned() const { return next_ - 1; }

private:
    int maximum_ = 0;
    int next_ = 1;
    std::unordered_map<std::string, int> seen_;  // topic -> alias, or 0 once seen without one
};

}  // namespace gwd
