// The frames between gatewayd and a plugin process: each kind survives the
// round trip, a stream cut anywhere is reassembled, and bytes a plugin could
// write to the socket itself are refused with a reason, never trusted.
#define BOOST_TEST_MODULE worker_frames
#include <boost/test/unit_test.hpp>

#include "plugin_host/worker_frames.h"

using namespace gwd;
using namespace gwd::worker;

namespace {

Frame round_trip(const Frame& frame) {
    const std::string bytes = encode(frame);
    FrameSplitter splitter(1 << 20);
    splitter.feed(bytes);
    std::string error;
    std::optional<std::string_view> body = splitter.take(error);
    BOOST_REQUIRE(body);
    BOOST_TEST(splitter.buffered() == 0u);
    std::optional<Frame> back = decode(*body, error);
    BOOST_REQUIRE_MESSAGE(back, error);
    BOOST_TEST(encode(*back) == bytes);
    return *back;
}

OptionValue option(OptionValue::Table table) {
    OptionValue v;
    v.value = std::move(table);
    return v;
}

std::string body_of(const Frame& frame) { return encode(frame).substr(4); }

}  // namespace

BOOST_AUTO_TEST_CASE(init_carries_the_sensor_with_its_nested_options_and_their_positions) {
    Init init;
    init.gateway_id = "gw-01";
    init.image = "/var/lib/gatewayd/plugin-images/modbus.so.1";
    init.log_threshold = 7;
    init.call_timeout_ms = 1500;
    init.max_reading_size = 4096;
    init.sensor.name = "meter";
    init.sensor.plugin = "modbus";
    init.sensor.interval = Duration(250);
    init.sensor.isolation = Isolation::process;
    init.sensor.content_type = "application/json";
    init.sensor.expiry = Duration(60000);
    init.sensor.where = {"/etc/gatewayd/gatewayd.toml", 12, 1};
    OptionValue port;
    port.value = std::int64_t{502};
    port.where = {"/etc/gatewayd/gatewayd.toml", 15, 8};
    OptionValue scale;
    scale.value = 0.1;
    OptionValue on;
    on.value = true;
    OptionValue list;
    OptionValue a, b;
    a.value = std::string("a");
    b.value = std::string("b\0c", 3);
    list.value = OptionValue::List{a, b};
    init.sensor.options = option({{"port", port}, {"tls", option({{"enabled", on}, {"scale", scale}})}, {"l", list}});

    const Init back = std::get<Init>(round_trip(init));
    BOOST_TEST(back.gateway_id == "gw-01");
    BOOST_TEST(back.image == init.image);
    BOOST_TEST(back.log_threshold == 7);
    BOOST_TEST(back.call_timeout_ms == 1500);
    BOOST_TEST(back.max_reading_size == 4096u);
    BOOST_TEST(back.sensor.name == "meter");
    BOOST_TEST(back.sensor.interval.count() == 250);
    BOOST_TEST(*back.sensor.content_type == "application/json");
    BOOST_TEST(back.sensor.expiry->count() == 60000);
    BOOST_TEST(back.sensor.where.line == 12);
    const OptionValue* p = back.sensor.options.find("port");
    BOOST_REQUIRE(p);
    BOOST_TEST(std::get<std::int64_t>(p->value) == 502);
    BOOST_TEST(p->where.line == 15);
    BOOST_TEST(p->where.column == 8);
    BOOST_TEST(std::get<double>(back.sensor.options.find("tls.scale")->value) == 0.1);
    BOOST_TEST(std::get<bool>(back.sensor.options.find("tls.enabled")->value));
    const auto& l = std::get<OptionValue::List>(back.sensor.options.find("l")->value);
    BOOST_REQUIRE(l.size() == 2u);
    BOOST_TEST(std::get<std::string>(l[1].value) == std::string("b\0c", 3));
}

