// A "cloud" broker whose subscriber never misses a message, even across a
// broker restart or SIGKILL: for tests that take the cloud away and bring it back.
#pragma once

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <memory>

#include "mosquitto.h"
#include "mqtt_client.h"
#include "process.h"
#include "temp_dir.h"

namespace gwd::test {

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
        subscriber_ =
            std::make_unique<TestSubscriber>(broker_.url(), std::vector<std::string>{"telemetry/#", "probe/#"}, o);
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
        BOOST_REQUIRE(
            eventually([&] { return subscriber_->on_topic("probe/x").size() > probes; }, std::chrono::seconds(20)));
    }

    Mosquitto& broker() { return broker_; }
    TestSubscriber& subscriber() { return *subscriber_; }

private:
    std::filesystem::path db_;
    Mosquitto broker_;
    std::unique_ptr<TestSubscriber> subscriber_;
};

}  // namespace gwd::test
