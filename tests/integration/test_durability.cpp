// The durable outbox against real processes: a real mosquitto killed and
// restarted under load, gatewayd itself killed with SIGKILL while sensors
// keep publishing, a long outage drained in order, the byte budget, expiry.
// Every reading carries a unique sequence number; each test prints its figures.
#define BOOST_TEST_MODULE durability
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <algorithm>
#include <optional>
#include <atomic>
#include <thread>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"

using namespace gwd::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// The "cloud": a mosquitto whose database holds a persistent subscriber's
// session (saved by one graceful restart, with autosave off), so even after
// SIGKILL the restarted broker has the subscription before gatewayd is back,
// and nothing published to it while the test application is away is missed.
// max_inflight_messages 0: the broker forwards at once, so what it
// acknowledged to gatewayd is already on its way to the subscriber.
class Cloud {
public:
    explicit Cloud(const TempDir& dir)
        : db_((std::filesystem::create_directories(dir.path() / "cloud-db"), dir.path() / "cloud-db")),
          broker_("persistence true\npersistence_location " + db_.string() +
                  "/\nautosave_interval 0\nmax_inflight_messages 0\n") {
        SubscriberOptions o;
        o.client_id = "cloud-app";
        o.persistent = true;
        o.auto_reconnect = true;
        subscriber_ = std::make_unique<TestSubscriber>(broker_.url(), std::vector<std::string>{"telemetry/#", "probe/#"}, o);
        broker_.stop();  // SIGTERM: the session is saved
        broker_.start();
        wait_until_the_application_is_back();
    }

    // After a restart the application reconnects within seconds; a probe
    // message says when it is receiving again.
    void wait_until_the_application_is_back() {
        const size_t probes = subscriber_->on_topic("probe/x").size();
        TestPublisher probe(broker_.url());
        probe.publish("probe/x", "-1");
        BOOST_REQUIRE(eventually([&] { return subscriber_->on_topic("probe/x").size() > probes; }, 20s));
    }

    Mosquitto& broker() { return broker_; }
    TestSubscriber& subscriber() { return *subscriber_; }

private:
    std::filesystem::path db_;
    Mosquitto broker_;
    std::unique_ptr<TestSubscriber> subscriber_;
};

std::string emitter(const std::string& name, const std::string& options, const std::string& sensor_extra = "") {
    return "[[sensor]]\nname = \"" + name + "\"\nplugin = \"test_emitter\"\n" + sensor_extra + "[sensor.options]\n" +
           options + "\n\n";
}

std::string upstream(const std::string& url, const std::string& extra = "") {
    return "[[upstream]]\nname = \"cloud\"\nurl = \"" + url + "\"\nclient_id = \"gw-01\"\n" + extra +
           "[upstream.backoff]\ninitial = \"100ms\"\nmax = \"500ms\"\n";
}

struct Tally {
    size_t unique = 0;
    size_t duplicates = 0;
    std::vector<int> missing;  // the first few
    bool in_order = true;      // first arrivals strictly increasing
};

// Counts sequence numbers 0..n-1 in the payloads of `messages`.
Tally tally(const std::vector<ReceivedMessage>& messages, int n) {
    Tally t;
    std::vector<int> seen(static_cast<size_t>(n), 0);
    int last_first_arrival = -1;
    for (const auto& m : messages) {
        if (m.topic.rfind("telemetry/", 0) != 0) continue;  // probes
        const int seq = std::stoi(m.payload);
        if (seq < 0 || seq >= n) continue;
        if (seen[static_cast<size_t>(seq)]++ == 0) {
            ++t.unique;
            if (seq < last_first_arrival) t.in_order = false;
            last_first_arrival = seq;
        } else {
            ++t.duplicates;
        }
    }
    for (int i = 0; i < n && t.missing.size() < 10; ++i)
        if (seen[static_cast<size_t>(i)] == 0) t.missing.push_back(i);
    return t;
}

std::string tail(const std::string& text, size_t n = 4000) { return text.size() > n ? text.substr(text.size() - n) : text; }

