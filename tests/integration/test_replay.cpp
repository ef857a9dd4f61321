// After an outage: with replay = "live-first", readings that come while the
// backlog drains overtake it, each lane keeps its order and nothing is lost;
// with the default "oldest-first" they wait behind it. The cloud is stopped
// and started again (its subscriber keeps a persistent session), the backlog
// drains at max_publish_rate (50/s) so it outlasts the new readings, and every step
// waits for progress, never for time.
#define BOOST_TEST_MODULE replay
#include <boost/test/unit_test.hpp>

#include "durable_cloud.h"
#include "emitter_gate.h"
#include "gatewayd_process.h"

using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

constexpr int kBacklog = 600;
constexpr int kLive = 20;

struct Outcome {
    std::vector<std::string> order;  // "old:N" / "new:N" as they arrived
    size_t backlog_before_last_live = 0;
};

// Queues kBacklog readings while the cloud is away, brings it back, and once
// gatewayd is online again and the backlog is still draining, emits kLive
// new readings.
Outcome run(const std::string& replay) {
    TempDir dir;
    Cloud cloud(dir);
    Gate old_gate(dir, "old-gate"), new_gate(dir, "new-gate");
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) + gated_emitter("old", old_gate, kBacklog) +
                                gated_emitter("new", new_gate, kLive) + "[[upstream]]\nname = \"cloud\"\nurl = \"" +
                                cloud.broker().url() + "\"\nclient_id = \"gw-01\"\nmax_publish_rate = 50\n" + replay +
                                "[upstream.backoff]\ninitial = \"100ms\"\nmax = \"500ms\"\n");
    GWD_REQUIRE(gw.wait_for_log("connected to " + cloud.broker().url(), 15s), gw.log());
    cloud.broker().stop();
    old_gate.open_to(kBacklog);
    GWD_REQUIRE(eventually([&] { return upstream_number(dir, "cloud", "queued") == kBacklog; }, 30s), gw.log());
    cloud.broker().start();
    // Online again, with most of the backlog still to go (50 publishes/s);
    // the application's session keeps what arrives before it is back.
    GWD_REQUIRE(eventually([&] { return upstream_number(dir, "cloud", "sent") >= 1; }, 30s), gw.log());
    BOOST_REQUIRE_MESSAGE(
        upstream_number(dir, "cloud", "queued") > kBacklog / 2,
        "the backlog drained before the test could emit: queued " << upstream_number(dir, "cloud", "queued"));
    new_gate.open_to(kLive);
    cloud.wait_until_the_application_is_back();
    GWD_REQUIRE(eventually([&] { return upstream_number(dir, "cloud", "sent") == kBacklog + kLive; }, 60s),
                "sent " << upstream_number(dir, "cloud", "sent") << "\n"
                        << gw.log());
    GWD_REQUIRE(eventually(
                    [&] {
                        return cloud.subscriber().on_topic("telemetry/gw-01/old").size() >= kBacklog &&
                               cloud.subscriber().on_topic("telemetry/gw-01/new").size() >= kLive;
                    },
                    30s),
                "arrived: old " << cloud.subscriber().on_topic("telemetry/gw-01/old").size() << ", new "
                                << cloud.subscriber().on_topic("telemetry/gw-01/new").size());
    Outcome o;
    size_t old_seen = 0;
    for (const auto& m : cloud.subscriber().messages()) {
        if (m.topic == "telemetry/gw-01/old") {
            o.order.push_back("old:" + m.payload);
            ++old_seen;
        } else if (m.topic == "telemetry/gw-01/new") {
            o.order.push_back("new:" + m.payload);
            o.backlog_before_last_live = old_seen;
        }
    }
    BOOST_TEST(gw.stop().value_or(-1) == 0);
    return o;
}

// Each lane in order, every reading exactly once.
void check_lanes(const Outcome& o) {
    int next_old = 0, next_new = 0;
    for (const auto& item : o.order) {
        if (item.starts_with("old:"))
            BOOST_TEST(item == "old:" + std::to_string(next_old++));
        else
            BOOST_TEST(item == "new:" + std::to_string(next_new++));
    }
    BOOST_TEST(next_old == kBacklog);
    BOOST_TEST(next_new == kLive);
}

}  // namespace

BOOST_AUTO_TEST_CASE(live_first_new_readings_overtake_the_backlog) {
    const Outcome o = run("replay = \"live-first\"\nreplay_share = 0.5\n");
    check_lanes(o);
    // The new readings went while the backlog still drained.
    BOOST_TEST(o.backlog_before_last_live < static_cast<size_t>(kBacklog));
    BOOST_TEST_MESSAGE("live-first: the last of " << kLive << " new readings arrived after "
                                                  << o.backlog_before_last_live << " of " << kBacklog
                                                  << " backlog readings");
}

BOOST_AUTO_TEST_CASE(oldest_first_new_readings_wait_behind_the_backlog) {
    const Outcome o = run("");
    check_lanes(o);
    BOOST_TEST(o.backlog_before_last_live == static_cast<size_t>(kBacklog));
    BOOST_TEST_MESSAGE("oldest-first: the new readings arrived after all " << kBacklog << " backlog readings");
}
