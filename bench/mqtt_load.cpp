// bench_mqtt: the load generator and the counting subscriber of bench/compare.sh.
//
//   bench_mqtt pub --port P --count N [--qos 0|1] [--rate R] [--window W] [--topics K]
//   bench_mqtt sub --port P --count N [--qos 0|1] [--filter F] [--id ID --persistent]
//                  [--ready FILE] [--timeout S] [--connect-for S]
//
// Why not mosquitto_pub/_sub or Paho: mosquitto_pub -l stops at 65,535 QoS 1
// lines, and a Paho client is slower than the paths measured. This one writes
// pipelined publishes in large batches, so the brokers, the bridge and
// gatewayd are what limits the rate.
//
// Every payload is 64 bytes of JSON carrying a sequence number and the
// CLOCK_MONOTONIC time it was written ({"seq":12,"t":123456789,"pad":"xx..."}),
// so the subscriber, on the same machine, measures latency from emit to
// arrival and finds lost or duplicated readings. A message may carry several
// readings (gatewayd's `batch`: a JSON array of envelopes); the subscriber
// counts readings, and messages apart. Both print one line of key=value
// pairs for the script to read.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_time.h"
#include "mqtt/packet_reader.h"
#include "mqtt/packets.h"

namespace {

std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "bench_mqtt: %s\n", what.c_str());
    std::exit(2);
}

struct Args {
    std::string mode;
    int port = 0;
    long count = 0;
    int qos = 1;
    double rate = 0;  // readings/s; 0: as fast as the broker takes them
    int window = 100;
    int topics = 8;
    std::string filter = "#";
    std::string id;
    bool persistent = false;
    std::string ready_file;
    double timeout_s = 600;
    double connect_for_s = 0;
};

Args parse(int argc, char** argv) {
    if (argc < 2) fail("usage: bench_mqtt pub|sub --port P --count N [options] (see bench/mqtt_load.cpp)");
    Args a;
    a.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string key = argv[i];
        if (key == "--persistent") {
            a.persistent = true;
            continue;
        }
        if (i + 1 >= argc) fail(key + " needs a value");
        const std::string value = argv[++i];
        if (key == "--port")
            a.port = std::stoi(value);
        else if (key == "--count")
            a.count = std::stol(value);
        else if (key == "--qos")
            a.qos = std::stoi(value);
        else if (key == "--rate")
            a.rate = std::stod(value);
        else if (key == "--window")
            a.window = std::stoi(value);
        else if (key == "--topics")
            a.topics = std::stoi(value);
        else if (key == "--filter")
            a.filter = value;
        else if (key == "--id")
            a.id = value;
        else if (key == "--ready")
            a.ready_file = value;
        else if (key == "--timeout")
            a.timeout_s = std::stod(value);
        else if (key == "--connect-for")
            a.connect_for_s = std::stod(value);
        else
            fail("unknown option " + key);
    }
    if (a.port <= 0 || a.count <= 0) fail("--port and --count are required");
    if (a.qos != 0 && a.qos != 1) fail("--qos is 0 or 1");
    if (a.window < 1 || a.window > 60000) fail("--window is 1 to 60000");
    return a;
}

// A blocking loopback TCP connection with Nagle off, as the brokers have it.
class Connection {
public:
    explicit Connection(int port) {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            if (fd_ >= 0) close(fd_);
            fd_ = -1;
            return;
        }
        int on = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    ~Connection() {
        if (fd_ >= 0) close(fd_);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    bool ok() const { return fd_ >= 0; }

    void send_all(const std::string& bytes) {
        size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n <= 0) fail("the broker closed the connection while sending");
            done += size_t(n);
        }
    }
    // Reads what is there, waiting at most `timeout_ms` (-1: forever);
    // false on timeout. A closed connection ends the program.
    bool receive(gwd::mqtt::PacketReader& reader, int timeout_ms) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0) return false;
        char buffer[65536];
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) fail("the broker closed the connection");
        reader.feed(buffer, size_t(n));
        return true;
    }

private:
    int fd_ = -1;
};

gwd::mqtt::Packet next_packet(Connection& link, gwd::mqtt::PacketReader& reader, int timeout_ms) {
    const std::int64_t deadline = now_ns() + std::int64_t(timeout_ms) * 1'000'000;
    for (;;) {
        std::string error;
        if (auto p = reader.next(error)) return *p;
        if (!error.empty()) fail(error);
        const std::int64_t left_ms = (deadline - now_ns()) / 1'000'000;
        if (left_ms <= 0 || !link.receive(reader, int(left_ms))) fail("no answer from the broker");
    }
}

