// bench_paho: what Paho alone costs. Publishes N 64-byte readings through
// gatewayd's own PahoClient (no outbox, no plugin, no normalizer) to one
// broker, keeping at most the broker's Receive Maximum in flight as the
// session does, and prints the rate and the CPU time per 100,000 readings.
// bench/compare.sh runs it beside bench_mqtt's raw publisher on the same
// broker: the difference is the price of the MQTT library.
//
//   bench_paho --port P --count N [--qos 0|1] [--version 4|5]

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "cpu_time.h"
#include "upstream/paho_client.h"

namespace {

class Counter final : public gwd::TransportEvents {
public:
    void on_publish_done(std::uint64_t, std::uint64_t, bool ok, int, int) override {
        {
            std::lock_guard lock(mutex);
            ++done;
            if (!ok) ++failed;
        }
        cv.notify_one();
    }
    void on_connection_lost(std::uint64_t, const std::string& cause, int, const std::optional<std::string>&) override {
        std::fprintf(stderr, "bench_paho: connection lost: %s\n", cause.c_str());
        std::exit(2);
    }
    void on_message(std::uint64_t, std::string, std::string, std::optional<std::string>,
                    std::optional<std::string>) override {}

    std::mutex mutex;
    std::condition_variable cv;
    long done = 0, failed = 0;
};

}  // namespace

int main(int argc, char** argv) {
    int port = 0, qos = 1, version = 5;
    long count = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        const long value = std::strtol(argv[i + 1], nullptr, 10);
        if (key == "--port")
            port = int(value);
        else if (key == "--count")
            count = value;
        else if (key == "--qos")
            qos = int(value);
        else if (key == "--version")
            version = int(value);
    }
    if (port <= 0 || count <= 0) {
        std::fprintf(stderr, "usage: bench_paho --port P --count N [--qos 0|1] [--version 4|5]\n");
        return 2;
    }
    gwd::ConnectSettings settings;
    settings.url = "tcp://127.0.0.1:" + std::to_string(port);
    settings.client_id = "bench-paho";
    settings.mqtt_version = version;
    Counter counter;
    gwd::PahoClient client(settings, counter, 1);
    const auto connected = client.connect([] { return false; });
    if (!connected.ok) {
        std::fprintf(stderr, "bench_paho: cannot connect: %s\n", connected.message.c_str());
        return 2;
    }
    const long window = std::min(connected.connack.receive_maximum, settings.max_inflight);
    const std::string topic = "sensors/bench/paho";
    std::string payload = "{\"seq\":0,\"t\":0,\"pad\":\"";
    payload.append(64 - payload.size() - 2, 'x');
    payload += "\"}";
    gwd::OutgoingPublish message{&topic, &payload, qos};

    const double cpu_before = process_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    for (long sent = 0; sent < count; ++sent) {
        std::unique_lock lock(counter.mutex);
        counter.cv.wait(lock, [&] { return sent - counter.done < window; });
        lock.unlock();
        if (const int rc = client.publish(message, std::uint64_t(sent + 1)); rc != 0) {
            std::fprintf(stderr, "bench_paho: publish failed: %s\n", gwd::paho_error_text(rc).c_str());
            return 2;
        }
    }
    {
        std::unique_lock lock(counter.mutex);
        counter.cv.wait_for(lock, std::chrono::seconds(60), [&] { return counter.done == count; });
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = process_cpu_seconds() - cpu_before;
    client.disconnect(std::chrono::seconds(2));
    std::printf("sent=%ld failed=%ld window=%ld seconds=%.3f rate=%.0f cpu_per_100k=%.3f\n", counter.done,
                counter.failed, window, seconds, double(count) / seconds, cpu * 100000.0 / double(count));
    return counter.done == count && counter.failed == 0 ? 0 : 1;
}
