#include "register_codec.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>

namespace gwd::modbus {

namespace {

// The value's bytes most significant first, from registers in `order`.
// Registers are big-endian on the wire (AB); CDAB reverses the word order,
// BADC swaps the bytes within each word, DCBA does both.
std::uint64_t assemble(ByteOrder order, std::span<const std::uint16_t> words) {
    const size_t n = words.size();
    std::uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
        std::uint16_t w = (order == ByteOrder::CDAB || order == ByteOrder::DCBA) ? words[n - 1 - i] : words[i];
        if (order == ByteOrder::BADC || order == ByteOrder::DCBA) w = static_cast<std::uint16_t>((w >> 8) | (w << 8));
        v = (v << 16) | w;
    }
    return v;
}

// The inverse of assemble(): `n` registers holding `v` in `order`.
std::vector<std::uint16_t> scatter(ByteOrder order, std::uint64_t v, size_t n) {
    std::vector<std::uint16_t> words(n);
    for (size_t i = 0; i < n; ++i) {
        auto w = static_cast<std::uint16_t>(v >> (16 * (n - 1 - i)));
        if (order == ByteOrder::BADC || order == ByteOrder::DCBA) w = static_cast<std::uint16_t>((w >> 8) | (w << 8));
        const size_t at = (order == ByteOrder::CDAB || order == ByteOrder::DCBA) ? n - 1 - i : i;
        words[at] = w;
    }
    return words;
}

template <typename T>
std::string shortest(T v) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

std::int64_t sign_extend(std::uint64_t v, unsigned bits) {
    if (bits == 64) return static_cast<std::int64_t>(v);
    const std::uint64_t sign = std::uint64_t(1) << (bits - 1);
    return static_cast<std::int64_t>((v ^ sign) - sign);
}

bool is_signed(DataType t) { return t == DataType::i16 || t == DataType::i32 || t == DataType::i64; }

}  // namespace

RawValue decode(const RegisterSpec& reg, std::span<const std::uint16_t> words) {
    if (is_bit_table(reg.table)) return words[0] != 0;
    switch (reg.type) {
        case DataType::boolean: return words[0] != 0;
        case DataType::string: {
            std::string s;
            for (std::uint16_t w : words) {
                if (reg.order == ByteOrder::BADC || reg.order == ByteOrder::DCBA)
                    w = static_cast<std::uint16_t>((w >> 8) | (w << 8));
                s += static_cast<char>(w >> 8);
                s += static_cast<char>(w & 0xff);
            }
            if (auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
            return s;
        }
        case DataType::f32:
            return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(assemble(reg.order, words))));
        case DataType::f64: return std::bit_cast<double>(assemble(reg.order, words));
        default: break;
    }
    const std::uint64_t v = assemble(reg.order, words);
    if (is_signed(reg.type)) return sign_extend(v, static_cast<unsigned>(16 * words.size()));
    return v;
}

std::string value_text(const RegisterSpec& reg, const RawValue& raw) {
    if (const bool* b = std::get_if<bool>(&raw)) return *b ? "true" : "false";
    if (const std::string* s = std::get_if<std::string>(&raw)) return *s;
    double number = 0;
    if (const std::uint64_t* u = std::get_if<std::uint64_t>(&raw)) {
        if (reg.raw()) return std::to_string(*u);
        number = static_cast<double>(*u);
    } else if (const std::int64_t* i = std::get_if<std::int64_t>(&raw)) {
        if (reg.raw()) return std::to_string(*i);
        number = static_cast<double>(*i);
    } else {
        number = std::get<double>(raw);
        // An f32 exactly as the device holds it: the float's shortest text.
        if (reg.raw() && reg.type == DataType::f32) return shortest(static_cast<float>(number));
    }
    if (!reg.raw()) number = number * reg.scale + reg.offset;
    return shortest(number);
}

