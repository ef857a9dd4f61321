#include "router/router.h"

#include <algorithm>

namespace gwd {

void Router::add_route(Route route) { routes_.push_back(std::move(route)); }

Router::Dispatched Router::dispatch(const std::shared_ptr<const Message>& message, const StoreTicketPtr& ticket) const {
    Dispatched d;
    const bool dead = message->kind == Message::Kind::dead_letter;
    for (const Route& route : routes_) {
        if (dead && !route.dead_letters) continue;
        if (!route.sensors.empty() &&
            std::find(route.sensors.begin(), route.sensors.end(), message->instance) == route.sensors.end())
            continue;
        ++d.routes;
        if (ticket) ticket->hold();
        if (route.outbox->append(message, ticket)) ++d.taken;
    }
    return d;
}

}  // namespace gwd
