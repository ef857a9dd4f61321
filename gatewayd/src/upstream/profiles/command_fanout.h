// A platform request that became one or more plugin commands (a property
// set naming several properties), answered once all of them were: the first
// failure decides, else the last result. Pure bookkeeping for the agents.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "upstream/profiles/platform_agent.h"

namespace gwd {

template <typename Request>
class CommandFanout {
public:
    // Hands `commands` (at least one) to the plugins under fresh tickets.
    void open(Request request, std::vector<Command> commands, PlatformAgent::Output& out) {
        const std::uint64_t id = next_ticket_;
        open_.emplace(id, Open{std::move(request), commands.size(), std::nullopt, {}});
        for (auto& c : commands) {
            const std::uint64_t ticket = next_ticket_++;
            ticket_request_[ticket] = id;
            out.commands.push_back({ticket, std::move(c)});
        }
    }

    // The request and its outcome when `ticket` was the last it waited for.
    std::optional<std::pair<Request, CommandOutcome>> done(std::uint64_t ticket, const CommandOutcome& outcome) {
        auto t = ticket_request_.find(ticket);
        if (t == ticket_request_.end()) return std::nullopt;
        auto it = open_.find(t->second);
        ticket_request_.erase(t);
        if (it == open_.end()) return std::nullopt;
        Open& o = it->second;
        if (!outcome.ok() && !o.failure) o.failure = outcome;
        if (outcome.ok() && !outcome.result.empty()) o.result = outcome.result;
        if (--o.outstanding > 0) return std::nullopt;
        std::pair<Request, CommandOutcome> finished{
            std::move(o.request), o.failure ? *o.failure : CommandOutcome{CommandOutcome::Status::ok, o.result, {}}};
        open_.erase(it);
        return finished;
    }

private:
    struct Open {
        Request request;
        size_t outstanding;
        std::optional<CommandOutcome> failure;
        std::string result;
    };
    std::uint64_t next_ticket_ = 1;
    std::map<std::uint64_t, std::uint64_t> ticket_request_;  // ticket -> request
    std::map<std::uint64_t, Open> open_;
};

}  // namespace gwd
