// Which upstreams want a message: each route names an outbox, the sensors it
// carries (all when the list is empty) and whether it takes dead letters.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/message.h"
#include "outbox/outbox.h"

namespace gwd {

class Router {
public:
    struct Route {
        std::string upstream;
        // Shared: a message being routed keeps its outbox alive even if a
        // reload removes the upstream meanwhile.
        std::shared_ptr<Outbox> outbox;
        std::vector<std::string> sensors;  // [[sensor]] names; empty = every sensor
        bool dead_letters = true;          // the upstream has a dead-letter topic
    };

    void add_route(Route route);

    struct Dispatched {
        size_t routes = 0;  // upstreams that take this message
        size_t taken = 0;   // of those, how many queued it (a full drop-newest outbox refuses, and counts that)
    };
    // Appends the message to every outbox whose route takes it. Each outbox
    // gets a share of `ticket`, when there is one.
    Dispatched dispatch(const std::shared_ptr<const Message>& message, const StoreTicketPtr& ticket = nullptr) const;

private:
    std::vector<Route> routes_;
};

}  // namespace gwd
