// The publishing side of one connection (PublishPump) and what happens to
// each entry after (Delivery), against a FakeBroker, an in-memory outbox and
// a ManualTime.
#define BOOST_TEST_MODULE publish_pump
#include <boost/test/unit_test.hpp>

#include "common/json.h"
#include "session_rig.h"

using namespace gwd;
using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

std::string property(const FakePublish& p, const std::string& key) {
    for (const auto& kv : p.properties)
        if (kv.key == key) return kv.value;
    return "(none)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_window_bounds_what_is_unanswered) {
    SessionRig rig;
    for (int i = 0; i < 10; ++i) rig.queue(std::to_string(i));
    auto pump = rig.pump(window_of(4));
    BOOST_TEST(pump.fill());
    auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 4u);
    BOOST_TEST(sent[0].topic == "telemetry/gw-01/temp");
    BOOST_TEST(sent[0].payload == "0");
    BOOST_TEST(pump.in_flight() == 4u);
    BOOST_TEST(!pump.can_publish());  // the window is full

    BOOST_TEST(pump.completed(SessionRig::ack(sent[0].id)));
    BOOST_TEST(pump.completed(SessionRig::ack(sent[1].id)));
    BOOST_TEST(pump.can_publish());
    BOOST_TEST(pump.fill());
    BOOST_TEST(rig.broker->publishes().size() == 6u);
    BOOST_TEST(rig.outbox.stats().queued == 8u);
    BOOST_TEST(rig.snapshot().sent == 2u);
    BOOST_TEST(rig.snapshot().in_flight == 4);
}

BOOST_AUTO_TEST_CASE(everything_acknowledged_is_drained) {
    SessionRig rig;
    for (int i = 0; i < 3; ++i) rig.queue(std::to_string(i));
    auto pump = rig.pump(window_of(64));
    BOOST_TEST(pump.fill());
    BOOST_TEST(!pump.drained());
    for (const auto& p : rig.broker->publishes()) BOOST_TEST(pump.completed(SessionRig::ack(p.id)));
    BOOST_TEST(pump.drained());
    BOOST_TEST(rig.outbox.stats().queued == 0u);
    BOOST_TEST(rig.outbox.stats().delivered == 3u);
    // An acknowledgement that comes twice (sent again after a reconnect) counts once.
    rig.delivery.settle(SessionRig::ack(rig.broker->publishes()[0].id), std::nullopt);
    BOOST_TEST(rig.snapshot().sent == 3u);
}

BOOST_AUTO_TEST_CASE(a_refused_publish_goes_to_the_dead_letter_topic_and_holds_up_nothing) {
    SessionRig rig;
    for (int i = 0; i < 3; ++i) rig.queue(std::to_string(i));
    auto pump = rig.pump(window_of(64));
    BOOST_TEST(pump.fill());
    auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 3u);
    BOOST_TEST(pump.completed(SessionRig::refusal(sent[0].id, 0x87)));
    BOOST_TEST(pump.completed(SessionRig::ack(sent[1].id)));
    BOOST_TEST(pump.completed(SessionRig::ack(sent[2].id)));
    BOOST_TEST(pump.fill());
    sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 4u);
    BOOST_TEST(sent[3].topic == "deadletter/gw-01/temp");
    BOOST_TEST(sent[3].payload == "0");
    BOOST_TEST(property(sent[3], "reason_code") == "0x87");
    BOOST_TEST(rig.sink->contains("was the broker refused it: Not authorized (0x87); sent to the dead-letter topic"),
               rig.sink->text());
    BOOST_TEST(pump.completed(SessionRig::ack(sent[3].id)));
    BOOST_TEST(rig.snapshot().sent == 2u);
    BOOST_TEST(rig.snapshot().dead_lettered == 1u);
    BOOST_TEST(rig.snapshot().last_reason == 0x87);
    BOOST_TEST(pump.drained());
}

