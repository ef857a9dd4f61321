// One Modbus connection (a TCP socket or a serial line) over libmodbus, and
// what each request came to: a value, a timeout, an exception from the
// device, or a link that is gone. Not thread-safe: one user at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "register_map.h"

typedef struct _modbus modbus_t;

namespace gwd::modbus {

struct LinkSettings {
    bool rtu = false;
    std::string host;  // tcp
    int port = 502;
    std::string device;  // rtu: the serial port
    int baud = 9600;
    char parity = 'N';  // 'N', 'E' or 'O'
    int data_bits = 8;
    int stop_bits = 1;

    // "tcp://192.0.2.7:502" or "rtu:/dev/ttyUSB0 9600 8N1", for messages.
    std::string describe() const;
};

enum class Outcome {
    ok,
    timeout,    // no (valid) answer in time: the device may be off or slow
    exception,  // the device answered with a Modbus exception
    link_down,  // the connection is gone or could not be opened
};

struct Result {
    Outcome outcome = Outcome::ok;
    int exception_code = 0;  // Outcome::exception
    std::string error;       // one phrase: "no answer within 500 ms", "exception 2 (illegal data address)"
};

// "illegal data address" for code 2, and so on (Modbus application protocol 7).
std::string exception_name(int code);

class ModbusLink {
public:
    explicit ModbusLink(LinkSettings settings);
    ~ModbusLink();
    ModbusLink(const ModbusLink&) = delete;
    ModbusLink& operator=(const ModbusLink&) = delete;

    const LinkSettings& settings() const { return settings_; }
    bool open() const { return ctx_ != nullptr; }
    // Opens the connection; Outcome::link_down with the reason when it cannot.
    Result connect(std::chrono::milliseconds timeout);
    void close();

    // Reads `count` registers or bits of `table` into `out` (one word per
    // bit for bit tables).
    Result read(int unit, Table table, std::uint16_t address, std::uint16_t count, std::chrono::milliseconds timeout,
                std::vector<std::uint16_t>& out);
    // Writes registers (fc 6 for one, 16 for more) or one coil (fc 5).
    Result write(int unit, Table table, std::uint16_t address, const std::vector<std::uint16_t>& values,
                 std::chrono::milliseconds timeout);

private:
    void prepare(int unit, std::chrono::milliseconds timeout);
    // Turns the errno of a failed call into a Result; closes the link when it is gone.
    Result failure(int error, std::chrono::milliseconds timeout);

    LinkSettings settings_;
    modbus_t* ctx_ = nullptr;
};

}  // namespace gwd::modbus
