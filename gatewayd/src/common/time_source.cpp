#include "common/time_source.h"

namespace gwd {

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
