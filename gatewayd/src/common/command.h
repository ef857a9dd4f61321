// A platform command in the daemon's own terms, as a plugin receives it
// (plugin.h, gwd_command), and what the plugin answered. Pure values.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace gwd {

struct Command {
    std::string instance;  // the [[sensor]] whose plugin handles it
    std::string sensor;    // the reading name it is about
    std::string name;      // "set" (new values), or the platform's command / service name
    std::string params;    // a JSON object, "{}" when the platform sent none
};

struct CommandOutcome {
    enum class Status {
        ok,           // done; `result` may hold a JSON object
        unsupported,  // no plugin handles this command or sensor
        invalid,      // the parameters were refused
        failed,       // the plugin tried and failed
    };
    Status status = Status::ok;
    std::string result;   // JSON object text or empty
    std::string message;  // one sentence, for failures

    bool ok() const { return status == Status::ok; }
    static CommandOutcome failure(Status status, std::string message) {
        return CommandOutcome{status, {}, std::move(message)};
    }
};

std::string_view command_status_name(CommandOutcome::Status status);

// Hands commands to the plugins. Implemented by the daemon over the plugin
// host; `done` may be called from another thread, exactly once.
class CommandRouter {
public:
    virtual ~CommandRouter() = default;
    virtual void dispatch(Command command, std::function<void(CommandOutcome)> done) = 0;
};

}  // namespace gwd
