#include "common/command.h"

namespace gwd {

std::string_view command_status_name(CommandOutcome::Status status) {
    switch (status) {
        case CommandOutcome::Status::ok: return "ok";
        case CommandOutcome::Status::unsupported: return "unsupported";
        case CommandOutcome::Status::invalid: return "invalid";
        case CommandOutcome::Status::failed: return "failed";
    }
    return "failed";
}

}  // namespace gwd
