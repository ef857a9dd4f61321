// The whole session on its own thread against a FakeBroker and an
// in-memory outbox: what the rooms do together, without a process or a
// broker. Waits are on the fake's progress, bounded.
#define BOOST_TEST_MODULE upstream_session
#include <boost/test/unit_test.hpp>

#include <thread>

#include "session_rig.h"
#include "upstream/profiles/credentials.h"
#include "upstream/session.h"

using namespace gwd;
using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

struct Running {
    explicit Running(UpstreamConfig upstream = fast_upstream()) : config(std::move(upstream)) {
        Profile profile;
        profile.credentials =
            std::make_unique<StaticCredentials>(config.client_id, std::nullopt, std::nullopt, std::nullopt);
        profile.codec = std::make_unique<MqttUplinkCodec>(config, "gw-01", std::map<std::string, std::string>{});
        session = std::make_unique<UpstreamSession>(config, outbox, std::move(profile), nullptr,
                                                    Logger(sink, LogLevel::debug), fake_transport(broker));
    }
    ~Running() { session->stop(std::chrono::steady_clock::now(), false); }

    static UpstreamConfig fast_upstream() {
        UpstreamConfig u = rig_upstream();
        u.backoff.initial = Duration(1);
        u.backoff.max = Duration(5);
        return u;
    }
    void queue(int n) {
        for (int i = 0; i < n; ++i) {
            auto m = std::make_shared<Message>();
            m->sensor = "temp";
            m->instance = "field";
            m->payload = std::to_string(next++);
            m->accepted_ms = system_time().wall_ms();
            outbox.append(std::move(m));
        }
    }
    // Waits (bounded) until the outbox holds `n` entries.
    bool queued_is(std::uint64_t n) {
        for (int i = 0; i < 2000; ++i) {
            if (outbox.stats().queued == n) return true;
            std::this_thread::sleep_for(5ms);
        }
        return false;
    }

    UpstreamConfig config;
    MemoryOutbox outbox{1 << 20, OverflowPolicy::drop_oldest};
    std::shared_ptr<FakeBroker> broker = std::make_shared<FakeBroker>();
    std::shared_ptr<MemorySink> sink = std::make_shared<MemorySink>();
    std::unique_ptr<UpstreamSession> session;
    int next = 0;
};

ConnectResult refused(int reason) {
    ConnectResult r;
    r.reason = reason;
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(queued_readings_go_out_and_leave_the_outbox_when_acknowledged) {
    Running r;
    r.queue(5);
    r.session->start();
    BOOST_REQUIRE(r.broker->wait_for_publishes(5));
    for (const auto& p : r.broker->publishes()) r.broker->acknowledge(p.id);
    BOOST_TEST(r.queued_is(0));
    r.session->stop(std::chrono::steady_clock::now() + 5s, false);
    BOOST_TEST(r.session->status().sent == 5u);
    BOOST_TEST(r.broker->connects() == 1);
}

BOOST_AUTO_TEST_CASE(a_lost_connection_sends_the_unacknowledged_again_and_loses_nothing) {
    Running r;
    r.queue(3);
    r.session->start();
    BOOST_REQUIRE(r.broker->wait_for_publishes(3));
    const auto first = r.broker->publishes();
    r.broker->acknowledge(first[0].id);
    r.broker->drop_connection();
    BOOST_REQUIRE(r.broker->wait_for_connects(2));
    BOOST_REQUIRE(r.broker->wait_for_publishes(5));
    const auto all = r.broker->publishes();
    BOOST_TEST(all[3].payload == "1");  // the two unacknowledged, again, in order
    BOOST_TEST(all[4].payload == "2");
    r.broker->acknowledge(all[3].id);
    r.broker->acknowledge(all[4].id);
    BOOST_TEST(r.queued_is(0));
    r.session->stop(std::chrono::steady_clock::now() + 5s, false);
    BOOST_TEST(r.session->status().sent == 3u);
    BOOST_TEST(r.sink->contains("lost: connection lost"), r.sink->text());
}

BOOST_AUTO_TEST_CASE(an_authorization_refusal_costs_exactly_one_connect) {
    Running r;
    r.broker->answer_next_connects({refused(0x87)});
    r.queue(2);
    r.session->start();
    BOOST_REQUIRE(r.broker->wait_for_connects(1));
    // Any retry would come within the one-second spacing plus backoff (5 ms at most here).
    BOOST_TEST(!r.broker->wait_for_connects(2, 1500ms));
    BOOST_TEST(upstream_state_name(r.session->status().state) == "stopped");
    BOOST_TEST(r.outbox.stats().queued == 2u);  // kept for when the credentials are fixed
    // SIGHUP: one more CONNECT, accepted this time, and the readings go.
    r.session->rearm("SIGHUP", false);
    BOOST_REQUIRE(r.broker->wait_for_publishes(2));
    BOOST_TEST(r.broker->connects() == 2);
}

BOOST_AUTO_TEST_CASE(at_stop_the_queue_drains_before_the_deadline) {
    Running r;
    r.queue(4);
    r.session->start();
    BOOST_REQUIRE(r.broker->wait_for_publishes(4));
    std::thread acks([&] {
        for (const auto& p : r.broker->publishes()) r.broker->acknowledge(p.id);
    });
    r.session->stop(std::chrono::steady_clock::now() + 10s, false);
    acks.join();
    BOOST_TEST(r.outbox.stats().queued == 0u);
    BOOST_TEST(!r.sink->contains("stop deadline reached"), r.sink->text());
}

BOOST_AUTO_TEST_CASE(a_stop_deadline_leaves_the_unacknowledged_queued) {
    Running r;
    r.queue(2);
    r.session->start();
    BOOST_REQUIRE(r.broker->wait_for_publishes(2));
    r.session->stop(std::chrono::steady_clock::now() + 100ms, false);
    BOOST_TEST(r.outbox.stats().queued == 2u);
    BOOST_TEST(r.sink->contains("stop deadline reached with 2 publishes still unacknowledged"), r.sink->text());
}
