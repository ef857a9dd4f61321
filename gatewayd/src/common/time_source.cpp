#include "common/time_source.h"

namespace gwd {

std::int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

class SystemTime final : public TimeSource {
public:
    Steady::time_point now() const override { return Steady::now(); }
    Wall::time_point wall() const override { return Wall::now(); }
};

}  // namespace

const TimeSource& system_time() {
    static const SystemTime clocks;
    return clocks;
}

}  // namespace gwd
