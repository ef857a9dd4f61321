// TLS to the upstream: the server certificate is verified against ca_file
// (and the host name), unless tls_verify = false says otherwise.
#define BOOST_TEST_MODULE tls
#include <boost/test/unit_test.hpp>

#include <regex>

#include "gatewayd_process.h"
#include "mosquitto.h"
#include "mqtt_client.h"
#include "test_pki.h"

using namespace gwd::test;
using namespace std::chrono_literals;

namespace {
// A CA, another CA, and a server certificate for 127.0.0.1/localhost.
struct Pki : TestPki {
    explicit Pki(const TempDir& dir) : TestPki(dir), base(dir.path()) { add_ca("other-ca", "some other CA"); }
    std::filesystem::path base;
};

// A broker with a plain listener (for the test's subscriber) and a TLS one.
std::string tls_listener(const Pki& pki, int port) {
    return "listener " + std::to_string(port) + " 127.0.0.1\n" + "certfile " + (pki.base / "server.pem").string() +
           "\n" + "keyfile " + (pki.base / "server.key").string() + "\n";
}

std::string config(const TempDir& dir, int tls_port, const std::string& ca, const std::string& extra = "") {
    return gateway_section(dir) +
           "[[sensor]]\nname = \"lab\"\nplugin = \"simulated\"\ninterval = \"200ms\"\n"
           "[sensor.options]\nvalues = \"seed\"\n\n"
           "[[upstream]]\nname = \"cloud\"\nurl = \"ssl://127.0.0.1:" +
           std::to_string(tls_port) + "\"\n" + "ca_file = \"" + ca + "\"\n" + extra +
           "[upstream.backoff]\ninitial = \"200ms\"\nmax = \"1s\"\n";
}
}  // namespace

BOOST_AUTO_TEST_CASE(verified_tls_forwards) {
    TempDir dir;
    Pki pki(dir);
    const int tls_port = free_loopback_port();
    Mosquitto cloud(tls_listener(pki, tls_port));
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, config(dir, tls_port, (pki.base / "ca.pem").string()));
    GWD_REQUIRE(subscriber.wait_for(3, 15s), gw.log() + cloud.log());
    BOOST_TEST(subscriber.messages()[0].content_type.value_or("") == "text/plain");
}

BOOST_AUTO_TEST_CASE(a_server_certificate_from_another_ca_is_refused) {
    TempDir dir;
    Pki pki(dir);
    const int tls_port = free_loopback_port();
    Mosquitto cloud(tls_listener(pki, tls_port));
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, config(dir, tls_port, (pki.base / "other-ca.pem").string()));
    GWD_REQUIRE(gw.wait_for_log("TLS handshake failed", 15s), gw.log());
    BOOST_TEST(gw.log().find("certificate verify failed") != std::string::npos, gw.log());
    // A server that cannot be verified is an authorization problem: stopped, not retried.
    BOOST_TEST(gw.log().find("stopped: cannot connect to ssl://") != std::string::npos, gw.log());
    std::this_thread::sleep_for(3s);
    BOOST_TEST(subscriber.count() == 0u);
    const std::string broker_log = cloud.log();
    const std::regex connection("New connection from \\S+ on port " + std::to_string(tls_port) + "\\.");
    const size_t attempts = static_cast<size_t>(
        std::distance(std::sregex_iterator(broker_log.begin(), broker_log.end(), connection), std::sregex_iterator()));
    BOOST_TEST_MESSAGE("TLS connection attempts seen by the broker: " << attempts);
    BOOST_TEST(attempts == 1u, broker_log);
    auto status = daemon_status(dir);
    BOOST_REQUIRE(status);
    BOOST_TEST(upstream_status(*status, "cloud")->find("state")->as_string() == "stopped");
}

BOOST_AUTO_TEST_CASE(tls_verify_false_skips_verification_when_explicitly_asked) {
    TempDir dir;
    Pki pki(dir);
    const int tls_port = free_loopback_port();
    Mosquitto cloud(tls_listener(pki, tls_port));
    TestSubscriber subscriber(cloud.url(), {"telemetry/#"});
    GatewaydProcess gw(dir, config(dir, tls_port, (pki.base / "other-ca.pem").string(), "tls_verify = false\n"));
    GWD_REQUIRE(subscriber.wait_for(3, 15s), gw.log());
}
