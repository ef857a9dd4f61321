#include "plugin_host/worker_frames.h"

#include <bit>
#include <cstring>
#include <limits>

namespace gwd::worker {

namespace {

enum class Type : std::uint8_t {
    init = 1,
    start,
    stop,
    ack,
    command,
    step_result,
    reading,
    log_line,
    status,
    command_reply,
};

constexpr int kMaxOptionDepth = 32;  // TOML tables nested deeper than any real config

class Writer {
public:
    explicit Writer(std::string& out) : out_(out) {}
    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void boolean(bool v) { u8(v ? 1 : 0); }
    void str(std::string_view s) {
        u32(static_cast<std::uint32_t>(s.size()));
        out_.append(s);
    }
    void where(const SourceLocation& w) {
        str(w.file);
        i64(w.line);
        i64(w.column);
    }
    void option(const OptionValue& v) {
        where(v.where);
        where(v.key_where);
        u8(static_cast<std::uint8_t>(v.value.index()));
        if (v.is_string()) str(std::get<std::string>(v.value));
        if (v.is_integer()) i64(std::get<std::int64_t>(v.value));
        if (v.is_float()) u64(std::bit_cast<std::uint64_t>(std::get<double>(v.value)));
        if (v.is_bool()) boolean(std::get<bool>(v.value));
        if (v.is_list()) {
            const auto& list = std::get<OptionValue::List>(v.value);
            u32(static_cast<std::uint32_t>(list.size()));
            for (const auto& item : list) option(item);
        }
        if (v.is_table()) {
            const auto& table = std::get<OptionValue::Table>(v.value);
            u32(static_cast<std::uint32_t>(table.size()));
            for (const auto& [key, item] : table) {
                str(key);
                option(item);
            }
        }
    }

private:
    std::string& out_;
};

// Reads fields off a body; the first problem sticks, later reads return zeros.
class Reader {
public:
    explicit Reader(std::string_view body) : in_(body) {}
    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    void fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
    }
    bool done() {
        if (ok() && pos_ != in_.size()) fail(std::to_string(in_.size() - pos_) + " bytes after the last field");
        return ok();
    }
    std::uint8_t u8() {
        if (!need(1)) return 0;
        return static_cast<std::uint8_t>(in_[pos_++]);
    }
    std::uint32_t u32() {
        if (!need(4)) return 0;
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= std::uint32_t(static_cast<std::uint8_t>(in_[pos_++])) << (8 * i);
        return v;
    }
    std::uint64_t u64() {
        if (!need(8)) return 0;
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= std::uint64_t(static_cast<std::uint8_t>(in_[pos_++])) << (8 * i);
        return v;
    }
    std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
    // An int sent as i64 (levels, statuses, line numbers): one that does not
    // fit is refused, not cut, so a frame decodes to one value only.
    int i32() {
        const std::int64_t v = i64();
        if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
            fail("a number out of range (" + std::to_string(v) + ")");
            return 0;
        }
        return static_cast<int>(v);
    }
    bool boolean() {
        const std::uint8_t v = u8();
        if (v > 1) fail("a flag is " + std::to_string(v) + ", not 0 or 1");
        return v == 1;
    }
    std::string str() {
        const std::uint32_t n = u32();
        if (!need(n)) return {};
        std::string s(in_.substr(pos_, n));
        pos_ += n;
        return s;
    }
    // A count of items that take at least `min_item` bytes each: refused
    // when the rest of the body cannot hold them (no huge reserve).
    std::uint32_t count(size_t min_item) {
        const std::uint32_t n = u32();
        if (ok() && static_cast<std::uint64_t>(n) * min_item > in_.size() - pos_) {
            fail("a count of " + std::to_string(n) + " items does not fit the frame");
            return 0;
        }
        return n;
    }
    SourceLocation where() {
        SourceLocation w;
        w.file = str();
        w.line = i32();
        w.column = i32();
        return w;
    }
    OptionValue option(int depth = 0) {
        OptionValue v;
        if (depth > kMaxOptionDepth) {
            fail("options nested deeper than " + std::to_string(kMaxOptionDepth));
            return v;
        }
        v.where = where();
        v.key_where = where();
        switch (u8()) {
            case 0: v.value = str(); break;
            case 1: v.value = i64(); break;
            case 2: v.value = std::bit_cast<double>(u64()); break;
            case 3: v.value = boolean(); break;
            case 4: {
                OptionValue::List list;
                const std::uint32_t n = count(44);
                for (std::uint32_t i = 0; i < n && ok(); ++i) list.push_back(option(depth + 1));
                v.value = std::move(list);
                break;
            }
            case 5: {
                OptionValue::Table table;
                const std::uint32_t n = count(48);
                for (std::uint32_t i = 0; i < n && ok(); ++i) {
                    std::string key = str();
                    table.push_back({std::move(key), option(depth + 1)});
                }
                v.value = std::move(table);
                break;
            }
            default: fail("an option value of unknown type");
        }
        return v;
    }

private:
    bool need(size_t n) {
        if (!ok()) return false;
        if (in_.size() - pos_ < n) {
            fail("the frame ends inside a field");
            return false;
        }
        return true;
    }

