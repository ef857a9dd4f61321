// modbus: reads Modbus devices (TCP, or RTU on a serial line) through
// libmodbus every `interval` and emits one reading per register; writes
// holding registers and coils on "set" commands. One [[sensor]] block is one
// connection; its devices are the unit ids behind it.
//
// A device that stops answering costs its `timeout` once, then waits out a
// backoff (1 s doubling to 60 s, jittered) while the others keep their
// interval; an exception from a device costs one round trip and is counted.
#include <gatewayd/plugin.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "common/json.h"
#include "modbus_link.h"
#include "register_codec.h"
#include "register_map.h"
#include "request_plan.h"
#include "supervision/backoff.h"

namespace {

using namespace gwd::modbus;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const gwd_option_spec kOptions[] = {
    {"transport",
     GWD_OPTION_STRING,
     0,
     "\"tcp\" (host, port) or \"rtu\" (a serial line: device, baud, ...)",
     "\"tcp\"",
     {}},
    {"host", GWD_OPTION_STRING, 0, "tcp: the server's host name or address", "\"127.0.0.1\"", {}},
    {"port", GWD_OPTION_INT, 0, "tcp: the server's port", "502", {}},
    {"device", GWD_OPTION_STRING, 0, "rtu: the serial port, e.g. /dev/ttyUSB0", "\"\"", {}},
    {"baud", GWD_OPTION_INT, 0, "rtu: bits per second", "9600", {}},
    {"parity", GWD_OPTION_STRING, 0, "rtu: \"none\", \"even\" or \"odd\"", "\"none\"", {}},
    {"data_bits", GWD_OPTION_INT, 0, "rtu: 7 or 8", "8", {}},
    {"stop_bits", GWD_OPTION_INT, 0, "rtu: 1 or 2", "1", {}},
    {"max_gap", GWD_OPTION_INT, 0, "unused addresses one read may span to serve two registers", "0", {}},
    {"max_registers", GWD_OPTION_INT, 0, "registers one read may ask for (the protocol allows 125)", "125", {}},
    {"format", GWD_OPTION_STRING, 0, "payload: \"text\" (text/plain) or \"json\" ({\"value\": ...})", "\"text\"", {}},
    {"devices", GWD_OPTION_TABLE_LIST, 1, "the devices (unit ids) on this connection", nullptr, {}},
    {"devices[].name",
     GWD_OPTION_STRING,
     1,
     "the device's name: the `device` property, the readings' prefix",
     nullptr,
     {}},
    {"devices[].unit_id", GWD_OPTION_INT, 0, "the Modbus unit (slave) id", "1", {}},
    {"devices[].timeout", GWD_OPTION_DURATION, 0, "how long to wait for each answer", "\"1s\"", {}},
    {"devices[].registers", GWD_OPTION_TABLE_LIST, 1, "what to read from the device", nullptr, {}},
    {"devices[].registers[].name",
     GWD_OPTION_STRING,
     1,
     "the reading's name after the device's: <device>.<name>",
     nullptr,
     {}},
    {"devices[].registers[].function",
     GWD_OPTION_STRING,
     0,
     "\"holding\", \"input\", \"coil\" or \"discrete\"",
     "\"holding\"",
     {}},
    {"devices[].registers[].address", GWD_OPTION_INT, 1, "the first address, 0-based as on the wire", nullptr, {}},
    {"devices[].registers[].type",
     GWD_OPTION_STRING,
     0,
     "u16, i16, u32, i32, u64, i64, f32, f64, bool or string (default: u16; bool for coils and discrete inputs)",
     nullptr,
     {}},
    {"devices[].registers[].order", GWD_OPTION_STRING, 0, "byte order: ABCD, CDAB, BADC or DCBA", "\"ABCD\"", {}},
    {"devices[].registers[].length", GWD_OPTION_INT, 0, "string: its length in registers", "0", {}},
    {"devices[].registers[].scale", GWD_OPTION_FLOAT, 0, "the reading is raw * scale + offset", "1.0", {}},
    {"devices[].registers[].offset", GWD_OPTION_FLOAT, 0, "added after scale", "0.0", {}},
    {"devices[].registers[].unit",
     GWD_OPTION_STRING,
     0,
     "the `unit` property, e.g. \"V\"; none when empty",
     "\"\"",
     {}},
    {nullptr, 0, 0, nullptr, nullptr, {}},
};

gwd::BackoffConfig backoff_config() {
    gwd::BackoffConfig c;
    c.initial = milliseconds(1000);
    c.max = milliseconds(60000);
    return c;
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Per register: what went wrong, for status.
struct RegisterCounts {
    std::uint64_t timeouts = 0, exceptions = 0;
};

struct Device {
    DeviceSpec spec;
    milliseconds timeout{1000};
    std::vector<ReadRequest> plan;
    std::vector<std::string> readings;  // reading name of each register
    std::vector<RegisterCounts> counts;
    std::vector<int> request_exception;  // per request: the exception it last got; 0 when it answered
    std::string problem;                 // why the device does not answer; empty when it does
    gwd::Backoff backoff;
    Clock::time_point retry_at{};

    explicit Device(std::function<double()> uniform) : backoff(backoff_config(), std::move(uniform)) {}
    std::string label() const { return "device " + spec.name + " (unit " + std::to_string(spec.unit_id) + ")"; }
};

class ModbusSensor {
public:
    ModbusSensor(const gwd_host_api* host, gwd_context* ctx, LinkSettings link, bool json)
        : host_(host),
          ctx_(ctx),
          link_(std::move(link)),
          json_(json),
          random_(std::random_device{}()),
          link_backoff_(backoff_config(), [this] { return uniform(); }) {}

    double uniform() { return std::uniform_real_distribution<double>(0, 1)(random_); }

    void add_device(DeviceSpec spec, milliseconds timeout, const PlanLimits& limits) {
        Device d([this] { return uniform(); });
        d.timeout = timeout;
        d.plan = plan_reads(spec.registers, limits);
        for (const RegisterSpec& r : spec.registers) d.readings.push_back(reading_name(spec, r));
        d.counts.resize(spec.registers.size());
        d.request_exception.assign(d.plan.size(), 0);
        d.spec = std::move(spec);
        devices_.push_back(std::move(d));
    }

    int poll() {
        std::lock_guard lock(io_);
        const Clock::time_point now = Clock::now();
        if (!connected(now)) return GWD_OK;  // the problem is set; the next poll after the backoff tries again
        for (Device& device : devices_) {
            if (now < device.retry_at) continue;
            if (!poll_device(device)) break;  // the link went down
        }
        publish_problem();
        return GWD_OK;
    }

    int command(const gwd_command* c, gwd_command_reply* reply);

private:
    void log(int level, const std::string& line) { host_->log(ctx_, level, line.c_str()); }

    // Opens the link when it is down and its backoff has passed; false while it is down.
    bool connected(Clock::time_point now) {
        if (link_.open()) return true;
        if (now < link_retry_at_) return false;
        milliseconds timeout{1000};
        for (const Device& d : devices_) timeout = std::max(timeout, d.timeout);
        Result r = link_.connect(timeout);
        if (r.outcome != Outcome::ok) {
            link_down(r.error);
            publish_problem();
            return false;
        }
        link_backoff_.reset();
        if (!link_problem_.empty()) log(GWD_LOG_NOTICE, link_.settings().describe() + ": connected again");
        link_problem_.clear();
        return true;
    }

    void link_down(const std::string& why) {
        ++connection_failures_;
        host_->set_counter(ctx_, "connection failures", connection_failures_);
        const milliseconds delay = link_backoff_.next_delay();
        link_retry_at_ = Clock::now() + delay;
        const std::string problem = link_.settings().describe() + ": " + why;
        if (problem != link_problem_)
            log(GWD_LOG_WARNING,
                problem + "; trying again within " + std::to_string(delay.count()) + " ms, with backoff");
        link_problem_ = problem;
    }

    // Reads every request of one device and emits its readings; false when the link went down.
    bool poll_device(Device& device) {
        for (size_t k = 0; k < device.plan.size(); ++k) {
            const ReadRequest& req = device.plan[k];
            Result r = link_.read(device.spec.unit_id, req.table, req.address, req.count, device.timeout, words_);
            switch (r.outcome) {
                case Outcome::ok:
                    if (device.request_exception[k] != 0)
                        log(GWD_LOG_NOTICE, device.label() + ": " + describe(req) + " answers again");
                    device.request_exception[k] = 0;
                    emit_request(device, req);
                    break;
                case Outcome::exception:
                    for (size_t i : req.registers) count(device, i, false);
                    if (device.request_exception[k] != r.exception_code)
                        log(GWD_LOG_WARNING, device.label() + ": " + describe(req) + " answers " + r.error);
                    device.request_exception[k] = r.exception_code;
                    break;
                case Outcome::timeout:
                    for (size_t i : req.registers) count(device, i, true);
                    device_failed(device, r.error);
                    return true;
                case Outcome::link_down:
                    for (size_t i : req.registers) count(device, i, true);
                    link_down(r.error);
                    return false;
            }
        }
        if (!device.problem.empty()) log(GWD_LOG_NOTICE, device.label() + ": answers again");
        device.problem.clear();
        device.backoff.reset();
        return true;
    }

    void device_failed(Device& device, const std::string& why) {
        const milliseconds delay = device.backoff.next_delay();
        device.retry_at = Clock::now() + delay;
        if (device.problem != why)
            log(GWD_LOG_WARNING, device.label() + ": " + why + "; asking again within " +
                                     std::to_string(delay.count()) + " ms, with backoff; the other devices go on");
        device.problem = why;
    }

    void count(Device& device, size_t reg, bool timeout) {
        RegisterCounts& c = device.counts[reg];
        const std::string& name = device.readings[reg];
        if (timeout) {
            host_->set_counter(ctx_, (name + " timeouts").c_str(), ++c.timeouts);
        } else {
            host_->set_counter(ctx_, (name + " exceptions").c_str(), ++c.exceptions);
        }
    }

    static std::string describe(const ReadRequest& req) {
        return std::string(table_name(req.table)) + " " + std::to_string(req.address) + ".." +
               std::to_string(req.address + req.count - 1);
    }

    void emit_request(const Device& device, const ReadRequest& req) {
        const std::int64_t at = wall_ms();
        for (size_t i : req.registers) {
            const RegisterSpec& reg = device.spec.registers[i];
            const auto words = std::span<const std::uint16_t>(words_).subspan(reg.address - req.address, reg.width());
            const RawValue raw = decode(reg, words);
            std::string text = value_text(reg, raw);
            if (json_) {
                const bool quoted = std::holds_alternative<std::string>(raw);
                text = "{\"value\":" + (quoted ? gwd::json_quote(text) : text) +
                       (reg.unit.empty() ? "" : ",\"unit\":" + gwd::json_quote(reg.unit)) + "}";
            }
            gwd_property props[2] = {{"device", device.spec.name.c_str()}, {"unit", reg.unit.c_str()}};
            gwd_reading reading{};
            reading.sensor = device.readings[i].c_str();
            reading.timestamp_ms = at;
            reading.payload = text.data();
            reading.payload_len = text.size();
            reading.content_type = json_ ? "application/json" : "text/plain";
            reading.properties = props;
            reading.property_count = reg.unit.empty() ? 1 : 2;
            host_->emit(ctx_, &reading);
        }
    }

    // One sentence for status: the link, or the devices that do not answer.
    void publish_problem() {
        std::string text = link_problem_;
        if (text.empty()) {
            for (const Device& d : devices_) {
                if (!d.problem.empty()) text += (text.empty() ? "" : "; ") + d.label() + ": " + d.problem;
                for (size_t k = 0; k < d.plan.size(); ++k)
                    if (d.request_exception[k] != 0)
                        text += (text.empty() ? "" : "; ") + d.label() + ": " + describe(d.plan[k]) + " answers " +
                                "exception " + std::to_string(d.request_exception[k]) + " (" +
                                exception_name(d.request_exception[k]) + ")";
            }
        }
        if (text == published_problem_) return;
        published_problem_ = text;
        if (host_->abi_version >= 4) host_->set_problem(ctx_, text.empty() ? nullptr : text.c_str());
    }

    const gwd_host_api* host_;
    gwd_context* ctx_;
    std::mutex io_;  // poll() and command() share the link
    ModbusLink link_;
    bool json_;
    std::mt19937_64 random_;
    std::vector<Device> devices_;
    std::vector<std::uint16_t> words_;
    gwd::Backoff link_backoff_;
    Clock::time_point link_retry_at_{};
    std::string link_problem_, published_problem_;
    std::uint64_t connection_failures_ = 0;
};

void write_text(char* buffer, size_t capacity, const std::string& text) {
    if (buffer == nullptr || capacity == 0) return;
    const size_t n = std::min(capacity - 1, text.size());
    std::memcpy(buffer, text.data(), n);
    buffer[n] = '\0';
}

int ModbusSensor::command(const gwd_command* c, gwd_command_reply* reply) {
    auto answer = [&](int status, const std::string& message) {
        write_text(reply->message, reply->message_capacity, message);
        return status;
    };
    Device* device = nullptr;
    size_t index = 0;
    for (Device& d : devices_)
        for (size_t i = 0; i < d.readings.size(); ++i)
            if (d.readings[i] == c->sensor) {
                device = &d;
                index = i;
            }
    if (device == nullptr) return answer(GWD_ERR_UNSUPPORTED, std::string("no register is read as ") + c->sensor);
    if (std::strcmp(c->name, "set") != 0)
        return answer(GWD_ERR_UNSUPPORTED, std::string("a Modbus register takes \"set\", not \"") + c->name + "\"");
    const RegisterSpec& reg = device->spec.registers[index];
    if (!is_writable(reg.table))
        return answer(GWD_ERR_INVALID, device->readings[index] + " is " +
                                           (reg.table == Table::input ? "an input register" : "a discrete input") +
                                           ", which Modbus cannot write; only holding registers and coils can be");
    std::string error;
    auto params = gwd::json_parse(std::string_view(c->params, c->params_len), error);
    const gwd::JsonValue* value = params ? params->find("value") : nullptr;
    if (value == nullptr) return answer(GWD_ERR_INVALID, "\"set\" needs {\"value\": ...}");
    WantedValue wanted;
    if (value->is_bool()) {
        wanted = value->as_bool();
    } else if (value->is_number()) {
        wanted = WantedNumber{value->as_number().value, value->as_number().text};
    } else if (value->is_string()) {
        wanted = value->as_string();
    } else {
        return answer(GWD_ERR_INVALID, "the value must be a number, true or false, or a string");
    }
    const std::vector<std::uint16_t> words = encode(reg, wanted, error);
    if (words.empty()) return answer(GWD_ERR_INVALID, device->readings[index] + ": " + error);

    std::lock_guard lock(io_);
    if (!link_.open()) {
        Result r = link_.connect(device->timeout);
        if (r.outcome != Outcome::ok) return answer(GWD_ERR_FAILED, link_.settings().describe() + ": " + r.error);
    }
    Result r = link_.write(device->spec.unit_id, reg.table, reg.address, words, device->timeout);
    if (r.outcome == Outcome::exception)
        return answer(GWD_ERR_FAILED, device->label() + " refused the write: " + r.error);
    if (r.outcome != Outcome::ok) return answer(GWD_ERR_FAILED, device->label() + ": " + r.error);
    // What the register now holds, read back from what was sent.
    std::string applied = value_text(reg, decode(reg, words));
    if (std::holds_alternative<std::string>(wanted)) applied = gwd::json_quote(applied);
    write_text(reply->result, reply->result_capacity, "{\"value\":" + applied + "}");
    return GWD_OK;
}

// Options, read and checked. Every problem is logged as "<option>: <why>".
class OptionReader {
public:
    OptionReader(const gwd_host_api* host, gwd_context* ctx) : host_(host), ctx_(ctx) {}

    std::string text(const std::string& key) {
        const char* v = "";
        host_->option_string(ctx_, key.c_str(), &v);
        return v;
    }
    std::int64_t integer(const std::string& key) {
        std::int64_t v = 0;
        host_->option_int(ctx_, key.c_str(), &v);
        return v;
    }
    double number(const std::string& key) {
        double v = 0;
        host_->option_float(ctx_, key.c_str(), &v);
        return v;
    }
    milliseconds duration(const std::string& key) {
        std::int64_t v = 0;
        host_->option_duration_ms(ctx_, key.c_str(), &v);
        return milliseconds(v);
    }
    size_t count(const std::string& key) { return host_->option_list_size(ctx_, key.c_str()); }
    bool has(const std::string& key) {
        const char* s = nullptr;
        return host_->option_string(ctx_, key.c_str(), &s) == GWD_OK;
    }

    void problem(const std::string& option, const std::string& why) { problems_.push_back({option, why}); }
    std::vector<MapProblem>& problems() { return problems_; }

    // `key` as [sensor.options] shows it: "devices[0].registers[1].type".
    static std::string shown(const std::string& key) {
        std::string out;
        size_t start = 0;
        while (start <= key.size()) {
            const size_t dot = key.find('.', start);
            const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
            if (!part.empty() && part.find_first_not_of("0123456789") == std::string::npos) {
                out += "[" + part + "]";
            } else {
                out += (out.empty() ? "" : ".") + part;
            }
            if (dot == std::string::npos) break;
            start = dot + 1;
        }
        return out;
    }

private:
    const gwd_host_api* host_;
    gwd_context* ctx_;
    std::vector<MapProblem> problems_;
};

// One register's options. A value it cannot use is logged as a problem and
// left at a harmless default, so check_devices() still finds the rest.
RegisterSpec read_register(OptionReader& o, const std::string& key) {
    RegisterSpec r;
    r.name = o.text(key + ".name");
    const std::string function = o.text(key + ".function");
    if (auto t = parse_table(function)) {
        r.table = *t;
    } else {
        o.problem(OptionReader::shown(key + ".function"),
                  "unknown function '" + function + "'; use holding, input, coil or discrete");
    }
    const std::int64_t address = o.integer(key + ".address");
    if (address < 0 || address > 65535)
        o.problem(OptionReader::shown(key + ".address"), std::to_string(address) + " is not an address (0 to 65535)");
    r.address = static_cast<std::uint16_t>(std::clamp<std::int64_t>(address, 0, 65535));
    // Unset, a coil or discrete input holds a bit, a register a u16.
    const std::string fallback = is_bit_table(r.table) ? "bool" : "u16";
    const std::string type = o.has(key + ".type") ? o.text(key + ".type") : fallback;
    if (auto t = parse_data_type(type)) {
        r.type = *t;
    } else {
        r.type = *parse_data_type(fallback);
        o.problem(OptionReader::shown(key + ".type"),
                  "unknown type '" + type + "'; use u16, i16, u32, i32, u64, i64, f32, f64, bool or string");
    }
    const std::string order = o.text(key + ".order");
    if (auto b = parse_byte_order(order)) {
        r.order = *b;
    } else {
        o.problem(OptionReader::shown(key + ".order"),
                  "unknown byte order '" + order + "'; use ABCD, CDAB, BADC or DCBA");
    }
    const std::int64_t length = o.integer(key + ".length");
    if (length < 0 || length > 125)
        o.problem(OptionReader::shown(key + ".length"),
                  std::to_string(length) + " registers is not a length (1 to 125)");
    r.length = static_cast<std::uint16_t>(std::clamp<std::int64_t>(length, 0, 125));
    r.scale = o.number(key + ".scale");
    r.offset = o.number(key + ".offset");
    r.unit = o.text(key + ".unit");
    return r;
}

int create(const gwd_host_api* host, gwd_context* ctx, void** instance) {
    try {
        OptionReader o(host, ctx);
        LinkSettings link;
        const std::string transport = o.text("transport");
        if (transport != "tcp" && transport != "rtu")
            o.problem("transport", "'" + transport + "' is not \"tcp\" or \"rtu\"");
        link.rtu = transport == "rtu";
        link.host = o.text("host");
        link.port = static_cast<int>(o.integer("port"));
        link.device = o.text("device");
        link.baud = static_cast<int>(o.integer("baud"));
        link.data_bits = static_cast<int>(o.integer("data_bits"));
        link.stop_bits = static_cast<int>(o.integer("stop_bits"));
        const std::string parity = o.text("parity");
        link.parity = parity == "even" ? 'E' : parity == "odd" ? 'O' : 'N';
        if (parity != "none" && parity != "even" && parity != "odd")
            o.problem("parity", "'" + parity + "' is not \"none\", \"even\" or \"odd\"");
        if (!link.rtu && link.host.empty()) o.problem("host", "tcp needs the server's host");
        if (!link.rtu && (link.port < 1 || link.port > 65535))
            o.problem("port", std::to_string(link.port) + " is not a port");
        if (link.rtu && link.device.empty()) o.problem("device", "rtu needs the serial port, e.g. \"/dev/ttyUSB0\"");
        if (link.rtu && link.baud <= 0) o.problem("baud", std::to_string(link.baud) + " is not a speed");
        if (link.rtu && link.data_bits != 7 && link.data_bits != 8) o.problem("data_bits", "must be 7 or 8");
        if (link.rtu && link.stop_bits != 1 && link.stop_bits != 2) o.problem("stop_bits", "must be 1 or 2");
        PlanLimits limits;
        const std::int64_t max_gap = o.integer("max_gap"), max_registers = o.integer("max_registers");
        if (max_gap < 0 || max_gap > 124) o.problem("max_gap", std::to_string(max_gap) + " is not 0 to 124");
        if (max_registers < 1 || max_registers > 125)
            o.problem("max_registers", std::to_string(max_registers) + " is not 1 to 125, what one read may ask for");
        limits.max_gap = static_cast<std::uint32_t>(std::clamp<std::int64_t>(max_gap, 0, 124));
        limits.max_registers = static_cast<std::uint32_t>(std::clamp<std::int64_t>(max_registers, 1, 125));
        const std::string format = o.text("format");
        if (format != "text" && format != "json") o.problem("format", "'" + format + "' is not \"text\" or \"json\"");

        std::vector<DeviceSpec> devices;
        std::vector<milliseconds> timeouts;
        for (size_t d = 0; d < o.count("devices"); ++d) {
            const std::string key = "devices." + std::to_string(d);
            DeviceSpec device;
            device.name = o.text(key + ".name");
            device.unit_id = static_cast<int>(std::clamp<std::int64_t>(o.integer(key + ".unit_id"), -1, 256));
            if (link.rtu && device.unit_id == 0)
                o.problem(OptionReader::shown(key + ".unit_id"),
                          "unit 0 is the broadcast address; no device answers it");
            const milliseconds timeout = o.duration(key + ".timeout");
            if (timeout.count() <= 0) o.problem(OptionReader::shown(key + ".timeout"), "must be longer than 0");
            for (size_t r = 0; r < o.count(key + ".registers"); ++r)
                device.registers.push_back(read_register(o, key + ".registers." + std::to_string(r)));
            devices.push_back(std::move(device));
            timeouts.push_back(timeout);
        }
        for (auto& p : check_devices(devices)) o.problem(p.option, p.message);
        if (!o.problems().empty()) {
            for (const auto& p : o.problems()) host->log(ctx, GWD_LOG_ERROR, p.str().c_str());
            return GWD_ERR_INVALID;
        }
        auto sensor = std::make_unique<ModbusSensor>(host, ctx, link, format == "json");
        for (size_t d = 0; d < devices.size(); ++d) sensor->add_device(std::move(devices[d]), timeouts[d], limits);
        *instance = sensor.release();
        return GWD_OK;
    } catch (const std::bad_alloc&) {
        return GWD_ERR_NO_MEMORY;
    } catch (const std::exception& e) {
        gwd_logf(host, ctx, GWD_LOG_ERROR, "cannot set up: %s", e.what());
        return GWD_ERR_FAILED;
    }
}

int poll(void* instance) {
    try {
        return static_cast<ModbusSensor*>(instance)->poll();
    } catch (...) {
        return GWD_ERR_FAILED;
    }
}

int command(void* instance, const gwd_command* c, gwd_command_reply* reply) {
    try {
        return static_cast<ModbusSensor*>(instance)->command(c, reply);
    } catch (...) {
        return GWD_ERR_FAILED;
    }
}

void destroy(void* instance) { delete static_cast<ModbusSensor*>(instance); }

const gwd_plugin kDescriptor = [] {
    gwd_plugin d{};
    d.abi_version = GWD_PLUGIN_ABI_VERSION;
    d.flags = GWD_PLUGIN_POLLED;
    d.name = "modbus";
    d.version = "1.0.0";
    d.description =
        "Modbus TCP and RTU devices through libmodbus: registers and coils read every interval, written "
        "by \"set\"";
    d.options = kOptions;
    d.create = create;
    d.poll = poll;
    d.destroy = destroy;
    d.command = command;
    return d;
}();

}  // namespace

extern "C" GWD_PLUGIN_EXPORT const gwd_plugin* gwd_plugin_entry(void) { return &kDescriptor; }
