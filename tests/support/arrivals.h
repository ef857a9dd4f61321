// What an application received of readings 0..n-1 (payload = sequence
// number), counted as it arrives: polling a copy of every message would cost
// a test more CPU than gatewayd spends forwarding them.
#pragma once

#include <string>
#include <vector>

#include "mqtt_client.h"

namespace gwd::test {

class Arrivals {
public:
    Arrivals(const TestSubscriber& subscriber, int n) : subscriber_(subscriber), seen_(static_cast<size_t>(n), 0) {}

    // Takes in what arrived since the last call.
    const Arrivals& update() {
        for (const auto& m : subscriber_.messages_since(consumed_)) {
            ++consumed_;
            if (m.topic.rfind("telemetry/", 0) != 0) continue;  // probes
            const int seq = std::stoi(m.payload);
            if (seq < 0 || static_cast<size_t>(seq) >= seen_.size()) continue;
            if (seen_[static_cast<size_t>(seq)]++ == 0) {
                ++unique_;
                if (seq < last_first_arrival_) in_order_ = false;
                last_first_arrival_ = seq;
            } else {
                ++duplicates_;
            }
        }
        return *this;
    }

    size_t unique() const { return unique_; }
    size_t duplicates() const { return duplicates_; }
    bool in_order() const { return in_order_; }  // first arrivals strictly increasing
    bool all() const { return unique_ == seen_.size(); }

    // "65537-65546 90000-90003": every run of missing readings.
    std::string missing() const {
        std::string out;
        for (size_t i = 0; i < seen_.size(); ++i) {
            if (seen_[i] != 0 || (i > 0 && seen_[i - 1] == 0)) continue;
            size_t end = i;
            while (end + 1 < seen_.size() && seen_[end + 1] == 0) ++end;
            out += (out.empty() ? "" : " ") + std::to_string(i) + (end > i ? "-" + std::to_string(end) : "");
        }
        return out.empty() ? "none" : out;
    }

private:
    const TestSubscriber& subscriber_;
    std::vector<int> seen_;
    size_t consumed_ = 0;
    size_t unique_ = 0;
    size_t duplicates_ = 0;
    int last_first_arrival_ = -1;
    bool in_order_ = true;
};

}  // namespace gwd::test
