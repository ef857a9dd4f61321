#include "request_plan.h"

#include <algorithm>
#include <numeric>

namespace gwd::modbus {

std::vector<ReadRequest> plan_reads(const std::vector<RegisterSpec>& registers, const PlanLimits& limits) {
    std::vector<size_t> order(registers.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const RegisterSpec &x = registers[a], &y = registers[b];
        if (x.table != y.table) return x.table < y.table;
        return x.address < y.address;
    });
    std::vector<ReadRequest> out;
    std::uint32_t end = 0;  // one past the last address the open request covers
    for (size_t i : order) {
        const RegisterSpec& reg = registers[i];
        const std::uint32_t first = reg.address, last = reg.address + reg.width();
        const std::uint32_t cap = is_bit_table(reg.table) ? limits.max_bits : limits.max_registers;
        bool joins = false;
        if (!out.empty() && out.back().table == reg.table) {
            const ReadRequest& open = out.back();
            const std::uint32_t gap = first > end ? first - end : 0;
            const std::uint32_t span = std::max(end, last) - open.address;
            joins = gap <= limits.max_gap && span <= cap;
        }
        if (joins) {
            end = std::max(end, last);
            out.back().count = static_cast<std::uint16_t>(end - out.back().address);
            out.back().registers.push_back(i);
        } else {
            out.push_back({reg.table, reg.address, static_cast<std::uint16_t>(last - first), {i}});
            end = last;
        }
    }
    return out;
}

}  // namespace gwd::modbus
