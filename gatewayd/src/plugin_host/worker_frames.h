// The messages between gatewayd and a sensor's plugin process
// (isolation = "process"), and their bytes. Pure: no I/O.
//
// A frame is a u32 little-endian length, then that many bytes: a u8 type and
// the fields of that type, integers little-endian, strings as a u32 length
// and bytes. The daemon decodes what the child sends as untrusted input (the
// plugin runs there and can write to the socket): every decode checks every
// length and refuses trailing bytes, with a reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/message.h"
#include "config/config.h"
#include "plugin_host/sensor_instance.h"

namespace gwd::worker {

// Daemon -> child.
struct Init {
    std::string gateway_id;
    std::string image;  // the plugin file to load (the daemon's checked copy)
    int log_threshold = 6;
    std::int64_t call_timeout_ms = 10000;
    std::uint64_t max_reading_size = 1024 * 1024;
    SensorConfig sensor;
};
struct Start {};
struct Stop {
    std::int64_t timeout_ms = 0;
};
struct Ack {
    std::uint64_t id = 0;
    bool stored = false;
};
struct CommandRequest {
    std::uint64_t id = 0;
    std::int64_t timeout_ms = 0;
    std::string sensor, name, params;
};

// Child -> daemon.
enum class Step : std::uint8_t { created = 1, started = 2, stopped = 3 };
struct StepResult {
    Step step = Step::created;
    bool ok = false;
    std::string error;
};
struct Reading {
    std::uint64_t id = 0;  // the child's ticket; 0: the plugin wants no stored() call
    std::string sensor;
    std::int64_t timestamp_ms = 0;
    std::string payload;
    std::optional<std::string> content_type;
    UserProperties properties;
    std::uint32_t message_expiry_s = 0;
};
struct LogLine {
    int level = 6;
    std::string text;
};
struct Status {
    SensorState state = SensorState::created;
    std::string error;
    std::uint64_t invalid = 0, oversized = 0, no_memory = 0, poll_errors = 0;
    PluginCounters counters;
};
struct CommandReply {
    std::uint64_t id = 0;
    int status = 0;  // CommandOutcome::Status
    std::string result, message;
};

using Frame = std::variant<Init, Start, Stop, Ack, CommandRequest, StepResult, Reading, LogLine, Status, CommandReply>;

// The frame with its length prefix, appended to `out`.
void encode(const Frame& frame, std::string& out);
std::string encode(const Frame& frame);
// The Reading frame of a reading as emitted, without copying it into a
// Reading first (the child's per-reading path).
void encode_reading(const ReadingView& reading, std::uint64_t id, std::string& out);

// Splits a byte stream into frame bodies. Feed it what was read; take()
// hands out complete bodies (without the prefix) one at a time, as views
// into its buffer that stay valid until the next feed().
class FrameSplitter {
public:
    explicit FrameSplitter(std::uint32_t max_body) : max_body_(max_body) {}
    void feed(std::string_view bytes);
    // The next body, nullopt when incomplete; sets `error` (and returns
    // nullopt) when the prefix announces more than max_body.
    std::optional<std::string_view> take(std::string& error);
    size_t buffered() const { return buffer_.size() - offset_; }

private:
    std::uint32_t max_body_;
    std::string buffer_;
    size_t offset_ = 0;
};

// One body (as FrameSplitter hands it out), or nullopt with `error`.
std::optional<Frame> decode(std::string_view body, std::string& error);

}  // namespace gwd::worker
