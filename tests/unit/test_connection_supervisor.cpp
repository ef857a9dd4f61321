#define BOOST_TEST_MODULE connection_supervisor
#include <boost/test/unit_test.hpp>

#include <random>

#include "supervision/connection_supervisor.h"

using namespace gwd;
using namespace std::chrono_literals;
using Kind = SupervisorDecision::Kind;
using Clock = ConnectionSupervisor::Clock;

namespace {
SupervisorSettings settings() {
    SupervisorSettings s;
    s.backoff = BackoffConfig{Duration(100), Duration(10000), Duration(30000)};
    return s;
}

struct Fixture {
    explicit Fixture(SupervisorSettings s = settings(), std::uint64_t seed = 1)
        : rng(seed), supervisor(s, [this] { return uniform(rng); }) {}

    FailureEvent connack(int code, int version = 5) {
        FailureEvent e;
        e.failure = Failure{version, FailureSource::connack, code, {}, false};
        return e;
    }
    FailureEvent disconnect(int code, Duration age = 60s) {
        FailureEvent e;
        e.failure = Failure{5, FailureSource::disconnect, code, {}, false};
        e.connection_was_up = true;
        e.connection_age = age;
        return e;
    }
    FailureEvent dropped(Duration age) {
        FailureEvent e;
        e.failure = Failure{5, FailureSource::transport, -1, {}, false};
        e.connection_was_up = true;
        e.connection_age = age;
        return e;
    }
    FailureEvent refused_connection() {
        FailureEvent e;
        e.failure = Failure{5, FailureSource::transport, -1, {}, false};
        return e;
    }

    std::mt19937_64 rng;
    std::uniform_real_distribution<double> uniform{0.0, 1.0};
    ConnectionSupervisor supervisor;
    Clock::time_point now = Clock::time_point{} + 1h;
};
}  // namespace

BOOST_AUTO_TEST_CASE(authorization_failure_parks_after_one_connect) {
    Fixture f;
    f.supervisor.on_connect_sent(f.now);
    auto d = f.supervisor.on_failure(f.connack(0x87), f.now);
    BOOST_TEST((d.kind == Kind::park));
    BOOST_TEST((d.classification.failure_class == FailureClass::authorization));
    BOOST_TEST(!d.retry_after.has_value());
    BOOST_TEST(f.supervisor.parked());
    // MQTT 3.1.1 return code 5, the same.
    Fixture g;
    BOOST_TEST((g.supervisor.on_failure(g.connack(5, 4), g.now).kind == Kind::park));
}

BOOST_AUTO_TEST_CASE(time_derived_credentials_get_one_fresh_try) {
    auto s = settings();
    s.credentials_time_derived = true;
    Fixture f(s);
    auto first = f.supervisor.on_failure(f.connack(0x86), f.now);
    BOOST_TEST((first.kind == Kind::retry));
    BOOST_TEST(first.regenerate_credentials);
    BOOST_TEST(first.delay.count() == 0);
    auto second = f.supervisor.on_failure(f.connack(0x86), f.now + 1s);
    BOOST_TEST((second.kind == Kind::park));
    // After a good connection the fresh try is available again.
    f.supervisor.rearm();
    f.supervisor.on_connected(f.now + 2s);
    BOOST_TEST(f.supervisor.on_failure(f.connack(0x86), f.now + 3s).regenerate_credentials);
}

BOOST_AUTO_TEST_CASE(retry_after_auth_failure_when_configured) {
    auto s = settings();
    s.retry_after_auth_failure = Duration(3600000);
    Fixture f(s);
    auto d = f.supervisor.on_failure(f.connack(0x87), f.now);
    BOOST_TEST((d.kind == Kind::park));
    BOOST_TEST(d.retry_after->count() == 3600000);
}

BOOST_AUTO_TEST_CASE(throttling_waits_at_least_the_floor) {
    Fixture f;
    for (int code : {0x88, 0x89, 0x97, 0x9F}) {
        auto d = f.supervisor.on_failure(f.connack(code), f.now);
        BOOST_TEST((d.kind == Kind::retry));
        BOOST_TEST(d.delay.count() >= 30000, "0x" << std::hex << code);
    }
}

BOOST_AUTO_TEST_CASE(transient_failures_back_off_with_jitter_under_a_growing_ceiling) {
    Fixture f(settings(), 42);
    std::vector<long> delays;
    long ceiling = 100;
    for (int i = 0; i < 10; ++i) {
        auto d = f.supervisor.on_failure(f.refused_connection(), f.now);
        BOOST_TEST((d.kind == Kind::retry));
        BOOST_TEST(d.delay.count() <= ceiling);
        delays.push_back(d.delay.count());
        ceiling = std::min<long>(ceiling * 2, 10000);
    }
    // Full jitter: not a fixed ladder.
    BOOST_TEST((std::adjacent_find(delays.begin(), delays.end()) == delays.end()));
    // The same seed gives the same sequence.
    Fixture again(settings(), 42);
    for (long expected : delays)
        BOOST_TEST(again.supervisor.on_failure(again.refused_connection(), again.now).delay.count() == expected);
}

