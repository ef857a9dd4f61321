// How and when a session connects (Connector): CONNECT settings, what
// CONNACK allowed, and the decision after each failure, with a ManualTime
// and a fixed random source. No broker, no sleep.
#define BOOST_TEST_MODULE connector
#include <boost/test/unit_test.hpp>

#include <deque>

#include "session_rig.h"
#include "upstream/profiles/credentials.h"
#include "upstream/session/connector.h"

using namespace gwd;
using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

// A credential source that expires, like a OneNET token.
class ExpiringCredentials final : public CredentialSource {
public:
    explicit ExpiringCredentials(const TimeSource& time) : time_(time) {}
    std::optional<Credentials> at(std::chrono::system_clock::time_point, std::string&) const override {
        Credentials c;
        c.client_id = "dev";
        c.password = "token";
        c.expires_at = time_.wall() + std::chrono::hours(1);
        return c;
    }
    bool time_derived() const override { return true; }

private:
    const TimeSource& time_;
};

struct ConnectorRig : SessionRig {
    explicit ConnectorRig(UpstreamConfig upstream = rig_upstream(), double jitter = 1.0)
        : SessionRig(std::move(upstream)), jitter(jitter) {}
    double jitter;
    Connector connector{{config, pacer, status, log, time},
                        std::make_unique<StaticCredentials>(config.client_id, "user", "secret", std::nullopt),
                        std::nullopt,
                        [this] { return jitter; }};
};

ConnectResult refused(int reason) {
    ConnectResult r;
    r.reason = reason;
    return r;
}

