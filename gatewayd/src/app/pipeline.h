// The stages after the plugin host, as one ReadingSink: normalize the
// reading, then route the message to the upstreams' outboxes. Decode
// failures follow [normalize] on_decode_error, always counted and logged.
// A reload swaps the whole stage atomically; readings in flight finish with
// the stage they started with.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/log.h"
#include "common/reading_sink.h"
#include "config/config.h"
#include "normalize/normalizer.h"
#include "router/router.h"

namespace gwd {

class Pipeline final : public ReadingSink {
public:
    using NowMs = std::function<std::int64_t()>;

    struct Stage {
        Stage(const Config& config, Router router);
        Normalizer normalizer;
        Router router;
        DecodeErrorPolicy on_decode_error;
        std::map<std::string, SensorDefaults, std::less<>> defaults;  // per [[sensor]] name
        std::map<std::string, Duration, std::less<>> expiry;          // per [[sensor]] name, when set
    };

    Pipeline(std::shared_ptr<const Stage> stage, Logger log, NowMs now_ms);

    void replace(std::shared_ptr<const Stage> stage);
    EmitOutcome accept(const ReadingView& reading, const StoreTicketPtr& ticket = nullptr) override;

private:
    std::atomic<std::shared_ptr<const Stage>> stage_;
    Logger log_;
    NowMs now_ms_;
    SensorDefaults no_defaults_;
    LogRateLimit decode_log_;
};

}  // namespace gwd