BOOST_AUTO_TEST_CASE(connects_are_at_least_a_second_apart) {
    Fixture f;
    BOOST_TEST(f.supervisor.connect_delay(f.now).count() == 0);
    f.supervisor.on_connect_sent(f.now);
    BOOST_TEST(f.supervisor.connect_delay(f.now + 300ms).count() == 700);
    BOOST_TEST(f.supervisor.connect_delay(f.now + 1s).count() == 0);
}

BOOST_AUTO_TEST_CASE(repeated_session_takeovers_stop_the_upstream) {
    Fixture f;
    BOOST_TEST((f.supervisor.on_failure(f.disconnect(0x8E), f.now).kind == Kind::retry));
    BOOST_TEST((f.supervisor.on_failure(f.disconnect(0x8E), f.now + 10s).kind == Kind::retry));
    auto d = f.supervisor.on_failure(f.disconnect(0x8E), f.now + 20s);
    BOOST_TEST((d.kind == Kind::park));
    BOOST_TEST(d.takeover_conflict);
    // Not for ever: a mistaken diagnosis must not keep a gateway offline.
    BOOST_TEST(d.retry_after->count() == 600000);
}

BOOST_AUTO_TEST_CASE(takeovers_spread_beyond_the_window_do_not) {
    Fixture f;
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST(
            (f.supervisor.on_failure(f.disconnect(0x8E), f.now + std::chrono::minutes(3 * i)).kind == Kind::retry));
    }
}

BOOST_AUTO_TEST_CASE(young_silent_drops_count_as_takeovers_but_not_on_a_stuck_message) {
    // Each drop is followed by a CONNECT that succeeds: the broker is up
    // and ends our connections on purpose.
    Fixture f;
    auto d = f.supervisor.on_failure(f.dropped(2s), f.now);
    BOOST_TEST((d.kind == Kind::retry));
    BOOST_TEST(d.delay.count() == 0);  // the probe goes out at once
    f.supervisor.on_connected(f.now + 1s);
    BOOST_TEST(f.supervisor.takeovers_in_window() == 1);
    BOOST_TEST((f.supervisor.on_failure(f.dropped(60s), f.now + 5s).kind == Kind::retry));  // old: not evidence
    f.supervisor.on_connected(f.now + 6s);
    BOOST_TEST(f.supervisor.takeovers_in_window() == 1);
    BOOST_TEST((f.supervisor.on_failure(f.dropped(3s), f.now + 10s).kind == Kind::retry));
    f.supervisor.on_connected(f.now + 11s);
    d = f.supervisor.on_failure(f.dropped(1s), f.now + 15s);
    BOOST_TEST((d.kind == Kind::park));
    BOOST_TEST((d.classification.failure_class == FailureClass::conflict));

    // The same message oldest in flight at every drop: the broker chokes on
    // it (an ACL or policy that closes the connection), no other client is
    // involved.
    Fixture g;
    for (int i = 0; i < 5; ++i) {
        auto stuck = g.dropped(1s);
        stuck.same_message_as_last_drop = i > 0;
        BOOST_TEST((g.supervisor.on_failure(stuck, g.now + std::chrono::seconds(i)).kind == Kind::retry));
        g.supervisor.on_connected(g.now + std::chrono::seconds(i) + 100ms);
    }
    BOOST_TEST(g.supervisor.takeovers_in_window() <= 1);
    // Another message oldest each time: the stream moved on between the
    // drops, so the connections worked until they were cut: a takeover.
    Fixture h;
    for (int i = 0; i < 3; ++i) {
        d = h.supervisor.on_failure(h.dropped(2s), h.now + std::chrono::seconds(i));
        h.supervisor.on_connected(h.now + std::chrono::seconds(i) + 100ms);
    }
    BOOST_TEST((d.kind == Kind::park));
}

BOOST_AUTO_TEST_CASE(a_crashing_broker_is_not_mistaken_for_a_twin_client) {
    // Killed and restarted again and again: each time the connection dies
    // young with no reason, and the CONNECT sent at once finds nobody
    // listening; the one after the backoff finds the broker back.
    Fixture f;
    for (int i = 0; i < 6; ++i) {
        auto cut = f.dropped(2s);
        const auto at = f.now + std::chrono::seconds(3 * i);
        const auto d = f.supervisor.on_failure(cut, at);
        BOOST_TEST((d.kind == Kind::retry));
        BOOST_TEST(d.delay.count() == 0);
        BOOST_TEST((f.supervisor.on_failure(f.refused_connection(), at + 10ms).kind == Kind::retry));
        f.supervisor.on_connected(at + 1s);
    }
    BOOST_TEST(f.supervisor.takeovers_in_window() == 0);
}

