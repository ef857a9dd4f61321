#include "app/pipeline.h"

#include <chrono>

#include "common/text.h"

namespace gwd {

std::int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Pipeline::Pipeline(const Config& config, const Router& router, Logger log, NowMs now_ms)
    : normalizer_(config.normalize.options),
      router_(router),
      log_(std::move(log)),
      now_ms_(std::move(now_ms)),
      on_decode_error_(config.normalize.on_decode_error) {
    for (const auto& sensor : config.sensors) defaults_[sensor.name] = SensorDefaults{sensor.content_type};
}

EmitOutcome Pipeline::accept(const ReadingView& reading) {
    auto it = defaults_.find(reading.instance);
    const SensorDefaults& defaults = it == defaults_.end() ? no_defaults_ : it->second;
    auto message = std::make_shared<Message>(normalizer_.normalize(reading, defaults, now_ms_()));

    if (message->kind == Message::Kind::dead_letter) {
        const bool drop = on_decode_error_ == DecodeErrorPolicy::drop;
        const bool queued = !drop && router_.dispatch(message) > 0;
        std::uint64_t suppressed = 0;
        if (decode_log_.allow(std::chrono::steady_clock::now(), suppressed)) {
            const char* fate = drop     ? "dropped (on_decode_error = \"drop\")"
                               : queued ? "sent to the dead-letter topic"
                                        : "dropped: no upstream of this sensor has a dead_letter_topic";
            log_.warning("sensor '" + std::string(reading.instance) + "', reading '" + printable(reading.sensor) +
                         "': " + message->error + "; payload \"" + printable(reading.payload, 32) + "\" " + fate +
                         (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
        }
        return queued ? EmitOutcome::dead_lettered : EmitOutcome::dropped;
    }
    return router_.dispatch(message) > 0 ? EmitOutcome::accepted : EmitOutcome::unrouted;
}

}  // namespace gwd