std::vector<std::uint16_t> encode(const RegisterSpec& reg, const WantedValue& wanted, std::string& error) {
    if (is_bit_table(reg.table) || reg.type == DataType::boolean) {
        if (const bool* b = std::get_if<bool>(&wanted)) return {static_cast<std::uint16_t>(*b ? 1 : 0)};
        if (const WantedNumber* n = std::get_if<WantedNumber>(&wanted); n && (n->value == 0 || n->value == 1))
            return {static_cast<std::uint16_t>(n->value == 1 ? 1 : 0)};
        error = "a " + std::string(is_bit_table(reg.table) ? "coil" : "bool") + " takes true, false, 1 or 0";
        return {};
    }
    if (reg.type == DataType::string) {
        const std::string* s = std::get_if<std::string>(&wanted);
        if (s == nullptr) {
            error = "a string register takes a string";
            return {};
        }
        if (s->size() > 2u * reg.length) {
            error = "\"" + *s + "\" is longer than the " + std::to_string(2 * reg.length) + " characters it holds";
            return {};
        }
        std::string padded = *s;
        padded.resize(2u * reg.length, '\0');
        std::vector<std::uint16_t> words;
        for (size_t i = 0; i < padded.size(); i += 2) {
            auto w = static_cast<std::uint16_t>((static_cast<unsigned char>(padded[i]) << 8) |
                                                static_cast<unsigned char>(padded[i + 1]));
            if (reg.order == ByteOrder::BADC || reg.order == ByteOrder::DCBA)
                w = static_cast<std::uint16_t>((w >> 8) | (w << 8));
            words.push_back(w);
        }
        return words;
    }
    const WantedNumber* number = std::get_if<WantedNumber>(&wanted);
    if (number == nullptr) {
        error = a_type(reg.type) + " register takes a number";
        return {};
    }
    const double* given = &number->value;
    const size_t n = reg.width();
    // A whole number for an unscaled integer register, taken from its text
    // so that no digit is lost to a double.
    if (reg.raw() && !number->text.empty() && reg.type != DataType::f32 && reg.type != DataType::f64) {
        const char* first = number->text.data();
        const char* last = first + number->text.size();
        const unsigned bits = static_cast<unsigned>(16 * n);
        if (is_signed(reg.type)) {
            std::int64_t v = 0;
            auto [end, ec] = std::from_chars(first, last, v);
            const std::int64_t hi =
                bits == 64 ? std::numeric_limits<std::int64_t>::max() : (std::int64_t(1) << (bits - 1)) - 1;
            if (ec == std::errc() && end == last && v <= hi && v >= -hi - 1)
                return scatter(reg.order, static_cast<std::uint64_t>(v), n);
        } else {
            std::uint64_t v = 0;
            auto [end, ec] = std::from_chars(first, last, v);
            const std::uint64_t hi =
                bits == 64 ? std::numeric_limits<std::uint64_t>::max() : (std::uint64_t(1) << bits) - 1;
            if (ec == std::errc() && end == last && v <= hi) return scatter(reg.order, v, n);
        }
        // Not a plain whole number in range: the checks below say why.
    }
    // Undo scale and offset: the device holds (value - offset) / scale.
    const double value = reg.raw() ? *given : (*given - reg.offset) / reg.scale;
    if (reg.type == DataType::f32)
        return scatter(reg.order, std::bit_cast<std::uint32_t>(static_cast<float>(value)), n);
    if (reg.type == DataType::f64) return scatter(reg.order, std::bit_cast<std::uint64_t>(value), n);
    // Integers: a scaled value rounds to the nearest step; an unscaled one must be whole.
    const double whole = reg.raw() ? value : std::nearbyint(value);
    if (!std::isfinite(value) || whole != std::trunc(whole) || (reg.raw() && value != std::trunc(value))) {
        error = shortest(*given) + " is not a whole number, as " + a_type(reg.type) + " needs";
        return {};
    }
    const unsigned bits = static_cast<unsigned>(16 * n);
    if (is_signed(reg.type)) {
        const double lo = -std::ldexp(1.0, static_cast<int>(bits) - 1),
                     hi = std::ldexp(1.0, static_cast<int>(bits) - 1);
        if (whole < lo || whole >= hi) {
            error = shortest(*given) + " does not fit " + a_type(reg.type);
            return {};
        }
        return scatter(reg.order, static_cast<std::uint64_t>(static_cast<std::int64_t>(whole)), n);
    }
    if (whole < 0 || whole >= std::ldexp(1.0, static_cast<int>(bits))) {
        error = shortest(*given) + " does not fit " + a_type(reg.type);
        return {};
    }
    return scatter(reg.order, static_cast<std::uint64_t>(whole), n);
}

}  // namespace gwd::modbus