BOOST_AUTO_TEST_CASE(a_suspected_takeover_needs_the_reconnect_to_succeed) {
    // The drop, then a CONNACK refusal of another kind: not a takeover.
    Fixture f;
    f.supervisor.on_failure(f.dropped(2s), f.now);
    f.supervisor.on_failure(f.connack(0x88), f.now + 10ms);
    f.supervisor.on_connected(f.now + 5s);
    BOOST_TEST(f.supervisor.takeovers_in_window() == 0);
}

BOOST_AUTO_TEST_CASE(throttling_disconnects_ask_to_slow_down) {
    Fixture f;
    BOOST_TEST(f.supervisor.on_failure(f.disconnect(0x97), f.now).slow_down);
    BOOST_TEST(f.supervisor.on_failure(f.disconnect(0x96), f.now).slow_down);
    BOOST_TEST(!f.supervisor.on_failure(f.disconnect(0x88), f.now).slow_down);
}

BOOST_AUTO_TEST_CASE(the_connect_spacing_spans_a_replaced_session) {
    auto s = settings();
    s.last_connect = Clock::time_point{} + 1h;
    Fixture f(s);
    BOOST_TEST(f.supervisor.connect_delay(f.now + 200ms).count() == 800);
}

BOOST_AUTO_TEST_CASE(redirects) {
    auto s = settings();
    s.follow_server_reference = true;
    Fixture f(s);
    auto e = f.connack(0x9C);
    e.failure.has_server_reference = true;
    e.server_reference = "other:1884";
    auto d = f.supervisor.on_failure(e, f.now);
    BOOST_TEST(*d.redirect_to == "other:1884");
    BOOST_TEST(!d.redirect_is_permanent);
    e.failure.code = 0x9D;
    BOOST_TEST(f.supervisor.on_failure(e, f.now).redirect_is_permanent);
    // A redirect loop ends after redirect_limit hops.
    for (int i = 0; i < 3; ++i) f.supervisor.on_failure(e, f.now);
    BOOST_TEST(!f.supervisor.on_failure(e, f.now).redirect_to.has_value());

    Fixture not_following;  // follow_server_reference = false
    BOOST_TEST(!not_following.supervisor.on_failure(e, not_following.now).redirect_to.has_value());
}

BOOST_AUTO_TEST_CASE(topic_alias_refusal_turns_aliases_off) {
    Fixture f;
    BOOST_TEST(f.supervisor.topic_aliases_allowed());
    auto d = f.supervisor.on_failure(f.disconnect(0x94), f.now);
    BOOST_TEST(d.topic_aliases_off);
    BOOST_TEST(!f.supervisor.topic_aliases_allowed());
}

BOOST_AUTO_TEST_CASE(one_silent_drop_after_alias_use_leaves_aliases_on) {
    // A broker restart sends only a FIN: no evidence against aliases.
    Fixture f;
    auto drop = f.dropped(2s);
    drop.right_after_alias_use = true;
    auto d = f.supervisor.on_failure(drop, f.now);
    BOOST_TEST(!d.topic_aliases_suspended);
    BOOST_TEST(f.supervisor.topic_aliases_allowed());
    // A drop without alias use in between resets the count.
    f.supervisor.on_failure(f.dropped(2s), f.now + 1s);
    d = f.supervisor.on_failure(drop, f.now + 2s);
    BOOST_TEST(f.supervisor.topic_aliases_allowed());
}

BOOST_AUTO_TEST_CASE(two_silent_drops_in_a_row_after_alias_use_suspend_them_until_a_connection_stays_up) {
    Fixture f;
    auto drop = f.dropped(2s);
    drop.right_after_alias_use = true;
    f.supervisor.on_failure(drop, f.now);
    auto d = f.supervisor.on_failure(drop, f.now + 1s);
    BOOST_TEST(d.topic_aliases_suspended);
    BOOST_TEST(!d.topic_aliases_off);
    BOOST_TEST(!f.supervisor.topic_aliases_allowed());
    // A connection (without aliases) stays up past the young age: they come back.
    d = f.supervisor.on_failure(f.dropped(15s), f.now + 20s);
    BOOST_TEST(d.topic_aliases_back);
    BOOST_TEST(f.supervisor.topic_aliases_allowed());
    // A DISCONNECT with a reason is not a silent drop: no suspicion.
    auto with_reason = f.disconnect(0x8B, 2s);
    with_reason.right_after_alias_use = true;
    f.supervisor.on_failure(with_reason, f.now + 30s);
    f.supervisor.on_failure(with_reason, f.now + 31s);
    BOOST_TEST(f.supervisor.topic_aliases_allowed());
}