ConnectResult unreachable() {
    ConnectResult r;
    r.client_code = -1;
    r.message = "TCP/TLS connect failure";
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(connect_settings_come_from_the_configuration_and_the_credentials) {
    auto upstream = rig_upstream();
    upstream.keep_alive = Duration(30000);
    upstream.session_expiry = Duration(3600000);
    upstream.clean_start = false;
    ConnectorRig rig(upstream);
    const auto s = rig.connector.next_connect();
    BOOST_REQUIRE(s.has_value());
    BOOST_TEST(s->url == "tcp://127.0.0.1:1883");
    BOOST_TEST(s->client_id == "gw-01");
    BOOST_TEST(*s->username == "user");
    BOOST_TEST(*s->password == "secret");
    BOOST_TEST(s->keep_alive_s == 30);
    BOOST_TEST(s->session_expiry_s == 3600u);
    BOOST_TEST(!s->clean_start);
    BOOST_TEST(!s->tls);
}

BOOST_AUTO_TEST_CASE(an_authorization_refusal_costs_one_connect_then_waits_for_new_credentials) {
    ConnectorRig rig;
    rig.connector.connect_sent();
    const Connector::Next next = rig.connector.connect_failed(refused(0x87), 1);
    BOOST_TEST(next.parked);
    BOOST_TEST(rig.connector.parked());
    BOOST_TEST(!rig.connector.parked_retry_at());  // no timed retry configured
    const auto s = rig.snapshot();
    BOOST_TEST(s.attempts == 1u);
    BOOST_TEST(upstream_state_name(s.state) == "stopped");
    BOOST_TEST(s.stopped_reason.find("Not authorized (0x87)") != std::string::npos, s.stopped_reason);
    BOOST_TEST(rig.sink->contains("it tries again on SIGHUP (systemctl reload gatewayd)"), rig.sink->text());
    // The timed retry is not due (there is none); a file event with the same content changes nothing.
    BOOST_TEST(!rig.connector.try_rearm("", false));
    BOOST_TEST(!rig.connector.try_rearm("the password file changed", true));
    BOOST_TEST(rig.sink->contains("the credentials read the same; still stopped"));
    BOOST_TEST(rig.connector.parked());
    // SIGHUP re-arms whatever the files say.
    BOOST_TEST(rig.connector.try_rearm("SIGHUP", false));
    BOOST_TEST(!rig.connector.parked());
    BOOST_TEST(rig.sink->contains("trying again: SIGHUP"));
}

BOOST_AUTO_TEST_CASE(retry_after_auth_failure_tries_again_when_it_has_passed) {
    auto upstream = rig_upstream();
    upstream.retry_after_auth_failure = Duration(600000);
    ConnectorRig rig(upstream);
    rig.connector.connect_sent();
    BOOST_TEST(rig.connector.connect_failed(refused(0x86), 1).parked);
    BOOST_REQUIRE(rig.connector.parked_retry_at().has_value());
    BOOST_TEST((*rig.connector.parked_retry_at() - rig.time.now() == 600s));
    rig.time.advance(599s);
    BOOST_TEST(!rig.connector.try_rearm("", false));  // woken early
    rig.time.advance(1s);
    BOOST_TEST(rig.connector.try_rearm("", false));
    BOOST_TEST(rig.sink->contains("trying again: retry_after_auth_failure (10m) has passed"), rig.sink->text());
}

BOOST_AUTO_TEST_CASE(other_failures_back_off_exponentially_with_jitter) {
    auto upstream = rig_upstream();
    upstream.backoff.initial = Duration(1000);
    upstream.backoff.max = Duration(8000);
    ConnectorRig rig(upstream, 1.0);  // the top of each jitter range
    std::vector<long> waits;
    for (int i = 1; i <= 5; ++i) {
        rig.connector.connect_sent();
        const Connector::Next next = rig.connector.connect_failed(unreachable(), i);
        BOOST_TEST(!next.parked);
        waits.push_back(static_cast<long>(next.wait.count()));
        rig.time.advance(next.wait);
    }
    BOOST_TEST((waits == std::vector<long>{1000, 2000, 4000, 8000, 8000}));
    BOOST_TEST(upstream_state_name(rig.snapshot().state) == "backoff");

    ConnectorRig low(upstream, 0.25);  // full jitter: anywhere from 0 to the ceiling
    low.connector.connect_sent();
    BOOST_TEST(low.connector.connect_failed(unreachable(), 1).wait.count() == 250);
}

BOOST_AUTO_TEST_CASE(the_first_failure_warns_and_repeats_say_so_at_most_once_a_minute) {
    ConnectorRig rig(rig_upstream(), 0.0);
    for (int i = 1; i <= 5; ++i) {
        rig.connector.connect_sent();
        rig.connector.connect_failed(unreachable(), i);
        rig.time.advance(1s);
    }
    const std::string text = rig.sink->text();
    size_t warnings = 0;
    for (size_t at = text.find("warning"); at != std::string::npos; at = text.find("warning", at + 1)) ++warnings;
    BOOST_TEST(warnings == 1u, text);
    rig.time.advance(60s);
    rig.connector.connect_sent();
    rig.connector.connect_failed(unreachable(), 6);
    BOOST_TEST(rig.sink->contains("(5 attempts failed since the last line)"), rig.sink->text());
}

BOOST_AUTO_TEST_CASE(connack_sets_the_window_qos_retain_and_aliases) {
    auto upstream = rig_upstream();
    upstream.topic_alias = true;
    upstream.retain = true;
    ConnectorRig rig(upstream);
    ConnackInfo c;
    c.receive_maximum = 10;
    c.maximum_qos = 0;
    c.retain_available = false;
    c.topic_alias_maximum = 7;
    c.maximum_packet_size = 4096;
    const auto s = rig.connector.next_connect();
    const ConnectionLimits limits = rig.connector.connected(c, *s);
    BOOST_TEST(limits.window == 10u);
    BOOST_TEST(limits.qos == 0);
    BOOST_TEST(!limits.retain);
    BOOST_TEST(limits.topic_alias_maximum == 7);
    BOOST_TEST(limits.maximum_packet_size == 4096u);
    BOOST_TEST(rig.sink->contains("the broker allows QoS 0 only"));
    BOOST_TEST(rig.sink->contains("the broker does not support retained messages"));
    BOOST_TEST(rig.sink->contains("up to 10 publishes in flight, 7 topic aliases, packets up to 4096 bytes"),
               rig.sink->text());
    BOOST_TEST(rig.snapshot().window == 10);
}

BOOST_AUTO_TEST_CASE(an_assigned_client_id_is_used_from_then_on) {
    ConnectorRig rig;
    ConnackInfo c;
    c.assigned_client_id = "auto-123";
    rig.connector.connected(c, *rig.connector.next_connect());
    BOOST_TEST(rig.connector.next_connect()->client_id == "auto-123");
    BOOST_TEST(rig.snapshot().client_id == "auto-123");
}

BOOST_AUTO_TEST_CASE(a_shorter_server_keep_alive_costs_one_reconnect_then_is_used) {
    ConnectorRig rig;  // keep alive 60 s
    ConnackInfo c;
    c.server_keep_alive = 20;
    BOOST_TEST(rig.connector.keep_alive_too_long(c));
    BOOST_TEST(rig.connector.next_connect()->keep_alive_s == 20);
    BOOST_TEST(!rig.connector.keep_alive_too_long(c));
    c.server_keep_alive = 120;  // longer: pinging more often is harmless
    BOOST_TEST(!rig.connector.keep_alive_too_long(c));
}

BOOST_AUTO_TEST_CASE(a_server_reference_is_followed_only_when_allowed) {
    auto upstream = rig_upstream();
    upstream.follow_server_reference = true;
    ConnectorRig rig(upstream);
    ConnectResult moved = refused(0x9C);
    moved.connack.server_reference = "other.example:1884";
    rig.connector.connect_sent();
    const Connector::Next next = rig.connector.connect_failed(moved, 1);
    BOOST_TEST(!next.parked);
    BOOST_TEST(next.wait.count() == 0);
    BOOST_TEST(rig.connector.next_connect()->url == "tcp://other.example:1884");
    // "Use another server" was for that attempt: after the next failure it goes home.
    rig.connector.connect_sent();
    rig.connector.connect_failed(unreachable(), 1);
    BOOST_TEST(rig.connector.next_connect()->url == "tcp://127.0.0.1:1883");

    ConnectorRig stay(rig_upstream());
    stay.connector.connect_sent();
    stay.connector.connect_failed(moved, 1);
    BOOST_TEST(stay.connector.next_connect()->url == "tcp://127.0.0.1:1883");
    BOOST_TEST(stay.sink->contains("not following it (set follow_server_reference = true to allow)"),
               stay.sink->text());
}

BOOST_AUTO_TEST_CASE(connects_stay_a_second_apart) {
    ConnectorRig rig;
    BOOST_TEST(rig.connector.connect_spacing().count() == 0);
    rig.connector.connect_sent();
    BOOST_TEST(rig.connector.connect_spacing().count() == 1000);
    rig.time.advance(400ms);
    BOOST_TEST(rig.connector.connect_spacing().count() == 600);
}

BOOST_AUTO_TEST_CASE(a_time_limited_token_is_renewed_before_it_expires) {
    ConnectorRig rig;
    Connector expiring({rig.config, rig.pacer, rig.status, rig.log, rig.time},
                       std::make_unique<ExpiringCredentials>(rig.time), std::nullopt, [] { return 1.0; });
    BOOST_TEST(!rig.connector.renew_at());
    BOOST_REQUIRE(expiring.next_connect().has_value());
    const auto renew = expiring.renew_at();
    BOOST_REQUIRE(renew.has_value());
    BOOST_TEST((*renew - rig.time.now() == std::chrono::minutes(59)));  // a minute before the hour is up
}

BOOST_AUTO_TEST_CASE(a_lost_connection_is_classified_logged_and_backed_off) {
    ConnectorRig rig(rig_upstream(), 1.0);
    ConnackInfo c;
    rig.connector.connect_sent();
    rig.connector.connected(c, *rig.connector.next_connect());
    Connector::Loss loss;
    loss.cause = "connection lost";
    loss.connected_at = rig.time.now();
    loss.oldest_unanswered = 7;
    rig.time.advance(60s);
    const Connector::Next next = rig.connector.connection_lost(loss, 1);
    BOOST_TEST(!next.parked);
    BOOST_TEST(rig.snapshot().last_error == "connection lost");
    BOOST_TEST(
        rig.sink->contains("connection to tcp://127.0.0.1:1883 lost: connection lost [transient]; retrying in 1s"),
        rig.sink->text());
}