BOOST_AUTO_TEST_CASE(without_a_dead_letter_topic_a_refused_publish_is_dropped_and_counted) {
    auto upstream = rig_upstream();
    upstream.dead_letter_topic.clear();
    SessionRig rig(upstream);
    rig.queue("1");
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(pump.fill());
    BOOST_TEST(pump.completed(SessionRig::refusal(rig.broker->publishes()[0].id, 0x90)));
    BOOST_TEST(rig.snapshot().dropped == 1u);
    BOOST_TEST(rig.outbox.stats().discarded == 1u);
    BOOST_TEST(rig.sink->contains("dropped (no dead_letter_topic)"));
}

BOOST_AUTO_TEST_CASE(quota_exceeded_sends_it_again_a_second_later_not_before) {
    SessionRig rig;
    rig.queue("a");
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(pump.fill());
    const auto first = rig.broker->publishes()[0];
    BOOST_TEST(pump.completed(SessionRig::refusal(first.id, 0x97)));
    BOOST_TEST(rig.sink->contains("Quota exceeded (0x97); slowing down"), rig.sink->text());
    BOOST_TEST(rig.outbox.stats().queued == 1u);  // not its fault: it stays
    rig.time.advance(999ms);
    BOOST_TEST(!pump.can_publish());
    BOOST_TEST(pump.fill());
    BOOST_TEST(rig.broker->publishes().size() == 1u);
    rig.time.advance(1ms);
    BOOST_TEST(pump.can_publish());
    BOOST_TEST(pump.fill());
    const auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 2u);
    BOOST_TEST(sent[1].id == first.id);
    BOOST_TEST(sent[1].payload == "a");
    BOOST_TEST(pump.completed(SessionRig::ack(first.id)));
    BOOST_TEST(rig.snapshot().sent == 1u);
    BOOST_TEST(pump.drained());
}

BOOST_AUTO_TEST_CASE(a_reading_past_its_expiry_is_dropped_and_the_rest_carry_what_is_left) {
    auto upstream = rig_upstream();
    upstream.message_expiry = Duration(60000);
    SessionRig rig(upstream);
    rig.queue("old");
    rig.time.advance(40s);
    rig.queue("young");
    rig.time.advance(21s);  // "old" is 61 s old, "young" 21 s
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(pump.fill());
    const auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 1u);
    BOOST_TEST(sent[0].payload == "young");
    BOOST_TEST(sent[0].message_expiry_s == 39u);
    BOOST_TEST(rig.outbox.stats().expired == 1u);
    BOOST_TEST(rig.sink->contains("expired 1s before it could be sent; dropped"), rig.sink->text());
}

BOOST_AUTO_TEST_CASE(a_reading_over_the_brokers_maximum_packet_size_is_set_aside_without_its_payload) {
    SessionRig rig;
    rig.queue(std::string(500, 'x'));
    rig.queue("small");
    ConnectionLimits limits = window_of(8);
    limits.maximum_packet_size = 200;
    auto pump = rig.pump(limits);
    BOOST_TEST(pump.fill());
    const auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 2u);
    BOOST_TEST(sent[0].payload == "small");
    BOOST_TEST(sent[1].topic == "deadletter/gw-01/temp");
    BOOST_TEST(sent[1].payload.empty());
    BOOST_TEST(property(sent[1], "payload_size") == "500");
    BOOST_TEST(rig.sink->contains("larger than the broker's Maximum Packet Size of 200 bytes"), rig.sink->text());
}

BOOST_AUTO_TEST_CASE(a_reading_over_max_payload_is_set_aside_too) {
    auto upstream = rig_upstream();
    upstream.max_payload = 10;
    SessionRig rig(upstream);
    rig.queue("0123456789A");
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(pump.fill());
    BOOST_TEST(rig.sink->contains("larger than the platform's limit of 10 bytes (11 bytes)"), rig.sink->text());
    BOOST_TEST(rig.broker->publishes().size() == 1u);  // the dead letter, without its payload
}