void handshake(Connection& link, gwd::mqtt::PacketReader& reader, const gwd::mqtt::ConnectOptions& options) {
    link.send_all(gwd::mqtt::encode_connect(options));
    const auto p = next_packet(link, reader, 5000);
    std::string error;
    const auto connack = gwd::mqtt::decode_connack(options.version, p.body, error);
    if (p.type != gwd::mqtt::kConnack || !connack || connack->reason != 0) fail("the broker refused the connection");
}

// {"seq":N,"t":T,"pad":"xxx"} padded to exactly 64 bytes.
std::string reading(long seq, std::int64_t t) {
    char text[80];
    const int n =
        std::snprintf(text, sizeof text, "{\"seq\":%ld,\"t\":%lld,\"pad\":\"", seq, static_cast<long long>(t));
    std::string payload(text, size_t(n));
    payload.append(size_t(std::max(0, 64 - n - 2)), 'x');
    payload += "\"}";
    return payload;
}

int publish(const Args& a) {
    Connection link(a.port);
    if (!link.ok()) fail("cannot connect to 127.0.0.1:" + std::to_string(a.port));
    gwd::mqtt::PacketReader reader;
    gwd::mqtt::ConnectOptions options;
    options.version = 4;
    options.client_id = "bench-pub-" + std::to_string(getpid());
    options.clean_start = true;
    options.keep_alive_s = 60;
    handshake(link, reader, options);

    std::vector<std::string> topics;
    for (int i = 0; i < a.topics; ++i) topics.push_back("sensors/bench/s" + std::to_string(i));
    const double cpu_before = process_cpu_seconds();
    const std::int64_t start = now_ns();
    const double interval_ns = a.rate > 0 ? 1e9 / a.rate : 0;
    std::string batch;
    long outstanding = 0;
    std::uint16_t packet_id = 0;
    auto flush = [&] {
        if (!batch.empty()) link.send_all(batch);
        batch.clear();
    };
    auto take_acks = [&](int timeout_ms) {
        if (!link.receive(reader, timeout_ms)) return;
        std::string error;
        while (auto p = reader.next(error))
            if (p->type == gwd::mqtt::kPuback) --outstanding;
        if (!error.empty()) fail(error);
    };
    for (long seq = 0; seq < a.count; ++seq) {
        if (interval_ns > 0) {
            const std::int64_t due = start + std::int64_t(double(seq) * interval_ns);
            if (now_ns() < due) flush();
            for (std::int64_t left; (left = due - now_ns()) > 0;) {
                if (a.qos == 1 && outstanding > 0)
                    take_acks(int(left / 1'000'000) + 1);
                else {
                    const timespec ts{0, long(std::min<std::int64_t>(left, 999'999'999))};
                    nanosleep(&ts, nullptr);
                }
            }
        }
        if (a.qos == 1) {
            while (outstanding >= a.window) {
                flush();
                take_acks(-1);
            }
            if (++packet_id == 0) packet_id = 1;
            ++outstanding;
        }
        batch += gwd::mqtt::encode_publish(4, topics[size_t(seq % a.topics)], reading(seq, now_ns()), a.qos, packet_id);
        if (batch.size() >= 32768) flush();
    }
    flush();
    const std::int64_t deadline = now_ns() + std::int64_t(a.timeout_s * 1e9);
    while (outstanding > 0 && now_ns() < deadline) take_acks(100);
    const double seconds = double(now_ns() - start) / 1e9;
    link.send_all(gwd::mqtt::encode_disconnect());
    std::printf("sent=%ld unacknowledged=%ld seconds=%.3f rate=%.0f cpu_per_100k=%.3f\n", a.count, outstanding, seconds,
                double(a.count) / seconds, (process_cpu_seconds() - cpu_before) * 100000.0 / double(a.count));
    return outstanding == 0 ? 0 : 1;
}

long number_after(std::string_view payload, std::string_view key) {
    const auto at = payload.find(key);
    if (at == std::string_view::npos) return -1;
    long value = -1;
    const char* first = payload.data() + at + key.size();
    std::from_chars(first, payload.data() + payload.size(), value);
    return value;
}

double percentile_us(std::vector<std::int64_t>& sorted_ns, double q) {
    if (sorted_ns.empty()) return 0;
    const size_t index = std::min(sorted_ns.size() - 1, size_t(q * double(sorted_ns.size())));
    return double(sorted_ns[index]) / 1000.0;
}

