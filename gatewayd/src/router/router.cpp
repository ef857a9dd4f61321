#include "router/router.h"

#include <algorithm>

namespace gwd {

void Router::add_route(Route route) { routes_.push_back(std::move(route)); }

size_t Router::dispatch(const std::shared_ptr<const Message>& message, const StoreTicketPtr& ticket) const {
    size_t taken = 0;
    const bool dead = message->kind == Message::Kind::dead_letter;
    for (const Route& route : routes_) {
        if (dead && !route.dead_letters) continue;
        if (!route.sensors.empty() &&
            std::find(route.sensors.begin(), route.sensors.end(), message->instance) == route.sensors.end())
            continue;
        if (ticket) ticket->hold();
        if (route.outbox->append(message, ticket)) ++taken;
    }
    return taken;
}

}  // namespace gwd