std::string list(const std::vector<int>& v) {
    std::string out;
    for (int x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
    return out;
}

// A number from the upstream's status, or -1.
long long upstream_number(const TempDir& dir, const char* key) {
    auto status = daemon_status(dir);
    if (!status) return -1;
    const gwd::JsonValue* u = upstream_status(*status, "cloud");
    if (u == nullptr) return -1;
    const gwd::JsonValue* v = u->find(key);
    return v != nullptr && v->is_number() ? static_cast<long long>(v->as_number().value) : -1;
}

}  // namespace

// mosquitto keeps what it queues for a subscriber in memory: a SIGKILL loses
// messages it has acknowledged but not yet forwarded, which is the broker's
// loss, not gatewayd's. So the stream is paced (max_publish_rate, a feature
// users have too) below what the test application consumes, and each kill
// waits until the application has caught up with what gatewayd was told is
// delivered. What remains is gatewayd's own duty: nothing it still held may
// be lost across the kills.
BOOST_AUTO_TEST_CASE(broker_killed_five_times_under_load_loses_nothing) {
    TempDir dir;
    Cloud cloud(dir);
    const int n = 100000;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter("meter", "count = " + std::to_string(n) + "\npayload = \"{seq}\"") +
                                upstream(cloud.broker().url(), "max_publish_rate = 4000\n"));
    const auto started = Clock::now();
    long long sent_at_kills = 0;
    for (int kill = 1; kill <= 5; ++kill) {
        // A sixth of the stream through, and the application caught up.
        const size_t target = static_cast<size_t>(n) * static_cast<size_t>(kill) / 6;
        BOOST_REQUIRE_MESSAGE(eventually(
                                  [&] {
                                      const Tally t = tally(cloud.subscriber().messages(), n);
                                      const long long sent = upstream_number(dir, "delivered");
                                      return t.unique >= target && sent >= 0 &&
                                             sent - static_cast<long long>(t.unique) <= 500;
                                  },
                                  60s),
                              "only " << cloud.subscriber().count() << " arrived before kill " << kill << "\n"
                                      << tail(gw.log()));
        sent_at_kills = upstream_number(dir, "delivered");
        cloud.broker().kill();
        std::this_thread::sleep_for(300ms);
        cloud.broker().start();
    }
    BOOST_REQUIRE_MESSAGE(eventually([&] { return tally(cloud.subscriber().messages(), n).unique == n; }, 120s),
                          "missing: " << list(tally(cloud.subscriber().messages(), n).missing) << "\n"
                                      << tail(gw.log()));
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    const Tally t = tally(cloud.subscriber().messages(), n);
    BOOST_TEST(t.unique == static_cast<size_t>(n));
    BOOST_TEST(sent_at_kills < n);  // the last kill really was mid-stream
    BOOST_TEST_MESSAGE("broker SIGKILLed 5 times during " << n << " QoS 1 readings: " << t.unique << "/" << n
                                                          << " arrived, " << t.duplicates << " duplicates, "
                                                          << seconds << " s in all");
    BOOST_TEST(gw.process().running());
}

BOOST_AUTO_TEST_CASE(gatewayd_killed_twice_while_sensors_publish_loses_nothing) {
    TempDir dir;
    Mosquitto local;  // the broker on the box the sensors publish to
    Mosquitto cloud;
    TestSubscriber app(cloud.url(), {"telemetry/#"});
    const std::string config = gateway_section(dir, all_plugins(dir)) +
                               "[[sensor]]\nname = \"field\"\nplugin = \"mqtt_local\"\n[sensor.options]\n"
                               "url = \"" + local.url() + "\"\ntopics = [\"sensors/#\"]\nname_from = \"sensor\"\n\n" +
                               upstream(cloud.url());
    auto gw = std::make_unique<GatewaydProcess>(dir, config, "gatewayd-1");
    BOOST_REQUIRE_MESSAGE(gw->wait_for_log("subscribed to 1 topic filters", 15s), gw->log());

    const int n = 30000;
    std::atomic<int> published{0};
    std::thread sensors([&] {
        TestPublisher publisher(local.url());
        for (int i = 0; i < n; ++i) {
            publisher.publish("sensors/gw-01/s" + std::to_string(i % 7), std::to_string(i));
            ++published;
        }
    });
    std::string logs;
    for (int kill = 1; kill <= 2; ++kill) {
        BOOST_REQUIRE(eventually([&] { return published.load() >= n * kill / 3; }, 60s));
        gw->process().signal(SIGKILL);
        gw->process().wait(5s);
        logs += gw->log();
        std::this_thread::sleep_for(300ms);  // sensors keep publishing meanwhile
        gw = std::make_unique<GatewaydProcess>(dir, config, "gatewayd-" + std::to_string(kill + 1));
    }
    sensors.join();
    BOOST_REQUIRE_MESSAGE(eventually([&] { return tally(app.messages(), n).unique == n; }, 60s),
                          "missing: " << list(tally(app.messages(), n).missing) << "\n" << tail(gw->log()));
    const Tally t = tally(app.messages(), n);
    BOOST_TEST(t.unique == static_cast<size_t>(n));
    BOOST_TEST_MESSAGE("gatewayd SIGKILLed twice while sensors published " << n << " QoS 1 messages: " << t.unique
                                                                           << "/" << n << " arrived upstream, "
                                                                           << t.duplicates << " duplicates");
    BOOST_TEST(gw->log().find("resumed the session") != std::string::npos, gw->log());
}

