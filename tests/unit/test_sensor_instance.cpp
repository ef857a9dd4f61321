#define BOOST_TEST_MODULE sensor_instance
#include <boost/test/unit_test.hpp>

#include <mutex>

#include "config/config_loader.h"
#include "gatewayd_process.h"
#include "plugin_host/plugin_options.h"
#include "plugin_host/sensor_instance.h"
#include "process.h"

using namespace gwd;

namespace {
class RecordingSink final : public ReadingSink {
public:
    EmitOutcome accept(const ReadingView& r, const StoreTicketPtr& ticket = nullptr) override {
        std::lock_guard lock(mutex);
        names.emplace_back(r.sensor);
        payloads.emplace_back(r.payload);
        expiries.push_back(r.message_expiry_s);
        if (ticket) {
            ticket->hold();  // as an outbox would
            tickets.push_back(ticket);
        }
        return EmitOutcome::accepted;
    }
    // Settles the held shares as outboxes would once the readings are stored.
    void store_all(bool stored) {
        std::lock_guard lock(mutex);
        for (auto& t : tickets) t->settle(stored);
        tickets.clear();
    }
    std::mutex mutex;
    std::vector<std::string> names, payloads;
    std::vector<std::uint32_t> expiries;
    std::vector<StoreTicketPtr> tickets;
};

SensorConfig sensor(const std::string& options) {
    auto r = parse_config("[[sensor]]\nname = \"t\"\nplugin = \"test_emitter\"\n[sensor.options]\n" + options +
                              "\n[[upstream]]\nname = \"u\"\nurl = \"tcp://h\"\n",
                          "gw.toml", "h");
    BOOST_REQUIRE(r.config);
    return r.config->sensors[0];
}

auto soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(10); }

std::shared_ptr<PluginLibrary> emitter() {
    std::string error;
    auto lib = PluginLibrary::load(test::test_plugin_dir() / "test_emitter.so", error);
    BOOST_REQUIRE_MESSAGE(lib, error);
    return lib;
}
}  // namespace