BOOST_AUTO_TEST_CASE(a_topic_alias_replaces_a_topic_used_again) {
    SessionRig rig;
    for (int i = 0; i < 3; ++i) rig.queue(std::to_string(i));
    ConnectionLimits limits = window_of(8);
    limits.topic_alias_maximum = 5;
    auto pump = rig.pump(limits);
    BOOST_TEST(!pump.first_alias_use());
    BOOST_TEST(pump.fill());
    const auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 3u);
    // Aliases are handed out on a topic's second use: topic and alias once, then the alias alone.
    BOOST_TEST(sent[0].topic == "telemetry/gw-01/temp");
    BOOST_TEST(sent[0].topic_alias == 0);
    BOOST_TEST(sent[1].topic == "telemetry/gw-01/temp");
    BOOST_TEST(sent[1].topic_alias == 1);
    BOOST_TEST(sent[2].topic.empty());
    BOOST_TEST(sent[2].topic_alias == 1);
    BOOST_TEST(pump.first_alias_use().has_value());
    BOOST_TEST(rig.snapshot().topic_aliases == 1);
}

BOOST_AUTO_TEST_CASE(qos_and_retain_stay_within_what_connack_allowed) {
    auto upstream = rig_upstream();
    upstream.retain = true;
    SessionRig rig(upstream);
    rig.queue("1");
    ConnectionLimits limits = window_of(8);
    limits.qos = 0;
    limits.retain = false;
    auto pump = rig.pump(limits);
    BOOST_TEST(pump.fill());
    BOOST_TEST(rig.broker->publishes()[0].qos == 0);
    BOOST_TEST(!rig.broker->publishes()[0].retain);
}

BOOST_AUTO_TEST_CASE(a_publish_the_client_will_not_take_ends_the_connection_and_names_the_oldest) {
    SessionRig rig;
    rig.queue("1");
    rig.broker->set_publish_rc(-3);
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(!pump.fill());
    BOOST_TEST(pump.failure() == "publishing failed: fake error -3");
    BOOST_TEST(pump.oldest_in_flight().has_value());
    BOOST_TEST(rig.outbox.stats().queued == 1u);  // nothing lost
}

BOOST_AUTO_TEST_CASE(a_publish_that_fails_without_an_answer_marks_the_connection_unsound) {
    SessionRig rig;
    rig.queue("1");
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(pump.fill());
    const auto id = rig.broker->publishes()[0].id;
    BOOST_TEST(!pump.completed(PublishCompletion{1, id, false, -1, -3}));
    BOOST_TEST(pump.failure() == "a publish failed: fake error -3");
    BOOST_TEST((pump.oldest_in_flight() == std::optional<std::uint64_t>(id)));
    BOOST_TEST(rig.outbox.stats().queued == 1u);
}

BOOST_AUTO_TEST_CASE(the_pacer_holds_publishes_to_the_configured_rate) {
    auto upstream = rig_upstream();
    upstream.max_publish_rate = 2;
    SessionRig rig(upstream);
    for (int i = 0; i < 5; ++i) rig.queue(std::to_string(i));
    auto pump = rig.pump(window_of(64));
    BOOST_TEST(pump.fill());
    BOOST_TEST(rig.broker->publishes().size() == 2u);
    BOOST_TEST(!pump.can_publish());
    rig.time.advance(1001ms);
    BOOST_TEST(pump.fill());
    BOOST_TEST(rig.broker->publishes().size() == 4u);
}

