// The stages after the plugin host, as one ReadingSink: normalize the
// reading, then route the message to the upstreams' outboxes. Decode
// failures follow [normalize] on_decode_error, always counted and logged.
#pragma once

#include <functional>
#include <map>
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

    Pipeline(const Config& config, const Router& router, Logger log, NowMs now_ms);

    EmitOutcome accept(const ReadingView& reading) override;

private:
    Normalizer normalizer_;
    const Router& router_;
    Logger log_;
    NowMs now_ms_;
    DecodeErrorPolicy on_decode_error_;
    std::map<std::string, SensorDefaults, std::less<>> defaults_;
    SensorDefaults no_defaults_;
    LogRateLimit decode_log_;
};

// Milliseconds since the Unix epoch, from the real-time clock.
std::int64_t system_now_ms();

}  // namespace gwd