int subscribe(const Args& a) {
    const std::int64_t connect_deadline = now_ns() + std::int64_t(a.connect_for_s * 1e9);
    std::unique_ptr<Connection> link;
    for (;;) {  // a broker that is just starting: retry every 10 ms for --connect-for seconds
        link = std::make_unique<Connection>(a.port);
        if (link->ok() || now_ns() >= connect_deadline) break;
        usleep(10'000);
    }
    if (!link->ok()) fail("cannot connect to 127.0.0.1:" + std::to_string(a.port));
    gwd::mqtt::PacketReader reader;
    gwd::mqtt::ConnectOptions options;
    options.version = 5;
    options.client_id = a.id.empty() ? "bench-sub-" + std::to_string(getpid()) : a.id;
    options.clean_start = !a.persistent;
    options.session_expiry_s = a.persistent ? 3600 : 0;
    options.receive_maximum = 65535;  // the subscriber is never the window
    options.keep_alive_s = 60;
    handshake(*link, reader, options);
    link->send_all(gwd::mqtt::encode_subscribe(5, 1, {a.filter}, a.qos));
    if (next_packet(*link, reader, 5000).type != gwd::mqtt::kSuback) fail("no SUBACK");
    if (!a.ready_file.empty()) std::ofstream(a.ready_file) << "subscribed\n";

    std::vector<char> seen(size_t(a.count), 0);
    std::vector<std::int64_t> latency_ns;
    latency_ns.reserve(size_t(a.count));
    long unique = 0, duplicates = 0, foreign = 0, messages = 0;
    std::int64_t first_arrival = 0, last_arrival = 0, first_emit = 0;
    const std::int64_t deadline = now_ns() + std::int64_t(a.timeout_s * 1e9);
    std::string acks;
    while (unique < a.count && now_ns() < deadline) {
        if (!link->receive(reader, 100)) continue;
        const std::int64_t arrival = now_ns();
        std::string error;
        while (auto p = reader.next(error)) {
            if (p->type != gwd::mqtt::kPublish) continue;
            auto message = gwd::mqtt::decode_publish(5, p->flags, p->body, error);
            if (!message) fail("undecodable PUBLISH: " + error);
            if (message->qos == 1) acks += gwd::mqtt::encode_puback(message->packet_id);
            ++messages;
            // One reading, or a batch of them (a JSON array of envelopes, each
            // with its reading's payload inside): every "seq" counts.
            std::string_view rest = message->payload;
            bool any = false;
            for (size_t at; (at = rest.find("\"seq\":")) != std::string_view::npos; rest.remove_prefix(at + 6)) {
                any = true;
                const std::string_view one = rest.substr(at);
                const long seq = number_after(one, "\"seq\":");
                if (seq < 0 || seq >= a.count) {
                    ++foreign;
                    continue;
                }
                if (seen[size_t(seq)]) {
                    ++duplicates;
                    continue;
                }
                seen[size_t(seq)] = 1;
                const long emitted = number_after(one, "\"t\":");
                if (unique++ == 0) {
                    first_arrival = arrival;
                    first_emit = emitted;
                }
                last_arrival = arrival;
                if (emitted > 0) latency_ns.push_back(arrival - emitted);
            }
            if (!any) ++foreign;
        }
        if (!error.empty()) fail(error);
        if (!acks.empty()) link->send_all(acks);
        acks.clear();
    }
    link->send_all(gwd::mqtt::encode_disconnect());
    std::sort(latency_ns.begin(), latency_ns.end());
    const double span = double(last_arrival - first_arrival) / 1e9;
    const double since_emit = first_emit > 0 ? double(last_arrival - first_emit) / 1e9 : span;
    std::printf(
        "received=%ld missing=%ld duplicates=%ld foreign=%ld rate=%.0f arrival_rate=%.0f p50_us=%.0f p99_us=%.0f "
        "p999_us=%.0f max_us=%.0f messages=%ld\n",
        unique, a.count - unique, duplicates, foreign, since_emit > 0 ? double(unique) / since_emit : 0,
        span > 0 ? double(unique - 1) / span : 0, percentile_us(latency_ns, 0.50), percentile_us(latency_ns, 0.99),
        percentile_us(latency_ns, 0.999), latency_ns.empty() ? 0 : double(latency_ns.back()) / 1000.0, messages);
    return unique == a.count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    if (a.mode == "pub") return publish(a);
    if (a.mode == "sub") return subscribe(a);
    fail("the mode is pub or sub, not " + a.mode);
}