// The oldest in flight each of three times the broker closed the
// connection, with nothing after it acknowledged: it goes aside.
BOOST_AUTO_TEST_CASE(a_message_the_broker_keeps_closing_the_connection_over_is_set_aside) {
    SessionRig rig;
    rig.queue("poison");
    std::vector<OutboxEntry> taken;
    rig.outbox.take(1, taken);
    const auto id = taken[0].id;
    rig.outbox.rewind();
    rig.delivery.connection_lost(id, false, -1, "connection lost");
    rig.delivery.connection_lost(id, false, -1, "connection lost");
    BOOST_TEST(rig.outbox.get(id) != nullptr);
    rig.delivery.connection_lost(id, false, -1, "connection lost");
    BOOST_TEST(rig.outbox.get(id) == nullptr);
    BOOST_TEST(rig.sink->contains("the oldest in flight each of the 3 times the broker closed the connection "
                                  "(last: connection lost); its topic may not be allowed by the broker's policy"),
               rig.sink->text());
    BOOST_TEST(rig.outbox.stats().queued == 1u);  // its dead letter
}

BOOST_AUTO_TEST_CASE(a_loss_that_excuses_the_message_starts_the_count_again) {
    SessionRig rig;
    rig.queue("innocent");
    std::vector<OutboxEntry> taken;
    rig.outbox.take(1, taken);
    const auto id = taken[0].id;
    rig.delivery.connection_lost(id, false, -1, "connection lost");
    rig.delivery.connection_lost(id, false, -1, "connection lost");
    rig.delivery.connection_lost(id, false, 0x8B, "Server shutting down");  // not the message's fault
    rig.delivery.connection_lost(id, false, -1, "connection lost");
    rig.delivery.connection_lost(id, true, -1, "connection lost");  // something after it got through
    rig.delivery.connection_lost(id, false, -1, "connection lost");
    BOOST_TEST(rig.outbox.get(id) != nullptr);
}

BOOST_AUTO_TEST_CASE(a_reading_the_platform_refused_after_delivery_goes_to_the_dead_letters) {
    SessionRig rig;
    auto m = std::make_shared<Message>();
    m->sensor = "temp";
    m->payload = "1";
    rig.delivery.refused_after_delivery(m, "the platform refused it: code 2404");
    BOOST_TEST(rig.snapshot().refused_by_platform == 1u);
    BOOST_TEST(rig.outbox.stats().queued == 1u);
    BOOST_TEST(rig.sink->contains("code 2404; sent to the dead-letter topic"), rig.sink->text());
}

namespace {

UpstreamConfig batching(size_t max_readings, std::uint64_t max_bytes = 64 * 1024,
                        std::chrono::milliseconds linger = 0ms) {
    UpstreamConfig u = rig_upstream();
    u.batch.max_readings = max_readings;
    u.batch.max_bytes = max_bytes;
    u.batch.linger = linger;
    return u;
}

// The payloads of a batch publish: each element's "payload".
std::vector<std::string> batch_payloads(const FakePublish& p) {
    std::string error;
    auto doc = json_parse(p.payload, error);
    std::vector<std::string> out;
    if (!doc || !doc->is_array()) return {"(not an array: " + p.payload + ")"};
    for (const auto& e : doc->as_array()) {
        const JsonValue* v = e.find("payload");
        out.push_back(v && v->is_string() ? v->as_string() : "(?)");
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_batch_carries_readings_of_one_topic_in_order_and_is_acknowledged_whole) {
    SessionRig rig(batching(3));
    for (int i = 0; i < 4; ++i) rig.queue("a" + std::to_string(i), "temp");
    rig.queue("b0", "hum");
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(pump.fill());
    auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 3u);  // temp a0..a2 (full), temp a3, hum b0
    BOOST_TEST(sent[0].topic == "telemetry/gw-01/temp");
    BOOST_TEST(batch_payloads(sent[0]) == (std::vector<std::string>{"a0", "a1", "a2"}));
    BOOST_TEST(sent[0].content_type.value_or("") == "application/json");
    BOOST_TEST(batch_payloads(sent[1]) == (std::vector<std::string>{"a3"}));  // alone, still an array
    BOOST_TEST(sent[2].topic == "telemetry/gw-01/hum");
    BOOST_TEST(batch_payloads(sent[2]) == (std::vector<std::string>{"b0"}));
    for (const auto& p : sent) BOOST_TEST(pump.completed(SessionRig::ack(p.id)));
    BOOST_TEST(pump.drained());
    BOOST_TEST(rig.outbox.stats().delivered == 5u);
    BOOST_TEST(rig.snapshot().sent == 5u);
}

BOOST_AUTO_TEST_CASE(properties_all_readings_share_go_on_the_publish_the_rest_stay_in_each_element) {
    SessionRig rig(batching(10));
    for (int i = 0; i < 2; ++i) {
        auto m = std::make_shared<Message>();
        m->sensor = "temp";
        m->instance = "field";
        m->payload = std::to_string(i);
        m->content_type = "text/plain";
        m->utf8 = true;
        m->properties = {{"site", "north"}, {"seq", std::to_string(i)}};
        m->accepted_ms = rig.time.wall_ms();
        rig.outbox.append(std::move(m));
    }
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(pump.fill());
    auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 1u);
    BOOST_TEST(property(sent[0], "site") == "north");
    BOOST_TEST(property(sent[0], "seq") == "(none)");
    BOOST_TEST(sent[0].payload.find(R"("properties":{"site":"north","seq":"1"})") != std::string::npos,
               sent[0].payload);
}