BOOST_AUTO_TEST_CASE(a_long_outage_drains_in_order_at_full_speed) {
    TempDir dir;
    Cloud cloud(dir);
    cloud.broker().stop();
    const int n = 50000;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter("meter", "count = " + std::to_string(n) + "\npayload = \"{seq}\"") +
                                upstream(cloud.broker().url()));
    BOOST_REQUIRE_MESSAGE(eventually([&] { return upstream_number(dir, "queued") == n; }, 60s), gw.log());
    cloud.broker().start();
    // The drain as gatewayd sees it: from the first acknowledgement to the last.
    std::optional<Clock::time_point> first, last;
    for (int i = 0; i < 2400 && !last; ++i) {
        const long long queued = upstream_number(dir, "queued");
        if (!first && queued >= 0 && queued < n) first = Clock::now();
        if (queued == 0) last = Clock::now();
        std::this_thread::sleep_for(25ms);
    }
    BOOST_REQUIRE_MESSAGE(first && last, tail(gw.log()));
    BOOST_REQUIRE_MESSAGE(cloud.subscriber().wait_for(static_cast<size_t>(n), 120s),
                          cloud.subscriber().count() << " arrived\n" << tail(gw.log()));
    const double seconds = std::max(0.025, std::chrono::duration<double>(*last - *first).count());
    const Tally t = tally(cloud.subscriber().messages(), n);
    BOOST_TEST(t.unique == static_cast<size_t>(n));
    BOOST_TEST(t.in_order);
    BOOST_TEST_MESSAGE(n << " readings queued during the outage drained in " << seconds << " s: "
                         << static_cast<int>(n / seconds) << " readings/s, in order: " << (t.in_order ? "yes" : "no")
                         << ", duplicates " << t.duplicates);
    BOOST_TEST(eventually([&] { return upstream_number(dir, "queued") == 0; }, 10s));
}

BOOST_AUTO_TEST_CASE(a_small_byte_budget_drops_exactly_the_oldest_and_counts_them) {
    TempDir dir;
    Cloud cloud(dir);
    cloud.broker().stop();
    const int n = 5000;
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter("meter", "count = " + std::to_string(n) + "\npayload = \"{seq}\"") +
                                upstream(cloud.broker().url(), "max_bytes = \"64KiB\"\n"));
    // Everything emitted, and the budget enforced.
    BOOST_REQUIRE_MESSAGE(eventually(
                              [&] {
                                  const long long q = upstream_number(dir, "queued");
                                  return q > 0 && q + upstream_number(dir, "overflowed") == n;
                              },
                              30s),
                          gw.log());
    const long long queued = upstream_number(dir, "queued");
    const long long dropped = upstream_number(dir, "overflowed");
    BOOST_TEST(upstream_number(dir, "queued_bytes") <= 64 * 1024);
    cloud.broker().start();
    BOOST_REQUIRE(cloud.subscriber().wait_for(static_cast<size_t>(queued), 60s));
    std::this_thread::sleep_for(500ms);  // nothing more may come
    std::vector<int> got;
    for (const auto& m : cloud.subscriber().on_topic("telemetry/gw-01/meter")) got.push_back(std::stoi(m.payload));
    std::vector<int> newest;
    for (int i = n - static_cast<int>(queued); i < n; ++i) newest.push_back(i);
    BOOST_TEST((got == newest), "got " << got.size() << " readings, from " << (got.empty() ? -1 : got.front()));
    BOOST_TEST(dropped == n - queued);
    BOOST_TEST_MESSAGE("max_bytes 64KiB: " << queued << " newest kept and delivered, " << dropped
                                           << " oldest dropped and counted");
    BOOST_TEST(gw.wait_for_log("readings dropped because its queue reached max_bytes", 10s), gw.log());
}

