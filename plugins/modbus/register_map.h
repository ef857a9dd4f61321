// What one Modbus sensor block reads: its devices (unit ids) and each
// device's register map, checked as a whole. Pure data and rules; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gwd::modbus {

// The four Modbus data tables.
enum class Table { coil, discrete_input, holding, input };
enum class DataType { u16, i16, u32, i32, u64, i64, f32, f64, boolean, string };
// Byte order of the value as it lies in the registers, big-endian first: A is
// the most significant byte. CDAB swaps words, BADC bytes, DCBA both.
enum class ByteOrder { ABCD, CDAB, BADC, DCBA };

std::optional<Table> parse_table(std::string_view text);         // "holding", "input", "coil", "discrete"
std::optional<DataType> parse_data_type(std::string_view text);  // "u16" ... "bool", "string"
std::optional<ByteOrder> parse_byte_order(std::string_view text);
std::string_view table_name(Table table);
std::string_view data_type_name(DataType type);
// "a u16", "an i32", "an f64": the type with its article, for messages.
std::string a_type(DataType type);

// Bit tables (coils, discrete inputs) hold one bit per address.
bool is_bit_table(Table table);
// Coils and holding registers can be written.
bool is_writable(Table table);

struct RegisterSpec {
    std::string name;  // unique within its device
    Table table = Table::holding;
    std::uint16_t address = 0;
    DataType type = DataType::u16;
    ByteOrder order = ByteOrder::ABCD;
    std::uint16_t length = 0;  // string: registers (two characters each)
    double scale = 1;
    double offset = 0;
    std::string unit;

    // Addresses (registers or bits) the value spans.
    std::uint32_t width() const;
    // The value is read and written as stored: no scale or offset to apply.
    bool raw() const { return scale == 1 && offset == 0; }
};

struct DeviceSpec {
    std::string name;  // the `device` user property and the readings' prefix
    int unit_id = 1;
    std::vector<RegisterSpec> registers;
};

// A problem with one option, named as [sensor.options] writes it
// ("devices[0].registers[2].type") so gatewayd shows it at its line.
struct MapProblem {
    std::string option;
    std::string message;
    std::string str() const { return option + ": " + message; }
};

// Everything wrong with the devices as configured: names given twice,
// a value that runs past address 65535, a type its table cannot hold, a
// scale of zero. Empty when the map can be polled.
std::vector<MapProblem> check_devices(const std::vector<DeviceSpec>& devices);

// "meter.voltage": the reading a register's values go out as.
std::string reading_name(const DeviceSpec& device, const RegisterSpec& reg);

}  // namespace gwd::modbus