BOOST_AUTO_TEST_CASE(max_bytes_cuts_a_batch_and_the_rest_follows_in_order) {
    SessionRig rig(batching(100, 700));
    for (int i = 0; i < 6; ++i) rig.queue(std::string(150, static_cast<char>('a' + i)));
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(pump.fill());
    auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() >= 2u);
    std::string order;
    for (const auto& p : sent) {
        BOOST_TEST(p.payload.size() <= 700u, p.payload.size());
        for (const auto& payload : batch_payloads(p)) order += payload.front();
    }
    BOOST_TEST(order == "abcdef");
}

BOOST_AUTO_TEST_CASE(a_young_reading_lingers_for_company_an_old_one_does_not) {
    SessionRig rig(batching(3, 64 * 1024, 500ms));
    rig.queue("a0");
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(pump.readings_to_news() == 1u);
    BOOST_TEST(pump.fill());
    BOOST_TEST(rig.broker->publishes().empty());
    BOOST_TEST(!pump.can_publish());
    BOOST_REQUIRE(pump.linger_until().has_value());
    BOOST_TEST((*pump.linger_until() - rig.time.now() == 500ms));
    BOOST_TEST(pump.readings_to_news() == 2u);  // the session need not wake for one more
    rig.time.advance(200ms);
    rig.queue("a1");
    BOOST_TEST(pump.can_publish());  // the outbox has something new
    BOOST_TEST(pump.fill());
    BOOST_TEST(rig.broker->publishes().empty());  // two of three, and a0 has 300 ms left
    BOOST_TEST(pump.readings_to_news() == 1u);    // the next may fill it
    rig.queue("a2");
    BOOST_TEST(pump.fill());  // full: goes at once
    BOOST_REQUIRE(rig.broker->publishes().size() == 1u);
    BOOST_TEST(batch_payloads(rig.broker->publishes()[0]) == (std::vector<std::string>{"a0", "a1", "a2"}));

    rig.queue("a3");
    BOOST_TEST(pump.fill());
    BOOST_TEST(rig.broker->publishes().size() == 1u);
    rig.time.advance(500ms);
    BOOST_TEST(pump.can_publish());
    BOOST_TEST(pump.fill());
    BOOST_REQUIRE(rig.broker->publishes().size() == 2u);
    BOOST_TEST(batch_payloads(rig.broker->publishes()[1]) == (std::vector<std::string>{"a3"}));

    // A stop sends what lingers at once.
    rig.queue("a4");
    pump.stop_lingering();
    BOOST_TEST(pump.fill());
    BOOST_TEST(rig.broker->publishes().size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_lingering_topic_holds_up_no_other) {
    SessionRig rig(batching(2, 64 * 1024, 500ms));
    rig.queue("a0", "temp");
    rig.queue("b0", "hum");
    rig.queue("b1", "hum");
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(pump.fill());
    auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 1u);
    BOOST_TEST(batch_payloads(sent[0]) == (std::vector<std::string>{"b0", "b1"}));
    BOOST_TEST(!pump.can_publish());
    BOOST_TEST(pump.readings_to_news() == 1u);  // a0 lacks one
}

