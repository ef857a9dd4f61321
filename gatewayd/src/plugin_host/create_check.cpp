#include "plugin_host/create_check.h"

#include <mutex>
#include <vector>

#include "common/units.h"
#include "plugin_host/sensor_instance.h"

namespace gwd {

namespace {

// The first ABI whose create() promises to read and check its options only.
constexpr std::uint32_t kFirstAbiCheckedByCreate = 6;

// create() may not emit (the instance is never started); anything it tries is refused.
class RefusingSink final : public ReadingSink {
public:
    EmitOutcome accept(const ReadingView&, const StoreTicketPtr&) override { return EmitOutcome::refused; }
};

// The error lines of one create() call, in order.
class ErrorLines final : public LogSink {
public:
    void write(LogLevel level, std::string_view, std::string_view message) override {
        if (level != LogLevel::error) return;
        std::lock_guard lock(mutex_);
        lines_.emplace_back(message);
    }
    std::vector<std::string> take() {
        std::lock_guard lock(mutex_);
        return std::move(lines_);
    }

private:
    std::mutex mutex_;
    std::vector<std::string> lines_;
};

// "devices[1].registers[0].order" → "devices.1.registers.0.order", the form OptionValue::find takes.
std::string dotted_key(std::string_view key) {
    std::string out;
    for (char c : key) {
        if (c == '[') {
            out += '.';
        } else if (c != ']') {
            out += c;
        }
    }
    return out;
}

// Where the option a line starts with was written; the sensor's block when none.
SourceLocation place_of(const SensorConfig& sensor, const std::string& line) {
    const size_t colon = line.find(": ");
    if (colon != std::string::npos && colon > 0 && line.find(' ') > colon) {
        if (const OptionValue* v = sensor.options.find(dotted_key(std::string_view(line).substr(0, colon))))
            return v->key_where.line > 0 ? v->key_where : v->where;
    }
    return sensor.options.where.line > 0 ? sensor.options.where : sensor.where;
}

}  // namespace

void check_sensor_create(const SensorConfig& sensor, const std::string& gateway_id,
                         const std::shared_ptr<PluginLibrary>& library, Duration timeout, Diagnostics& diags) {
    if (library->descriptor().abi_version < kFirstAbiCheckedByCreate) return;
    RefusingSink sink;
    auto lines = std::make_shared<ErrorLines>();
    SensorLimits limits;
    limits.call_timeout = timeout;
    const std::string label = "sensor '" + sensor.name + "'";
    std::vector<std::string> said;
    {
        auto instance = std::make_shared<SensorInstance>(sensor, gateway_id, library, sink,
                                                         Logger(lines, LogLevel::error, "check"), limits);
        const auto deadline = SensorInstance::Clock::now() + timeout;
        if (instance->create(deadline)) {
            instance->shutdown(SensorInstance::Clock::now() + timeout);
            return;
        }
        said = lines->take();
        if (instance->abandoned()) {
            diags.error(sensor.where, label + ": plugin '" + sensor.plugin + "' did not return from create() within " +
                                          format_duration(timeout));
            return;
        }
    }
    // The last line is the host's own "disabled: ..." once the plugin refused.
    if (!said.empty() && said.back().rfind("disabled: ", 0) == 0) said.pop_back();
    if (said.empty()) {
        diags.error(sensor.where, label + ": plugin '" + sensor.plugin + "' refused its options without saying why");
        return;
    }
    for (const std::string& line : said) diags.error(place_of(sensor, line), label + ": " + line);
}

}  // namespace gwd