    std::string_view in_;
    size_t pos_ = 0;
    std::string error_;
};

// The Reading body, from a Reading or a ReadingView (properties of either
// kind: each has .key and .value).
template <typename Properties>
void write_reading(Writer& w, std::uint64_t id, std::string_view sensor, std::int64_t timestamp_ms,
                   std::string_view payload, std::optional<std::string_view> content_type, const Properties& properties,
                   std::uint32_t message_expiry_s) {
    w.u8(static_cast<std::uint8_t>(Type::reading));
    w.u64(id);
    w.str(sensor);
    w.i64(timestamp_ms);
    w.str(payload);
    w.boolean(content_type.has_value());
    w.str(content_type.value_or(std::string_view()));
    w.u32(static_cast<std::uint32_t>(properties.size()));
    for (const auto& p : properties) {
        w.str(p.key);
        w.str(p.value);
    }
    w.u32(message_expiry_s);
}

// Appends the length prefix and the body `write` writes.
template <typename Write>
void framed(std::string& out, Write&& write) {
    const size_t start = out.size();
    out.append(4, '\0');
    Writer w(out);
    write(w);
    const auto length = static_cast<std::uint32_t>(out.size() - start - 4);
    for (int i = 0; i < 4; ++i) out[start + i] = static_cast<char>(length >> (8 * i));
}

