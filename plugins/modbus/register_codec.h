// Values to and from the 16-bit registers (or bits) a RegisterSpec spans:
// byte and word order, type, scale and offset, both ways. Pure; no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "register_map.h"

namespace gwd::modbus {

// A value as the device holds it, before scale and offset.
using RawValue = std::variant<std::uint64_t, std::int64_t, double, bool, std::string>;

// The value in `words` (exactly reg.width() registers, as read; for bit
// tables one 0/1 per address).
RawValue decode(const RegisterSpec& reg, std::span<const std::uint16_t> words);

// The reading's text: the raw number exactly ("4294967295", "-2", the
// shortest text that reads back as the same f32 or f64), or raw * scale +
// offset as the shortest text of that double; "true"/"false"; a string up to
// its first NUL.
std::string value_text(const RegisterSpec& reg, const RawValue& raw);

// A number a command asks for: its value, and its text as JSON wrote it, so
// 64-bit integers beyond a double's 53 bits arrive exactly.
struct WantedNumber {
    double value = 0;
    std::string text;
};
// The value a command asks for, as JSON gives it.
using WantedValue = std::variant<WantedNumber, bool, std::string>;

// The registers (or bits) that hold `wanted` once scale and offset are
// undone, in the register's type and order. Empty, with `error` set, when it
// cannot be held ("-1 does not fit a u16", "3.5 is not a whole number").
std::vector<std::uint16_t> encode(const RegisterSpec& reg, const WantedValue& wanted, std::string& error);

}  // namespace gwd::modbus
