#include "app/pipeline.h"

#include <chrono>

#include "common/expiry.h"
#include "common/text.h"

namespace gwd {

Pipeline::Stage::Stage(const Config& config, Router r)
    : normalizer(config.normalize.options), router(std::move(r)), on_decode_error(config.normalize.on_decode_error) {
    for (const auto& sensor : config.sensors) {
        defaults[sensor.name] = SensorDefaults{sensor.content_type};
        if (sensor.expiry) expiry[sensor.name] = *sensor.expiry;
    }
}

Pipeline::Pipeline(std::shared_ptr<const Stage> stage, Logger log, NowMs now_ms)
    : stage_(std::move(stage)), log_(std::move(log)), now_ms_(std::move(now_ms)) {}

void Pipeline::replace(std::shared_ptr<const Stage> stage) { stage_.store(std::move(stage)); }

EmitOutcome Pipeline::accept(const ReadingView& reading, const StoreTicketPtr& ticket) {
    const std::shared_ptr<const Stage> stage = stage_.load();
    auto it = stage->defaults.find(reading.instance);
    const SensorDefaults& defaults = it == stage->defaults.end() ? no_defaults_ : it->second;
    const std::int64_t now = now_ms_();
    auto message = std::make_shared<Message>(stage->normalizer.normalize(reading, defaults, now));
    message->accepted_ms = now;
    // The reading's own expiry (e.g. left over from an MQTT v5 source) and
    // its sensor's, whichever ends first.
    if (reading.message_expiry_s > 0)
        message->expires_at_ms = deadline_after(now, Duration(std::int64_t{reading.message_expiry_s} * 1000));
    if (auto e = stage->expiry.find(reading.instance); e != stage->expiry.end())
        message->expires_at_ms = earlier_deadline(message->expires_at_ms, deadline_after(now, e->second));

    if (message->kind == Message::Kind::dead_letter) {
        const bool drop = stage->on_decode_error == DecodeErrorPolicy::drop;
        const bool queued = !drop && stage->router.dispatch(message, ticket).taken > 0;
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
    const Router::Dispatched d = stage->router.dispatch(message, ticket);
    if (d.taken > 0) return EmitOutcome::accepted;
    return d.routes > 0 ? EmitOutcome::refused : EmitOutcome::unrouted;
}

}  // namespace gwd
