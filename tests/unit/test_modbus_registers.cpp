#define BOOST_TEST_MODULE modbus_registers
#include <boost/test/unit_test.hpp>

// The modbus plugin's pure parts: the register codec (types, byte and word
// orders, scale and offset, both ways), the read planner and the map checks.
// The byte patterns follow the common convention (Telegraf, Neuron): ABCD is
// big-endian, CDAB swaps words, BADC bytes in each word, DCBA both.

#include "register_codec.h"
#include "register_map.h"
#include "request_plan.h"

using namespace gwd::modbus;

namespace {

RegisterSpec reg(DataType type, ByteOrder order = ByteOrder::ABCD, Table table = Table::holding) {
    RegisterSpec r;
    r.name = "r";
    r.table = table;
    r.type = type;
    r.order = order;
    return r;
}

std::string text(const RegisterSpec& r, std::vector<std::uint16_t> words) { return value_text(r, decode(r, words)); }

std::vector<std::uint16_t> encoded(const RegisterSpec& r, WantedValue v) {
    std::string error;
    auto words = encode(r, v, error);
    BOOST_TEST_INFO(error);
    return words;
}

WantedNumber number(double v, std::string text = {}) { return WantedNumber{v, std::move(text)}; }

}  // namespace

BOOST_AUTO_TEST_CASE(thirty_two_bit_values_in_each_order) {
    // 0x12345678 as each order lays it out in two registers.
    const std::pair<ByteOrder, std::vector<std::uint16_t>> layouts[] = {
        {ByteOrder::ABCD, {0x1234, 0x5678}},
        {ByteOrder::CDAB, {0x5678, 0x1234}},
        {ByteOrder::BADC, {0x3412, 0x7856}},
        {ByteOrder::DCBA, {0x7856, 0x3412}},
    };
    for (const auto& [order, words] : layouts) {
        BOOST_TEST(text(reg(DataType::u32, order), words) == "305419896");
        BOOST_TEST(encoded(reg(DataType::u32, order), number(305419896, "305419896")) == words);
    }
    // -2 as i32; 230.5 as f32 (0x43668000).
    BOOST_TEST(text(reg(DataType::i32), {0xffff, 0xfffe}) == "-2");
    BOOST_TEST(text(reg(DataType::f32), {0x4366, 0x8000}) == "230.5");
    BOOST_TEST(text(reg(DataType::f32, ByteOrder::CDAB), {0x8000, 0x4366}) == "230.5");
    BOOST_TEST(text(reg(DataType::f32, ByteOrder::DCBA), {0x0080, 0x6643}) == "230.5");
    BOOST_TEST(
        (encoded(reg(DataType::f32, ByteOrder::BADC), number(230.5)) == std::vector<std::uint16_t>{0x6643, 0x0080}));
}

BOOST_AUTO_TEST_CASE(sixteen_and_sixty_four_bit_values) {
    BOOST_TEST(text(reg(DataType::u16), {0xfffe}) == "65534");
    BOOST_TEST(text(reg(DataType::i16), {0xfffe}) == "-2");
    BOOST_TEST(text(reg(DataType::i16, ByteOrder::BADC), {0xfeff}) == "-2");
    // 0x0102030405060708 in four registers, each order.
    const std::pair<ByteOrder, std::vector<std::uint16_t>> layouts[] = {
        {ByteOrder::ABCD, {0x0102, 0x0304, 0x0506, 0x0708}},
        {ByteOrder::CDAB, {0x0708, 0x0506, 0x0304, 0x0102}},
        {ByteOrder::BADC, {0x0201, 0x0403, 0x0605, 0x0807}},
        {ByteOrder::DCBA, {0x0807, 0x0605, 0x0403, 0x0201}},
    };
    for (const auto& [order, words] : layouts) {
        BOOST_TEST(text(reg(DataType::u64, order), words) == "72623859790382856");
        BOOST_TEST(encoded(reg(DataType::u64, order), number(7.2623859790382856e16, "72623859790382856")) == words);
    }
    // The largest u64 and the smallest i64 arrive exactly, both ways.
    BOOST_TEST(text(reg(DataType::u64), {0xffff, 0xffff, 0xffff, 0xffff}) == "18446744073709551615");
    BOOST_TEST(text(reg(DataType::i64), {0x8000, 0, 0, 0}) == "-9223372036854775808");
    BOOST_TEST((encoded(reg(DataType::i64), number(-9.2e18, "-9223372036854775808")) ==
                std::vector<std::uint16_t>{0x8000, 0, 0, 0}));
    // f64 0.1: 0x3FB999999999999A.
    BOOST_TEST(text(reg(DataType::f64), {0x3fb9, 0x9999, 0x9999, 0x999a}) == "0.1");
    BOOST_TEST((encoded(reg(DataType::f64, ByteOrder::DCBA), number(0.1)) ==
                std::vector<std::uint16_t>{0x9a99, 0x9999, 0x9999, 0xb93f}));
}