void encode_body(const Frame& frame, Writer& w) {
    std::visit(
        [&w](const auto& f) {
            using T = std::decay_t<decltype(f)>;
            if constexpr (std::is_same_v<T, Init>) {
                w.u8(static_cast<std::uint8_t>(Type::init));
                w.str(f.gateway_id);
                w.str(f.image);
                w.i64(f.log_threshold);
                w.i64(f.call_timeout_ms);
                w.u64(f.max_reading_size);
                const SensorConfig& s = f.sensor;
                w.str(s.name);
                w.str(s.plugin);
                w.i64(s.interval.count());
                w.boolean(s.enabled);
                w.boolean(s.content_type.has_value());
                w.str(s.content_type.value_or(""));
                w.boolean(s.expiry.has_value());
                w.i64(s.expiry.value_or(Duration(0)).count());
                w.where(s.where);
                w.where(s.plugin_where);
                w.option(s.options);
            } else if constexpr (std::is_same_v<T, Start>) {
                w.u8(static_cast<std::uint8_t>(Type::start));
            } else if constexpr (std::is_same_v<T, Stop>) {
                w.u8(static_cast<std::uint8_t>(Type::stop));
                w.i64(f.timeout_ms);
            } else if constexpr (std::is_same_v<T, Ack>) {
                w.u8(static_cast<std::uint8_t>(Type::ack));
                w.u64(f.id);
                w.boolean(f.stored);
            } else if constexpr (std::is_same_v<T, CommandRequest>) {
                w.u8(static_cast<std::uint8_t>(Type::command));
                w.u64(f.id);
                w.i64(f.timeout_ms);
                w.str(f.sensor);
                w.str(f.name);
                w.str(f.params);
            } else if constexpr (std::is_same_v<T, StepResult>) {
                w.u8(static_cast<std::uint8_t>(Type::step_result));
                w.u8(static_cast<std::uint8_t>(f.step));
                w.boolean(f.ok);
                w.str(f.error);
            } else if constexpr (std::is_same_v<T, Reading>) {
                std::optional<std::string_view> content_type;
                if (f.content_type) content_type = *f.content_type;
                write_reading(w, f.id, f.sensor, f.timestamp_ms, f.payload, content_type, f.properties,
                              f.message_expiry_s);
            } else if constexpr (std::is_same_v<T, LogLine>) {
                w.u8(static_cast<std::uint8_t>(Type::log_line));
                w.i64(f.level);
                w.str(f.text);
            } else if constexpr (std::is_same_v<T, Status>) {
                w.u8(static_cast<std::uint8_t>(Type::status));
                w.u8(static_cast<std::uint8_t>(f.state));
                w.str(f.error);
                w.u64(f.invalid);
                w.u64(f.oversized);
                w.u64(f.no_memory);
                w.u64(f.poll_errors);
                w.u32(static_cast<std::uint32_t>(f.counters.size()));
                for (const auto& [name, value] : f.counters) {
                    w.str(name);
                    w.u64(value);
                }
            } else if constexpr (std::is_same_v<T, CommandReply>) {
                w.u8(static_cast<std::uint8_t>(Type::command_reply));
                w.u64(f.id);
                w.i64(f.status);
                w.str(f.result);
                w.str(f.message);
            }
        },
        frame);
}

}  // namespace

void encode(const Frame& frame, std::string& out) {
    framed(out, [&](Writer& w) { encode_body(frame, w); });
}

std::string encode(const Frame& frame) {
    std::string out;
    encode(frame, out);
    return out;
}

void encode_reading(const ReadingView& reading, std::uint64_t id, std::string& out) {
    framed(out, [&](Writer& w) {
        write_reading(w, id, reading.sensor, reading.timestamp_ms, reading.payload, reading.content_type,
                      reading.properties, reading.message_expiry_s);
    });
}

void FrameSplitter::feed(std::string_view bytes) {
    // Compact what was taken once it dominates, so the buffer stays small;
    // here, not in take(), so that a body handed out stays valid until now.
    if (offset_ == buffer_.size()) {
        buffer_.clear();
        offset_ = 0;
    } else if (offset_ > 65536 && offset_ * 2 > buffer_.size()) {
        buffer_.erase(0, offset_);
        offset_ = 0;
    }
    buffer_.append(bytes);
}

std::optional<std::string_view> FrameSplitter::take(std::string& error) {
    if (buffered() < 4) return std::nullopt;
    std::uint32_t length = 0;
    for (int i = 0; i < 4; ++i) length |= std::uint32_t(static_cast<std::uint8_t>(buffer_[offset_ + i])) << (8 * i);
    if (length > max_body_) {
        error = "a frame of " + std::to_string(length) + " bytes, over the limit of " + std::to_string(max_body_);
        return std::nullopt;
    }
    if (buffered() - 4 < length) return std::nullopt;
    const std::string_view body = std::string_view(buffer_).substr(offset_ + 4, length);
    offset_ += 4 + length;
    return body;
}