BOOST_AUTO_TEST_CASE(malformed_readings_are_refused_counted_and_harmless) {
    RecordingSink sink;
    auto log_sink = std::make_shared<MemorySink>();
    auto instance_ptr =
        std::make_shared<SensorInstance>(sensor("count = 3\nmalformed = true\npayload = \"v{seq}\""), "gw", emitter(),
                                         sink, Logger(log_sink, LogLevel::debug, "sensor t"));
    SensorInstance& instance = *instance_ptr;
    BOOST_REQUIRE(instance.create(soon()));
    BOOST_REQUIRE(instance.start(soon()));
    BOOST_TEST(test::eventually([&] { return instance.status().accepted == 3; }, std::chrono::seconds(10)));
    instance.shutdown(soon());
    const SensorStatus s = instance.status();
    BOOST_TEST(s.invalid == 8u);
    BOOST_TEST((sink.payloads == std::vector<std::string>{"v0", "v1", "v2"}));
    const std::string log = log_sink->text();
    BOOST_TEST(log.find("emit() got a null reading") != std::string::npos);
    BOOST_TEST(log.find("the reading has no sensor name") != std::string::npos);
    BOOST_TEST(log.find("contains the MQTT wildcard '+'") != std::string::npos);
    BOOST_TEST(log.find("a length but no payload") != std::string::npos);
    BOOST_TEST(log.find("is not valid UTF-8") != std::string::npos);
    // The rate limit lets five through and holds back the rest.
    BOOST_TEST(log.find("contains a control character") == std::string::npos);
    BOOST_TEST(log.find("negative timestamp") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_reading_with_a_reserved_field_set_is_refused) {
    RecordingSink sink;
    auto log_sink = std::make_shared<MemorySink>();
    auto instance_ptr = std::make_shared<SensorInstance>(sensor("count = 2\nset_reserved = true\npayload = \"v\""),
                                                         "gw", emitter(), sink, Logger(log_sink, LogLevel::debug));
    SensorInstance& instance = *instance_ptr;
    BOOST_REQUIRE(instance.create(soon()));
    BOOST_REQUIRE(instance.start(soon()));
    BOOST_TEST(test::eventually([&] { return instance.status().invalid == 2; }, std::chrono::seconds(10)));
    instance.shutdown(soon());
    BOOST_TEST(instance.status().accepted == 0u);
    BOOST_TEST(sink.payloads.empty());
    BOOST_TEST(
        log_sink->text().find("the reading sets reserved fields; initialize gwd_reading with {0} (C) or {} (C++)") !=
        std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_option_left_out_reaches_the_plugin_as_its_declared_default) {
    RecordingSink sink;  // test_emitter declares count = 1
    auto instance_ptr = std::make_shared<SensorInstance>(sensor("payload = \"only\""), "gw", emitter(), sink,
                                                         Logger(std::make_shared<MemorySink>(), LogLevel::debug));
    SensorInstance& instance = *instance_ptr;
    BOOST_REQUIRE(instance.create(soon()));
    BOOST_REQUIRE(instance.start(soon()));
    BOOST_TEST(test::eventually([&] { return instance.status().accepted == 1; }, std::chrono::seconds(10)));
    instance.shutdown(soon());
    BOOST_TEST((sink.payloads == std::vector<std::string>{"only"}));
    BOOST_TEST(*option_as_int(instance.option("count")) == 1);
}

BOOST_AUTO_TEST_CASE(emit_after_stop_is_refused) {
    RecordingSink sink;
    auto instance_ptr = std::make_shared<SensorInstance>(sensor("count = 1000000\npayload = \"x\""), "gw", emitter(),
                                                         sink, Logger(std::make_shared<MemorySink>(), LogLevel::debug));
    SensorInstance& instance = *instance_ptr;
    BOOST_REQUIRE(instance.create(soon()));
    BOOST_REQUIRE(instance.start(soon()));
    BOOST_TEST(test::eventually([&] { return instance.status().accepted > 10; }, std::chrono::seconds(10)));
    instance.shutdown(soon());
    const auto after_stop = instance.status().accepted;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    BOOST_TEST(instance.status().accepted == after_stop);
    BOOST_TEST((instance.status().state == SensorState::stopped));
}

BOOST_AUTO_TEST_CASE(stored_is_called_once_per_reading_after_the_outboxes_settle) {
    RecordingSink sink;
    auto log_sink = std::make_shared<MemorySink>();
    auto instance_ptr = std::make_shared<SensorInstance>(sensor("count = 5\nacks = true\nexpiry = \"90s\""), "gw",
                                                         emitter(), sink, Logger(log_sink, LogLevel::debug));
    SensorInstance& instance = *instance_ptr;
    BOOST_REQUIRE(instance.create(soon()));
    BOOST_REQUIRE(instance.start(soon()));
    BOOST_TEST(test::eventually([&] { return instance.status().accepted == 5; }, std::chrono::seconds(10)));
    {
        std::lock_guard lock(sink.mutex);
        BOOST_TEST(sink.tickets.size() == 5u);
        BOOST_TEST((sink.expiries == std::vector<std::uint32_t>(5, 90)));
    }
    sink.store_all(true);
    instance.shutdown(soon());  // waits for the outstanding acknowledgements, then logs them
    BOOST_TEST(log_sink->contains("acks: 5 stored, 0 dropped, 0 outstanding"), log_sink->text());
}

BOOST_AUTO_TEST_CASE(a_dropped_reading_is_reported_as_dropped) {
    RecordingSink sink;
    auto log_sink = std::make_shared<MemorySink>();
    auto instance_ptr = std::make_shared<SensorInstance>(sensor("count = 3\nacks = true"), "gw", emitter(), sink,
                                                         Logger(log_sink, LogLevel::debug));
    SensorInstance& instance = *instance_ptr;
    BOOST_REQUIRE(instance.create(soon()));
    BOOST_REQUIRE(instance.start(soon()));
    BOOST_TEST(test::eventually([&] { return instance.status().accepted == 3; }, std::chrono::seconds(10)));
    sink.store_all(false);
    instance.shutdown(soon());
    BOOST_TEST(log_sink->contains("acks: 0 stored, 3 dropped, 0 outstanding"), log_sink->text());
}

BOOST_AUTO_TEST_CASE(failing_create_marks_the_sensor_failed) {
    RecordingSink sink;
    auto log_sink = std::make_shared<MemorySink>();
    auto instance_ptr = std::make_shared<SensorInstance>(sensor("fail_create = true"), "gw", emitter(), sink,
                                                         Logger(log_sink, LogLevel::debug));
    SensorInstance& instance = *instance_ptr;
    BOOST_TEST(!instance.create(soon()));
    BOOST_TEST((instance.status().state == SensorState::failed));
    BOOST_TEST(log_sink->contains("fail_create is set"));
}

namespace {
// A sink that runs out of memory, as a 200 MiB reading would under a limit.
class StarvedSink final : public ReadingSink {
public:
    EmitOutcome accept(const ReadingView&, const StoreTicketPtr& = nullptr) override { throw std::bad_alloc(); }
};

std::shared_ptr<PluginLibrary> misbehaving() {
    std::string error;
    auto lib = PluginLibrary::load(test::test_plugin_dir() / "misbehaving.so", error);
    BOOST_REQUIRE_MESSAGE(lib, error);
    return lib;
}

SensorConfig misbehaving_sensor(const std::string& options) {
    auto r =
        parse_config("[[sensor]]\nname = \"m\"\nplugin = \"misbehaving\"\ninterval = \"50ms\"\n[sensor.options]\n" +
                         options + "\n[[upstream]]\nname = \"u\"\nurl = \"tcp://h\"\n",
                     "gw.toml", "h");
    BOOST_REQUIRE(r.config);
    return r.config->sensors[0];
}
}  // namespace

BOOST_AUTO_TEST_CASE(an_allocation_failure_is_an_error_for_the_plugin_not_an_exception) {
    StarvedSink sink;
    auto log_sink = std::make_shared<MemorySink>();
    auto instance = std::make_shared<SensorInstance>(sensor("count = 3\npayload = \"x\""), "gw", emitter(), sink,
                                                     Logger(log_sink, LogLevel::debug));
    BOOST_REQUIRE(instance->create(soon()));
    BOOST_REQUIRE(instance->start(soon()));
    BOOST_TEST(test::eventually([&] { return instance->status().no_memory == 3; }, std::chrono::seconds(10)));
    BOOST_TEST(instance->shutdown(soon()));
    BOOST_TEST(log_sink->contains("reading refused: memory ran out while taking it"), log_sink->text());
}

BOOST_AUTO_TEST_CASE(readings_over_max_reading_size_are_refused_before_they_are_copied) {
    RecordingSink sink;
    auto log_sink = std::make_shared<MemorySink>();
    SensorLimits limits;
    limits.max_reading_size = 2048;
    auto instance = std::make_shared<SensorInstance>(sensor("count = 1\nfirst_payload_size = 4096\npayload = \"ok\""),
                                                     "gw", emitter(), sink, Logger(log_sink, LogLevel::debug), limits);
    BOOST_REQUIRE(instance->create(soon()));
    BOOST_REQUIRE(instance->start(soon()));
    BOOST_TEST(test::eventually([&] { return instance->status().accepted == 1; }, std::chrono::seconds(10)));
    BOOST_TEST(instance->status().oversized == 1u);
    BOOST_TEST(instance->shutdown(soon()));
    BOOST_TEST(
        log_sink->contains("reading refused: its payload of 4096 bytes is larger than max_reading_size (2.0 KiB)"),
        log_sink->text());
}

BOOST_AUTO_TEST_CASE(plugin_log_text_escapes_what_could_forge_a_line) {
    BOOST_TEST(plugin_log_text("plain text, UTF-8 \xc3\xa9") == "plain text, UTF-8 \xc3\xa9");
    BOOST_TEST(plugin_log_text("a\nb\r\tc") == "a\\nb\\r\\tc");
    BOOST_TEST(plugin_log_text("\x1b[31mred\x1b[0m\x07") == "\\x1b[31mred\\x1b[0m\\x07");
    BOOST_TEST(plugin_log_text("csi \xc2\x9b"
                               "31m") == "csi \\u009b31m");  // a C1 control in UTF-8
    BOOST_TEST(plugin_log_text("bad \xff utf8\n") == "bad \\xff utf8\\n");
    BOOST_TEST(plugin_log_text(std::string(5000, 'x')).size() == 2048u + 3u);
}

BOOST_AUTO_TEST_CASE(a_command_the_plugin_never_answers_fails_at_the_deadline) {
    RecordingSink sink;
    auto instance = std::make_shared<SensorInstance>(misbehaving_sensor("hang_in = \"command\""), "gw", misbehaving(),
                                                     sink, Logger(std::make_shared<MemorySink>(), LogLevel::debug));
    BOOST_REQUIRE(instance->create(soon()));
    BOOST_REQUIRE(instance->start(soon()));
    Command c;
    c.sensor = "m";
    c.instance = "m";
    c.name = "calibrate";
    c.params = "{}";
    const auto started = std::chrono::steady_clock::now();
    const CommandOutcome first = instance->command(c, started + std::chrono::milliseconds(300));
    BOOST_TEST((first.status == CommandOutcome::Status::failed));
    BOOST_TEST(first.message == "the plugin did not answer in time");
    // The plugin is still inside the first one: the next is refused at once.
    const CommandOutcome second = instance->command(c, std::chrono::steady_clock::now() + std::chrono::seconds(5));
    BOOST_TEST(second.message.find("has not finished an earlier command") != std::string::npos, second.message);
    BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(5)));
    // Stopping cannot wait for it either: the instance is abandoned.
    BOOST_TEST(!instance->shutdown(std::chrono::steady_clock::now() + std::chrono::milliseconds(300)));
    BOOST_TEST(instance->abandoned());
}

