// Which read requests cover a device's registers: adjacent registers of one
// table share a request, up to what the protocol allows in one (125
// registers, 2,000 bits), and registers at most `max_gap` addresses apart
// are read together, the gap with them, when one request beats two. Pure.
#pragma once

#include <cstdint>
#include <vector>

#include "register_map.h"

namespace gwd::modbus {

// The protocol's limits for one read request (Modbus application protocol
// v1.1b3, 6.1-6.4).
constexpr std::uint32_t kMaxReadRegisters = 125;
constexpr std::uint32_t kMaxReadBits = 2000;

struct ReadRequest {
    Table table = Table::holding;
    std::uint16_t address = 0;
    std::uint16_t count = 0;        // registers or bits
    std::vector<size_t> registers;  // indexes into the device's registers it serves
};

struct PlanLimits {
    std::uint32_t max_gap = 0;  // unused addresses a request may span to serve two registers
    std::uint32_t max_registers = kMaxReadRegisters;
    std::uint32_t max_bits = kMaxReadBits;
};

// Requests in table order, then address order. Every register is served by
// exactly one request that spans all of it.
std::vector<ReadRequest> plan_reads(const std::vector<RegisterSpec>& registers, const PlanLimits& limits = {});

}  // namespace gwd::modbus