std::optional<Frame> decode(std::string_view body, std::string& error) {
    if (body.empty()) {
        error = "an empty frame";
        return std::nullopt;
    }
    Reader r(body);
    Frame frame;
    const auto type = static_cast<Type>(r.u8());
    switch (type) {
        case Type::init: {
            Init f;
            f.gateway_id = r.str();
            f.image = r.str();
            f.log_threshold = r.i32();
            f.call_timeout_ms = r.i64();
            f.max_reading_size = r.u64();
            SensorConfig& s = f.sensor;
            s.name = r.str();
            s.plugin = r.str();
            s.interval = Duration(r.i64());
            s.enabled = r.boolean();
            const bool has_type = r.boolean();
            std::string content_type = r.str();
            if (has_type) s.content_type = std::move(content_type);
            if (!has_type && !content_type.empty()) r.fail("a content type behind an unset flag");
            const bool has_expiry = r.boolean();
            const Duration expiry(r.i64());
            if (has_expiry) s.expiry = expiry;
            if (!has_expiry && expiry.count() != 0) r.fail("an expiry behind an unset flag");
            s.where = r.where();
            s.plugin_where = r.where();
            s.options = r.option();
            frame = std::move(f);
            break;
        }
        case Type::start: frame = Start{}; break;
        case Type::stop: frame = Stop{r.i64()}; break;
        case Type::ack: {
            Ack f;
            f.id = r.u64();
            f.stored = r.boolean();
            frame = f;
            break;
        }
        case Type::command: {
            CommandRequest f;
            f.id = r.u64();
            f.timeout_ms = r.i64();
            f.sensor = r.str();
            f.name = r.str();
            f.params = r.str();
            frame = std::move(f);
            break;
        }
        case Type::step_result: {
            StepResult f;
            const std::uint8_t step = r.u8();
            if (step < 1 || step > 3) r.fail("a step of unknown kind");
            f.step = static_cast<Step>(step);
            f.ok = r.boolean();
            f.error = r.str();
            frame = std::move(f);
            break;
        }
        case Type::reading: {
            Reading f;
            f.id = r.u64();
            f.sensor = r.str();
            f.timestamp_ms = r.i64();
            f.payload = r.str();
            const bool has_type = r.boolean();
            std::string content_type = r.str();
            if (!has_type && !content_type.empty()) r.fail("a content type behind an unset flag");
            if (has_type) f.content_type = std::move(content_type);
            const std::uint32_t n = r.count(8);
            f.properties.reserve(n);
            for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
                std::string key = r.str();
                f.properties.push_back({std::move(key), r.str()});
            }
            f.message_expiry_s = r.u32();
            frame = std::move(f);
            break;
        }
        case Type::log_line: {
            LogLine f;
            f.level = r.i32();
            f.text = r.str();
            frame = std::move(f);
            break;
        }
        case Type::status: {
            Status f;
            const std::uint8_t state = r.u8();
            if (state > static_cast<std::uint8_t>(SensorState::quarantined)) r.fail("a sensor state of unknown kind");
            f.state = static_cast<SensorState>(state);
            f.error = r.str();
            f.invalid = r.u64();
            f.oversized = r.u64();
            f.no_memory = r.u64();
            f.poll_errors = r.u64();
            const std::uint32_t n = r.count(12);
            if (n > kMaxPluginCounters) r.fail("more counters than a sensor may have");
            f.counters.reserve(std::min<std::uint32_t>(n, kMaxPluginCounters));
            for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
                std::string name = r.str();
                f.counters.emplace_back(std::move(name), r.u64());
            }
            frame = std::move(f);
            break;
        }
        case Type::command_reply: {
            CommandReply f;
            f.id = r.u64();
            f.status = r.i32();
            f.result = r.str();
            f.message = r.str();
            frame = std::move(f);
            break;
        }
        default: r.fail("a frame of unknown type " + std::to_string(body[0] & 0xff));
    }
    if (!r.done()) {
        error = r.error();
        return std::nullopt;
    }
    return frame;
}

}  // namespace gwd::worker