BOOST_AUTO_TEST_CASE(drops_a_refused_message_explains_do_not_count_against_aliases) {
    // A reading the broker refuses by closing (0x95 with the reason lost),
    // with aliases in use: the same message is oldest at every drop.
    Fixture f;
    auto drop = f.dropped(2s);
    drop.right_after_alias_use = true;
    for (int i = 0; i < 3; ++i) {
        drop.same_message_as_last_drop = i > 0;
        const auto d = f.supervisor.on_failure(drop, f.now + std::chrono::seconds(i));
        BOOST_TEST(!d.topic_aliases_suspended);
    }
    BOOST_TEST(f.supervisor.topic_aliases_allowed());
}

BOOST_AUTO_TEST_CASE(aliases_suspended_three_times_stay_off) {
    Fixture f;
    auto drop = f.dropped(2s);
    drop.right_after_alias_use = true;
    SupervisorDecision d;
    for (int round = 0; round < 3; ++round) {
        const auto at = f.now + std::chrono::minutes(round);
        f.supervisor.on_failure(drop, at);
        d = f.supervisor.on_failure(drop, at + 1s);
        BOOST_TEST(d.topic_aliases_suspended);
        f.supervisor.on_failure(f.dropped(15s), at + 20s);  // stayed up
    }
    BOOST_TEST(d.topic_aliases_off);
    BOOST_TEST(!f.supervisor.topic_aliases_allowed());
}

BOOST_AUTO_TEST_CASE(a_broker_that_needs_another_mqtt_version_parks_the_connection) {
    Fixture f;
    auto d = f.supervisor.on_failure(f.connack(0x84), f.now);
    BOOST_TEST((d.kind == Kind::park));
    BOOST_TEST((d.classification.failure_class == FailureClass::incompatible));
    BOOST_TEST(d.classification.advice == "the broker does not accept MQTT 5; set mqtt_version = 4 (MQTT 3.1.1)");
    // A 3.1.1-only broker answers an MQTT 5 CONNECT with 3.1.1's return code 1.
    Fixture g;
    d = g.supervisor.on_failure(g.connack(1), g.now);
    BOOST_TEST((d.kind == Kind::park));
    BOOST_TEST(d.classification.advice == "the broker speaks MQTT 3.1.1 only; set mqtt_version = 4");
    // Time-derived credentials are not tried again for it.
    auto s = settings();
    s.credentials_time_derived = true;
    Fixture h(s);
    d = h.supervisor.on_failure(h.connack(0x84), h.now);
    BOOST_TEST(!d.regenerate_credentials);
    BOOST_TEST((d.kind == Kind::park));
}

BOOST_AUTO_TEST_CASE(rearm_forgets_the_past) {
    Fixture f;
    f.supervisor.on_failure(f.connack(0x87), f.now);
    BOOST_TEST(f.supervisor.parked());
    f.supervisor.rearm();
    BOOST_TEST(!f.supervisor.parked());
    BOOST_TEST(f.supervisor.takeovers_in_window() == 0);
}

BOOST_AUTO_TEST_CASE(stable_connection_resets_the_backoff) {
    Fixture f;
    for (int i = 0; i < 8; ++i) f.supervisor.on_failure(f.refused_connection(), f.now);
    f.supervisor.on_connected(f.now);
    auto d = f.supervisor.on_failure(f.disconnect(0x8B, 60s), f.now + 60s);  // stayed up 60 s > stable_after
    BOOST_TEST(d.delay.count() <= 100);
}

BOOST_AUTO_TEST_CASE(server_references) {
    BOOST_TEST(*resolve_server_reference("tcp://a:1883", "b:1884") == "tcp://b:1884");
    BOOST_TEST(*resolve_server_reference("ssl://a:8883", "b") == "ssl://b:8883");
    BOOST_TEST(*resolve_server_reference("tcp://a:1883", " b:1 c:2 ") == "tcp://b:1");
    BOOST_TEST(*resolve_server_reference("tcp://a:1883", "[::1]:1885") == "tcp://[::1]:1885");
    BOOST_TEST(!resolve_server_reference("tcp://a:1883", ""));
    BOOST_TEST(!resolve_server_reference("tcp://a:1883", "b:99999"));
    BOOST_TEST(!resolve_server_reference("tcp://a:1883", "b:x"));
    BOOST_TEST(!resolve_server_reference("tcp://a:1883", "http://b/"));
}