BOOST_AUTO_TEST_CASE(a_stuck_poll_is_reported_and_abandoned_at_shutdown) {
    RecordingSink sink;
    auto log_sink = std::make_shared<MemorySink>();
    SensorLimits limits;
    limits.call_timeout = std::chrono::milliseconds(200);
    auto instance = std::make_shared<SensorInstance>(misbehaving_sensor("hang_in = \"poll\"\nhang_after = 1"), "gw",
                                                     misbehaving(), sink, Logger(log_sink, LogLevel::debug), limits);
    BOOST_REQUIRE(instance->create(soon()));
    BOOST_REQUIRE(instance->start(soon()));
    BOOST_TEST(
        test::eventually([&] { return instance->status().state == SensorState::stuck; }, std::chrono::seconds(10)));
    BOOST_TEST(instance->status().error.find("poll() has not returned for") == 0u, instance->status().error);
    instance->watch(std::chrono::steady_clock::now());
    BOOST_TEST(log_sink->contains("stuck: poll() has not returned for"), log_sink->text());
    BOOST_TEST(!instance->shutdown(std::chrono::steady_clock::now() + std::chrono::milliseconds(200)));
    BOOST_TEST(log_sink->contains("poll() did not return within"), log_sink->text());
    // The poll thread may still come back into it: dropping it frees nothing
    // (ThreadSanitizer saw the options freed under the plugin before).
    std::weak_ptr<SensorInstance> weak = instance;
    instance.reset();
    BOOST_TEST(!weak.expired());
}
