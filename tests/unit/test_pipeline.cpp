#define BOOST_TEST_MODULE pipeline
#include <boost/test/unit_test.hpp>

#include "app/pipeline.h"
#include "config/config_loader.h"
#include "outbox/memory_outbox.h"

using namespace gwd;

namespace {
Config config_with(const std::string& normalize) {
    auto r = parse_config(normalize +
                              "\n[[sensor]]\nname = \"field\"\nplugin = \"p\"\ncontent_type = \"json\"\n"
                              "[[sensor]]\nname = \"lab\"\nplugin = \"p\"\n"
                              "[[upstream]]\nname = \"u\"\nurl = \"tcp://h\"\nsensors = [\"field\"]\n",
                          "gw.toml", "h");
    BOOST_REQUIRE(r.config);
    return *r.config;
}

struct Fixture {
    explicit Fixture(const std::string& normalize = "")
        : config(config_with(normalize)),
          outbox(std::make_shared<MemoryOutbox>(1 << 20, OverflowPolicy::drop_oldest)),
          sink(std::make_shared<MemorySink>()),
          pipeline(stage(), Logger(sink, LogLevel::debug), [] { return 1000; }) {}

    std::shared_ptr<const Pipeline::Stage> stage() {
        Router router;
        router.add_route({"u", outbox, {"field"}, true});
        return std::make_shared<const Pipeline::Stage>(config, std::move(router));
    }

    EmitOutcome emit(const std::string& instance, const std::string& payload, std::vector<PropertyView> props = {}) {
        ReadingView r;
        r.sensor = "s1";
        r.instance = instance;
        r.payload = payload;
        r.properties = props;
        return pipeline.accept(r);
    }

    std::shared_ptr<const Message> next() {
        std::vector<OutboxEntry> e;
        outbox->take(1, e);
        return e.empty() ? nullptr : e[0].message;
    }

    Config config;
    std::shared_ptr<MemoryOutbox> outbox;
    std::shared_ptr<MemorySink> sink;
    Pipeline pipeline;
};
}  // namespace

BOOST_AUTO_TEST_CASE(normalizes_with_the_sensor_default_and_queues) {
    Fixture f;
    BOOST_TEST((f.emit("field", "23.4") == EmitOutcome::accepted));
    auto m = f.next();
    BOOST_REQUIRE(m);
    BOOST_TEST(m->content_type == "application/json");  // [[sensor]] content_type = "json"
    BOOST_TEST(m->timestamp_ms == 1000);
}

BOOST_AUTO_TEST_CASE(sensors_no_upstream_wants_are_unrouted) {
    Fixture f;
    BOOST_TEST((f.emit("lab", "23.4") == EmitOutcome::unrouted));
    BOOST_TEST(!f.next());
}

BOOST_AUTO_TEST_CASE(decode_errors_are_dead_lettered_and_logged) {
    Fixture f;
    BOOST_TEST((f.emit("field", "!!", {{"Content-Type", "base64"}}) == EmitOutcome::dead_lettered));
    auto m = f.next();
    BOOST_REQUIRE(m);
    BOOST_TEST((m->kind == Message::Kind::dead_letter));
    BOOST_TEST(f.sink->contains("sent to the dead-letter topic"));
}

BOOST_AUTO_TEST_CASE(decode_errors_can_be_dropped_with_a_log_line) {
    Fixture f("[normalize]\non_decode_error = \"drop\"\n");
    BOOST_TEST((f.emit("field", "!!", {{"Content-Type", "base64"}}) == EmitOutcome::dropped));
    BOOST_TEST(!f.next());
    BOOST_TEST(f.sink->contains("dropped (on_decode_error = \"drop\")"));
}

BOOST_AUTO_TEST_CASE(a_flood_of_bad_payloads_is_logged_at_a_bounded_rate) {
    Fixture f("[normalize]\non_decode_error = \"drop\"\n");
    for (int i = 0; i < 1000; ++i) f.emit("field", "!!", {{"Content-Type", "base64"}});
    const std::string log = f.sink->text();
    size_t lines = 0;
    for (char c : log) lines += c == '\n';
    BOOST_TEST(lines <= 5u);
}

BOOST_AUTO_TEST_CASE(a_reloaded_stage_takes_over) {
    Fixture f;
    BOOST_TEST((f.emit("lab", "1") == EmitOutcome::unrouted));
    Router router;
    router.add_route({"u", f.outbox, {}, true});  // now every sensor
    f.pipeline.replace(std::make_shared<const Pipeline::Stage>(f.config, std::move(router)));
    BOOST_TEST((f.emit("lab", "1") == EmitOutcome::accepted));
}

BOOST_AUTO_TEST_CASE(a_reading_every_full_queue_refuses_is_refused_not_unrouted) {
    Fixture f;
    f.outbox->set_limits(1, OverflowPolicy::drop_newest);  // no room for anything
    BOOST_TEST((f.emit("field", "23.4") == EmitOutcome::refused));
    BOOST_TEST((f.emit("lab", "23.4") == EmitOutcome::unrouted));  // no upstream takes "lab" at all
}