BOOST_AUTO_TEST_CASE(bools_bits_and_strings) {
    BOOST_TEST(text(reg(DataType::boolean, ByteOrder::ABCD, Table::coil), {1}) == "true");
    BOOST_TEST(text(reg(DataType::boolean, ByteOrder::ABCD, Table::discrete_input), {0}) == "false");
    BOOST_TEST(text(reg(DataType::boolean), {0x0100}) == "true");  // a register: anything but 0
    BOOST_TEST(encoded(reg(DataType::boolean, ByteOrder::ABCD, Table::coil), true) == std::vector<std::uint16_t>{1});
    BOOST_TEST(encoded(reg(DataType::boolean, ByteOrder::ABCD, Table::coil), number(0)) ==
               std::vector<std::uint16_t>{0});

    RegisterSpec s = reg(DataType::string);
    s.length = 3;
    BOOST_TEST(text(s, {0x4142, 0x4300, 0x5858}) == "ABC");  // up to the first NUL
    s.order = ByteOrder::BADC;
    BOOST_TEST(text(s, {0x4241, 0x0043, 0x5858}) == "ABC");
    BOOST_TEST((encoded(s, std::string("ABC")) == std::vector<std::uint16_t>{0x4241, 0x0043, 0x0000}));
    std::string error;
    BOOST_TEST(encode(s, std::string("ABCDEFG"), error).empty());
    BOOST_TEST(error.find("longer than the 6 characters") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(scale_and_offset_both_ways) {
    RegisterSpec r = reg(DataType::i16);
    r.scale = 0.1;
    r.offset = -40;
    BOOST_TEST(text(r, {655}) == "25.5");  // 655 * 0.1 - 40, as the shortest double text
    BOOST_TEST(encoded(r, number(25.5)) == std::vector<std::uint16_t>{655});
    BOOST_TEST(encoded(r, number(-40)) == std::vector<std::uint16_t>{0});
    std::string error;
    BOOST_TEST(encode(r, number(5000), error).empty());  // (5000 + 40) / 0.1 does not fit an i16
    BOOST_TEST(error == "5000 does not fit an i16");
}

BOOST_AUTO_TEST_CASE(values_a_register_cannot_hold_are_refused_with_a_reason) {
    std::string error;
    BOOST_TEST(encode(reg(DataType::u16), number(-1, "-1"), error).empty());
    BOOST_TEST(error == "-1 does not fit a u16");
    BOOST_TEST(encode(reg(DataType::u16), number(65536, "65536"), error).empty());
    BOOST_TEST(encode(reg(DataType::u16), number(2.5, "2.5"), error).empty());
    BOOST_TEST(error == "2.5 is not a whole number, as a u16 needs");
    BOOST_TEST(encode(reg(DataType::u16), true, error).empty());
    BOOST_TEST(error == "a u16 register takes a number");
    BOOST_TEST(encode(reg(DataType::boolean, ByteOrder::ABCD, Table::coil), number(2), error).empty());
    BOOST_TEST(encode(reg(DataType::u64), number(-1, "-1"), error).empty());
    BOOST_TEST(encoded(reg(DataType::u16), number(65535, "65535")) == std::vector<std::uint16_t>{0xffff});
}

BOOST_AUTO_TEST_CASE(reads_are_merged_as_far_as_the_protocol_allows) {
    std::vector<RegisterSpec> map;
    auto add = [&](Table table, std::uint16_t address, DataType type) {
        RegisterSpec r = reg(type, ByteOrder::ABCD, table);
        r.address = address;
        map.push_back(r);
    };
    // Three clusters of holding registers (0-9, 20-29 with a hole, 1000-1003)
    // and some coils; listed out of order on purpose.
    add(Table::holding, 1000, DataType::u64);
    for (std::uint16_t a = 0; a < 10; ++a) add(Table::holding, a, DataType::u16);
    add(Table::holding, 20, DataType::f32);
    add(Table::holding, 24, DataType::u32);  // 22..23 unused
    // 2,001 adjacent coils from 5: 2,000 bits in one request, the last in a second.
    for (std::uint16_t a = 5; a <= 2005; ++a) add(Table::coil, a, DataType::boolean);

    auto plan = plan_reads(map);
    BOOST_REQUIRE(plan.size() == 6u);  // coils 5..2004, coil 2005, holding 0..9, 20..21, 24..25, 1000..1003
    BOOST_TEST((plan[0].table == Table::coil && plan[0].address == 5 && plan[0].count == 2000));
    BOOST_TEST((plan[1].address == 2005 && plan[1].count == 1));
    BOOST_TEST((plan[2].table == Table::holding && plan[2].address == 0 && plan[2].count == 10));
    BOOST_TEST(plan[0].registers.size() == 2000u);
    BOOST_TEST(plan[2].registers.size() == 10u);

    PlanLimits gap2;
    gap2.max_gap = 2;
    plan = plan_reads(map, gap2);
    BOOST_REQUIRE(plan.size() == 5u);  // 20..25 in one request, over the hole
    BOOST_TEST((plan[3].address == 20 && plan[3].count == 6 && plan[3].registers.size() == 2u));

    // 300 adjacent registers: ceil(300 / 125) = 3 requests; a u32 never straddles two.
    map.clear();
    for (std::uint16_t a = 0; a < 300; a += 2) add(Table::input, a, DataType::u32);
    plan = plan_reads(map);
    BOOST_REQUIRE(plan.size() == 3u);
    BOOST_TEST((plan[0].count == 124 && plan[1].address == 124 && plan[2].address == 248 && plan[2].count == 52));
    PlanLimits small;
    small.max_registers = 10;
    BOOST_TEST(plan_reads(map, small).size() == 30u);
}

BOOST_AUTO_TEST_CASE(maps_that_cannot_be_polled_are_refused_by_option) {
    DeviceSpec d;
    d.name = "meter";
    d.registers = {reg(DataType::u16), reg(DataType::u32), reg(DataType::u32, ByteOrder::ABCD, Table::coil),
                   reg(DataType::string)};
    d.registers[0].name = "voltage";
    d.registers[1].name = "voltage";
    d.registers[1].address = 65535;
    d.registers[2].name = "relay";
    d.registers[3].name = "model";
    DeviceSpec twin = d;
    twin.registers = {reg(DataType::u16)};
    twin.registers[0].scale = 0;
    auto problems = check_devices({d, twin});
    std::vector<std::string> lines;
    for (const auto& p : problems) lines.push_back(p.str());
    BOOST_REQUIRE(lines.size() == 6u);
    BOOST_TEST(lines[0] ==
               "devices[0].registers[1].name: 'voltage' is read twice from device 'meter'; each register "
               "needs its own name");
    BOOST_TEST(lines[1] ==
               "devices[0].registers[1].address: a u32 at 65535 needs 2 registers and runs past the last "
               "address, 65535");
    BOOST_TEST(lines[2].rfind("devices[0].registers[2].type: coil addresses hold one bit", 0) == 0, lines[2]);
    BOOST_TEST(lines[3].rfind("devices[0].registers[3].length: a string needs its length", 0) == 0, lines[3]);
    BOOST_TEST(lines[4] == "devices[1].name: device 'meter' is named twice; each device needs its own name");
    BOOST_TEST(lines[5] == "devices[1].registers[0].scale: a scale must be a finite number other than 0");
    BOOST_TEST(reading_name(d, d.registers[2]) == "meter.relay");
    BOOST_TEST(!parse_byte_order("ABDC"));
    BOOST_TEST(!parse_table("holdings"));
}
