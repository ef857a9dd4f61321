#include "modbus_link.h"

#include <modbus/modbus.h>

#include <cerrno>
#include <cstring>

namespace gwd::modbus {

namespace {

std::string duration_text(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
    return std::to_string(d.count()) + " ms";
}

}  // namespace

std::string LinkSettings::describe() const {
    if (!rtu) return "tcp://" + host + ":" + std::to_string(port);
    return "rtu:" + device + " " + std::to_string(baud) + " " + std::to_string(data_bits) + parity +
           std::to_string(stop_bits);
}

std::string exception_name(int code) {
    switch (code) {
        case 1: return "illegal function";
        case 2: return "illegal data address";
        case 3: return "illegal data value";
        case 4: return "server device failure";
        case 5: return "acknowledge";
        case 6: return "server device busy";
        case 7: return "negative acknowledge";
        case 8: return "memory parity error";
        case 10: return "gateway path unavailable";
        case 11: return "gateway target device failed to respond";
        default: return "unknown exception";
    }
}

ModbusLink::ModbusLink(LinkSettings settings) : settings_(std::move(settings)) {}

ModbusLink::~ModbusLink() { close(); }

void ModbusLink::close() {
    if (ctx_ == nullptr) return;
    modbus_close(ctx_);
    modbus_free(ctx_);
    ctx_ = nullptr;
}

Result ModbusLink::connect(std::chrono::milliseconds timeout) {
    close();
    ctx_ = settings_.rtu ? modbus_new_rtu(settings_.device.c_str(), settings_.baud, settings_.parity,
                                          settings_.data_bits, settings_.stop_bits)
                         : modbus_new_tcp_pi(settings_.host.c_str(), std::to_string(settings_.port).c_str());
    if (ctx_ == nullptr)
        return {Outcome::link_down, 0, std::string("cannot set up the connection: ") + strerror(errno)};
    // libmodbus bounds a TCP connect by the response timeout.
    prepare(settings_.rtu ? 1 : MODBUS_TCP_SLAVE, timeout);
    if (modbus_connect(ctx_) != 0) {
        const int e = errno;
        close();
        return {Outcome::link_down, 0, std::string("cannot connect: ") + modbus_strerror(e)};
    }
    return {};
}

void ModbusLink::prepare(int unit, std::chrono::milliseconds timeout) {
    modbus_set_slave(ctx_, unit);
    const auto ms = timeout.count();
    modbus_set_response_timeout(ctx_, static_cast<std::uint32_t>(ms / 1000),
                                static_cast<std::uint32_t>(ms % 1000) * 1000);
}

Result ModbusLink::failure(int error, std::chrono::milliseconds timeout) {
    if (error > MODBUS_ENOBASE && error <= MODBUS_ENOBASE + MODBUS_EXCEPTION_GATEWAY_TARGET) {
        const int code = error - MODBUS_ENOBASE;
        return {Outcome::exception, code, "exception " + std::to_string(code) + " (" + exception_name(code) + ")"};
    }
    if (error == ETIMEDOUT) {
        // A late answer would be taken for the next request's: drop what arrives.
        modbus_flush(ctx_);
        return {Outcome::timeout, 0, "no answer within " + duration_text(timeout)};
    }
    if (error >= EMBBADCRC && error <= EMBBADSLAVE) {
        modbus_flush(ctx_);
        return {Outcome::timeout, 0, std::string("a garbled answer (") + modbus_strerror(error) + ")"};
    }
    const std::string why = modbus_strerror(error);
    close();
    return {Outcome::link_down, 0, "the connection failed: " + why};
}

Result ModbusLink::read(int unit, Table table, std::uint16_t address, std::uint16_t count,
                        std::chrono::milliseconds timeout, std::vector<std::uint16_t>& out) {
    if (ctx_ == nullptr) return {Outcome::link_down, 0, "not connected"};
    prepare(unit, timeout);
    out.resize(count);
    int rc = -1;
    if (is_bit_table(table)) {
        std::vector<std::uint8_t> bits(count);
        rc = table == Table::coil ? modbus_read_bits(ctx_, address, count, bits.data())
                                  : modbus_read_input_bits(ctx_, address, count, bits.data());
        for (size_t i = 0; rc == count && i < count; ++i) out[i] = bits[i];
    } else {
        rc = table == Table::holding ? modbus_read_registers(ctx_, address, count, out.data())
                                     : modbus_read_input_registers(ctx_, address, count, out.data());
    }
    if (rc == count) return {};
    if (rc >= 0) return {Outcome::timeout, 0, "a short answer: " + std::to_string(rc) + " of " + std::to_string(count)};
    return failure(errno, timeout);
}

Result ModbusLink::write(int unit, Table table, std::uint16_t address, const std::vector<std::uint16_t>& values,
                         std::chrono::milliseconds timeout) {
    if (ctx_ == nullptr) return {Outcome::link_down, 0, "not connected"};
    prepare(unit, timeout);
    int rc = -1;
    if (table == Table::coil) {
        rc = modbus_write_bit(ctx_, address, values.at(0) != 0 ? 1 : 0);
    } else if (values.size() == 1) {
        rc = modbus_write_register(ctx_, address, values[0]);
    } else {
        rc = modbus_write_registers(ctx_, address, static_cast<int>(values.size()), values.data());
    }
    if (rc >= 0) return {};
    return failure(errno, timeout);
}

}  // namespace gwd::modbus