BOOST_AUTO_TEST_CASE(a_reading_keeps_its_bytes_properties_in_order_and_its_expiry) {
    Reading r;
    r.id = 42;
    r.sensor = "temp";
    r.timestamp_ms = 1764670500123;
    r.payload = std::string("\x00\xff binary", 9);
    r.content_type = "application/octet-stream";
    r.properties = {{"unit", "C"}, {"unit", "K"}, {"", ""}};
    r.message_expiry_s = 3600;
    const Reading back = std::get<Reading>(round_trip(r));
    BOOST_TEST(back.id == 42u);
    BOOST_TEST(back.payload == r.payload);
    BOOST_TEST(*back.content_type == *r.content_type);
    BOOST_TEST((back.properties == r.properties));
    BOOST_TEST(back.message_expiry_s == 3600u);

    // The child's fast path writes the very same bytes.
    std::vector<PropertyView> views;
    for (const auto& p : r.properties) views.push_back({p.key, p.value});
    ReadingView view;
    view.sensor = r.sensor;
    view.timestamp_ms = r.timestamp_ms;
    view.payload = r.payload;
    view.content_type = std::string_view(*r.content_type);
    view.properties = views;
    view.message_expiry_s = 3600;
    std::string fast;
    encode_reading(view, 42, fast);
    BOOST_TEST(fast == encode(r));

    Reading bare;
    bare.sensor = "x";
    BOOST_TEST(!std::get<Reading>(round_trip(bare)).content_type.has_value());
}

BOOST_AUTO_TEST_CASE(every_other_kind_survives_the_round_trip) {
    BOOST_TEST(std::holds_alternative<Start>(round_trip(Start{})));
    BOOST_TEST(std::get<Stop>(round_trip(Stop{2500})).timeout_ms == 2500);
    const Ack ack = std::get<Ack>(round_trip(Ack{7, true}));
    BOOST_TEST((ack.id == 7u && ack.stored));
    const CommandRequest c =
        std::get<CommandRequest>(round_trip(CommandRequest{3, 900, "valve", "set", "{\"value\":1}"}));
    BOOST_TEST((c.id == 3u && c.timeout_ms == 900 && c.sensor == "valve" && c.params == "{\"value\":1}"));
    const StepResult s = std::get<StepResult>(round_trip(StepResult{Step::started, false, "start() failed"}));
    BOOST_TEST((s.step == Step::started && !s.ok && s.error == "start() failed"));
    const LogLine l = std::get<LogLine>(round_trip(LogLine{4, "device 3 timed out"}));
    BOOST_TEST((l.level == 4 && l.text == "device 3 timed out"));
    Status st;
    st.state = SensorState::stuck;
    st.error = "poll() has not returned for 10s";
    st.invalid = 1;
    st.poll_errors = 9;
    st.counters = {{"meter.voltage timeouts", 3}, {"connection failures", 1}};
    const Status stb = std::get<Status>(round_trip(st));
    BOOST_TEST(
        (stb.state == SensorState::stuck && stb.error == st.error && stb.invalid == 1u && stb.poll_errors == 9u));
    BOOST_TEST((stb.counters == st.counters));
    const CommandReply r = std::get<CommandReply>(round_trip(CommandReply{3, 2, "", "value out of range"}));
    BOOST_TEST((r.id == 3u && r.status == 2 && r.message == "value out of range"));
}

BOOST_AUTO_TEST_CASE(a_stream_cut_at_every_byte_gives_the_same_frames) {
    std::string stream;
    encode(Reading{1, "a", 0, "x", std::nullopt, {}, 0}, stream);
    encode(LogLine{6, "hello"}, stream);
    encode(Status{}, stream);
    for (size_t cut = 0; cut <= stream.size(); ++cut) {
        FrameSplitter splitter(1024);
        std::string error;
        std::vector<std::string> bodies;
        splitter.feed(std::string_view(stream).substr(0, cut));
        while (auto b = splitter.take(error)) bodies.emplace_back(*b);
        splitter.feed(std::string_view(stream).substr(cut));
        while (auto b = splitter.take(error)) bodies.emplace_back(*b);
        BOOST_TEST(error.empty());
        BOOST_REQUIRE_EQUAL(bodies.size(), 3u);
        BOOST_TEST(std::holds_alternative<LogLine>(*decode(bodies[1], error)));
    }
}