BOOST_AUTO_TEST_CASE(a_refused_batch_goes_to_the_dead_letters_whole) {
    SessionRig rig(batching(3));
    for (int i = 0; i < 3; ++i) rig.queue("a" + std::to_string(i));
    auto pump = rig.pump(window_of(8));
    BOOST_TEST(pump.fill());
    auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 1u);
    BOOST_TEST(pump.completed(SessionRig::refusal(sent[0].id, 0x87)));
    BOOST_TEST(pump.fill());
    sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 4u);  // dead letters go one by one
    for (int i = 1; i <= 3; ++i) {
        BOOST_TEST(sent[i].topic == "deadletter/gw-01/temp");
        BOOST_TEST(sent[i].payload == "a" + std::to_string(i - 1));
        BOOST_TEST(pump.completed(SessionRig::ack(sent[i].id)));
    }
    BOOST_TEST(rig.snapshot().dead_lettered == 3u);
    BOOST_TEST(rig.snapshot().sent == 0u);
    BOOST_TEST(pump.drained());
}

BOOST_AUTO_TEST_CASE(live_first_sends_new_readings_ahead_of_the_backlog_which_keeps_its_share) {
    UpstreamConfig u = rig_upstream();
    u.replay = ReplayOrder::live_first;
    u.replay_share = 0.5;
    SessionRig rig(u);
    for (int i = 0; i < 5; ++i) rig.queue("old" + std::to_string(i));
    auto pump = rig.pump(window_of(4));  // a new connection: what is queued is the backlog
    for (int i = 0; i < 3; ++i) rig.queue("new" + std::to_string(i));
    BOOST_TEST(pump.fill());
    auto payloads = [&] {
        std::vector<std::string> out;
        for (const auto& p : rig.broker->publishes()) out.push_back(p.payload);
        return out;
    };
    // Live first up to its half of the window, then the backlog's half.
    BOOST_TEST(payloads() == (std::vector<std::string>{"new0", "new1", "old0", "old1"}),
               boost::test_tools::per_element());
    const auto sent = rig.broker->publishes();
    BOOST_TEST(pump.completed(SessionRig::ack(sent[0].id)));  // new0
    BOOST_TEST(pump.fill());
    BOOST_TEST(payloads().back() == "new2");
    BOOST_TEST(pump.completed(SessionRig::ack(sent[2].id)));  // old0
    BOOST_TEST(pump.fill());
    BOOST_TEST(payloads().back() == "old2");
    // No live reading waits: the backlog takes the whole window.
    for (const auto& p : rig.broker->publishes())
        if (p.payload != "old2") pump.completed(SessionRig::ack(p.id));
    BOOST_TEST(pump.fill());
    BOOST_TEST(payloads() == (std::vector<std::string>{"new0", "new1", "old0", "old1", "new2", "old2", "old3", "old4"}),
               boost::test_tools::per_element());
    for (const auto& p : rig.broker->publishes()) pump.completed(SessionRig::ack(p.id));
    BOOST_TEST(pump.drained());
    BOOST_TEST(rig.outbox.stats().delivered == 8u);
}

BOOST_AUTO_TEST_CASE(oldest_first_is_one_lane_in_order) {
    SessionRig rig;
    for (int i = 0; i < 3; ++i) rig.queue("old" + std::to_string(i));
    auto pump = rig.pump(window_of(8));
    rig.queue("new0");
    BOOST_TEST(pump.fill());
    const auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 4u);
    BOOST_TEST(sent[0].payload == "old0");
    BOOST_TEST(sent[3].payload == "new0");
}