BOOST_AUTO_TEST_CASE(expired_readings_never_arrive_and_the_rest_carry_what_is_left) {
    TempDir dir;
    Cloud cloud(dir);
    cloud.broker().stop();
    GatewaydProcess gw(dir, gateway_section(dir, all_plugins(dir)) +
                                emitter("short", "count = 10\npayload = \"{seq}\"", "expiry = \"2s\"\n") +
                                emitter("long", "count = 10\npayload = \"{seq}\"\nexpiry = \"1h\"") +
                                emitter("plain", "count = 10\npayload = \"{seq}\"") + upstream(cloud.broker().url()));
    BOOST_REQUIRE_MESSAGE(eventually([&] { return upstream_number(dir, "queued") == 30; }, 20s), gw.log());
    std::this_thread::sleep_for(3s);  // past the short expiry
    cloud.broker().start();
    BOOST_REQUIRE(cloud.subscriber().wait_for(20, 30s));
    std::this_thread::sleep_for(500ms);
    BOOST_TEST(cloud.subscriber().on_topic("telemetry/gw-01/short").empty());
    const auto long_lived = cloud.subscriber().on_topic("telemetry/gw-01/long");
    BOOST_REQUIRE(long_lived.size() == 10u);
    for (const auto& m : long_lived) {
        BOOST_REQUIRE(m.message_expiry.has_value());
        BOOST_TEST(*m.message_expiry < 3600);
        BOOST_TEST(*m.message_expiry > 3500);
    }
    const auto plain = cloud.subscriber().on_topic("telemetry/gw-01/plain");
    BOOST_TEST(plain.size() == 10u);
    for (const auto& m : plain) BOOST_TEST(!m.message_expiry.has_value());
    BOOST_TEST(upstream_number(dir, "expired") == 10);
    BOOST_TEST_MESSAGE("expiry: 10 readings with a 2 s expiry queued 3 s were dropped and counted; 10 with 1 h arrived "
                       "with Message Expiry Interval "
                       << *long_lived.front().message_expiry << " s; 10 without expiry arrived without one");
}

// outbox = "memory" brings an 8 MiB default bound; a reload that switches to
// it must not cut the open disk queue's backlog to that size.
BOOST_AUTO_TEST_CASE(switching_the_outbox_on_reload_keeps_the_backlog_until_restart) {
    TempDir dir;
    Cloud cloud(dir);
    cloud.broker().stop();
    const int n = 100000;  // about 16 MB queued: more than 8 MiB
    const std::string payload = "{seq} " + std::string(100, 'x');
    const std::string sensors = gateway_section(dir, all_plugins(dir)) +
                                emitter("meter", "count = " + std::to_string(n) + "\npayload = \"" + payload + "\"");
    GatewaydProcess gw(dir, sensors + upstream(cloud.broker().url(), "qos = 0\n"));
    BOOST_REQUIRE_MESSAGE(eventually([&] { return upstream_number(dir, "queued") == n; }, 60s), tail(gw.log()));
    const long long bytes = upstream_number(dir, "queued_bytes");
    BOOST_REQUIRE(bytes > 8 * 1024 * 1024);

    dir.write("gatewayd.toml", sensors + upstream(cloud.broker().url(), "qos = 0\noutbox = \"memory\"\n"));
    gw.process().signal(SIGHUP);
    BOOST_REQUIRE_MESSAGE(gw.wait_for_log("take effect at the next restart (so does max_bytes", 10s), tail(gw.log()));
    std::this_thread::sleep_for(500ms);
    BOOST_TEST(upstream_number(dir, "queued") == n);
    BOOST_TEST(upstream_number(dir, "overflowed") == 0);
    BOOST_TEST_MESSAGE("reload to outbox = \"memory\": " << upstream_number(dir, "queued") << " readings ("
                                                         << bytes / 1024 << " KiB) still queued on disk");
}