BOOST_AUTO_TEST_CASE(bytes_a_plugin_could_write_are_refused_with_a_reason) {
    std::string error;
    // A length prefix over the limit: refused before anything is buffered for it.
    FrameSplitter splitter(100);
    splitter.feed(std::string("\xff\xff\xff\x7f", 4));
    BOOST_TEST(!splitter.take(error));
    BOOST_TEST(error == "a frame of 2147483647 bytes, over the limit of 100");

    BOOST_TEST(!decode("", error));
    BOOST_TEST(error == "an empty frame");
    BOOST_TEST(!decode("\x63", error));
    BOOST_TEST(error == "a frame of unknown type 99");
    // Every truncation of a valid body, and a byte too many.
    const std::string good = body_of(Reading{5, "temp", 1, "21.5", "text/plain", {{"k", "v"}}, 0});
    for (size_t n = 1; n < good.size(); ++n) {
        error.clear();
        BOOST_TEST(!decode(good.substr(0, n), error));
        BOOST_TEST(
            (error == "the frame ends inside a field" || error.find("does not fit the frame") != std::string::npos),
            error);
    }
    BOOST_TEST(!decode(good + "x", error));
    BOOST_TEST(error == "1 bytes after the last field");
    // A property count the body cannot hold: no huge allocation, a reason.
    std::string lying = body_of(Reading{5, "t", 0, "", std::nullopt, {}, 0});
    lying.replace(lying.size() - 8, 4, std::string("\xff\xff\xff\x0f", 4));
    BOOST_TEST(!decode(lying, error));
    BOOST_TEST(error == "a count of 268435455 items does not fit the frame");
    // Flags other than 0 and 1, states past the last.
    std::string flag = body_of(Ack{1, true});
    flag.back() = 2;
    BOOST_TEST(!decode(flag, error));
    BOOST_TEST(error == "a flag is 2, not 0 or 1");
    std::string state = body_of(Status{});
    state[1] = 42;
    BOOST_TEST(!decode(state, error));
    BOOST_TEST(error == "a sensor state of unknown kind");
}

BOOST_AUTO_TEST_CASE(a_number_that_does_not_fit_an_int_is_refused_not_cut) {
    // Found by fuzz_worker_frames: a log level of 0xff00000004 decoded as 4.
    std::string body = body_of(LogLine{4, "x"});
    body[5] = static_cast<char>(0xff);
    std::string error;
    BOOST_TEST(!decode(body, error));
    BOOST_TEST(error == "a number out of range (1095216660484)");
}

BOOST_AUTO_TEST_CASE(an_optional_value_behind_an_unset_flag_is_refused) {
    // Found by fuzz_worker_frames: such a frame decoded, but not to one meaning.
    std::string body = body_of(Reading{1, "t", 0, "", std::string("x"), {}, 0});
    // type, id, sensor, timestamp, payload: then the flag.
    body[1 + 8 + 4 + 1 + 8 + 4] = 0;
    std::string error;
    BOOST_TEST(!decode(body, error));
    BOOST_TEST(error == "a content type behind an unset flag");
}

BOOST_AUTO_TEST_CASE(options_nested_beyond_any_real_config_are_refused) {
    OptionValue v;
    v.value = std::int64_t{1};
    for (int i = 0; i < 40; ++i) v = option({{"k", v}});
    Init init;
    init.sensor.options = v;
    std::string error;
    BOOST_TEST(!decode(body_of(init), error));
    BOOST_TEST(error == "options nested deeper than 32");
}
