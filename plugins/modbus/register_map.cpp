#include "register_map.h"

#include <cmath>
#include <set>

namespace gwd::modbus {

namespace {

template <typename Enum, size_t N>
std::optional<Enum> lookup(const std::pair<std::string_view, Enum> (&names)[N], std::string_view text) {
    for (const auto& [name, value] : names)
        if (name == text) return value;
    return std::nullopt;
}

template <typename Enum, size_t N>
std::string_view name_of(const std::pair<std::string_view, Enum> (&names)[N], Enum value) {
    for (const auto& [name, v] : names)
        if (v == value) return name;
    return "?";
}

constexpr std::pair<std::string_view, Table> kTables[] = {
    {"holding", Table::holding}, {"input", Table::input}, {"coil", Table::coil}, {"discrete", Table::discrete_input}};
constexpr std::pair<std::string_view, DataType> kTypes[] = {
    {"u16", DataType::u16},      {"i16", DataType::i16},      {"u32", DataType::u32}, {"i32", DataType::i32},
    {"u64", DataType::u64},      {"i64", DataType::i64},      {"f32", DataType::f32}, {"f64", DataType::f64},
    {"bool", DataType::boolean}, {"string", DataType::string}};
constexpr std::pair<std::string_view, ByteOrder> kOrders[] = {
    {"ABCD", ByteOrder::ABCD}, {"CDAB", ByteOrder::CDAB}, {"BADC", ByteOrder::BADC}, {"DCBA", ByteOrder::DCBA}};

// Reading names go into topics: no MQTT wildcards, no separators of their own.
bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (c == '+' || c == '#' || c == '/' || c == '.' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return false;
    return true;
}

}  // namespace

std::optional<Table> parse_table(std::string_view text) { return lookup(kTables, text); }
std::optional<DataType> parse_data_type(std::string_view text) { return lookup(kTypes, text); }
std::optional<ByteOrder> parse_byte_order(std::string_view text) { return lookup(kOrders, text); }
std::string_view table_name(Table table) { return name_of(kTables, table); }
std::string_view data_type_name(DataType type) { return name_of(kTypes, type); }

std::string a_type(DataType type) {
    const std::string_view name = data_type_name(type);
    return (name[0] == 'i' || name[0] == 'f' ? "an " : "a ") + std::string(name);
}

bool is_bit_table(Table table) { return table == Table::coil || table == Table::discrete_input; }
bool is_writable(Table table) { return table == Table::coil || table == Table::holding; }

std::uint32_t RegisterSpec::width() const {
    if (is_bit_table(table)) return 1;
    switch (type) {
        case DataType::u16:
        case DataType::i16:
        case DataType::boolean: return 1;
        case DataType::u32:
        case DataType::i32:
        case DataType::f32: return 2;
        case DataType::u64:
        case DataType::i64:
        case DataType::f64: return 4;
        case DataType::string: return length;
    }
    return 1;
}

std::string reading_name(const DeviceSpec& device, const RegisterSpec& reg) { return device.name + "." + reg.name; }

std::vector<MapProblem> check_devices(const std::vector<DeviceSpec>& devices) {
    std::vector<MapProblem> out;
    std::set<std::string> device_names;
    for (size_t d = 0; d < devices.size(); ++d) {
        const DeviceSpec& device = devices[d];
        const std::string at = "devices[" + std::to_string(d) + "]";
        if (!valid_name(device.name))
            out.push_back({at + ".name", "'" + device.name +
                                             "' cannot name a device: use 1 to 64 characters, none of + # / . or "
                                             "control characters"});
        else if (!device_names.insert(device.name).second)
            out.push_back(
                {at + ".name", "device '" + device.name + "' is named twice; each device needs its own name"});
        if (device.unit_id < 0 || device.unit_id > 255)
            out.push_back({at + ".unit_id", std::to_string(device.unit_id) + " is not a unit id (0 to 255)"});
        if (device.registers.empty())
            out.push_back({at + ".registers", "device '" + device.name + "' reads no registers"});
        std::set<std::string> names;
        for (size_t r = 0; r < device.registers.size(); ++r) {
            const RegisterSpec& reg = device.registers[r];
            const std::string rat = at + ".registers[" + std::to_string(r) + "]";
            if (!valid_name(reg.name))
                out.push_back({rat + ".name", "'" + reg.name +
                                                  "' cannot name a reading: use 1 to 64 characters, none of + # / . "
                                                  "or control characters"});
            else if (!names.insert(reg.name).second)
                out.push_back({rat + ".name", "'" + reg.name + "' is read twice from device '" + device.name +
                                                  "'; each register needs its own name"});
            const bool bits = is_bit_table(reg.table);
            if (bits && reg.type != DataType::boolean)
                out.push_back({rat + ".type", std::string(table_name(reg.table)) + " addresses hold one bit: type " +
                                                  std::string(data_type_name(reg.type)) +
                                                  " needs registers "
                                                  "(holding or input); use type = \"bool\""});
            if (reg.type == DataType::string && reg.length == 0)
                out.push_back({rat + ".length", "a string needs its length in registers (two characters each)"});
            if (reg.type != DataType::string && reg.length != 0)
                out.push_back(
                    {rat + ".length", "only a string takes a length; " + a_type(reg.type) + " has its own size"});
            if (static_cast<std::uint32_t>(reg.address) + reg.width() > 65536)
                out.push_back({rat + ".address", a_type(reg.type) + " at " + std::to_string(reg.address) + " needs " +
                                                     std::to_string(reg.width()) +
                                                     " registers and runs past the last address, 65535"});
            if (reg.type == DataType::string && reg.length > 125)
                out.push_back({rat + ".length", "a string of " + std::to_string(reg.length) +
                                                    " registers does not fit one request (at most 125)"});
            if (reg.scale == 0 || !std::isfinite(reg.scale))
                out.push_back({rat + ".scale", "a scale must be a finite number other than 0"});
            if (!std::isfinite(reg.offset)) out.push_back({rat + ".offset", "an offset must be a finite number"});
            if ((reg.type == DataType::boolean || reg.type == DataType::string) && !reg.raw())
                out.push_back({rat + ".scale", a_type(reg.type) + " takes no scale or offset"});
        }
    }
    return out;
}

}  // namespace gwd::modbus
