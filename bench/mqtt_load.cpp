// bench_mqtt: the load generator and the counting subscriber of bench/compare.sh.
//
//   bench_mqtt pub --port P --count N [--qos 0|1] [--rate R] [--window W] [--topics K]
//   bench_mqtt sub --port P --count N [--qos 0|1] [--filter F] [--id ID --persistent]
//                  [--ready FILE] [--timeout S] [--connect-for S] [--reconnect-for S]
//                  [--trace FILE] [--warmup N]
//
// Why not mosquitto_pub/_sub or Paho: mosquitto_pub -l stops at 65,535 QoS 1
// lines, and a Paho client is slower than the paths measured. This one writes
// pipelined publishes in large batches, so the brokers, the bridge and
// gatewayd are what limits the rate.
//
// Every payload is 64 bytes of JSON carrying a sequence number and the
// CLOCK_MONOTONIC time it was written ({"seq":12,"t":123456789,"pad":"xx..."}),
// so the subscriber, on the same machine, measures latency from emit to
// arrival and finds lost or duplicated readings. With --reconnect-for, the
// subscriber outlives the broker's restart (a cloud outage) and reports the
// drain that follows it: how long the backlog took, and how old the newest
// reading it had was while it drained (drain_s, newest_age_*_ms). A message may carry several
// readings (gatewayd's `batch`: a JSON array of envelopes); the subscriber
// counts readings, and messages apart. Both print one line of key=value
// pairs for the script to read. --trace writes "seq emit_ns arrival_ns" per
// reading, in arrival order, to find where a tail latency comes from.
// --warmup N leaves readings 0..N-1 out of the latency percentiles (they are
// still counted) and reports their worst apart (warmup_max_us): the first
// second after an idle link is an edge, not the steady stream.
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
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
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
    double reconnect_for_s = 0;
    std::string trace_file;
    long warmup = 0;
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
        else if (key == "--reconnect-for")
            a.reconnect_for_s = std::stod(value);
        else if (key == "--trace")
            a.trace_file = value;
        else if (key == "--warmup")
            a.warmup = std::stol(value);
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
        if (!try_send_all(bytes)) fail("the broker closed the connection while sending");
    }
    bool try_send_all(const std::string& bytes) {
        size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n <= 0) return false;
            done += size_t(n);
        }
        return true;
    }
    enum class Received { data, nothing, closed };
    // Reads what is there, waiting at most `timeout_ms` (-1: forever).
    Received try_receive(gwd::mqtt::PacketReader& reader, int timeout_ms) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0) return Received::nothing;
        char buffer[65536];
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) return Received::closed;
        reader.feed(buffer, size_t(n));
        return Received::data;
    }
    // As try_receive; false on timeout, and a closed connection ends the program.
    bool receive(gwd::mqtt::PacketReader& reader, int timeout_ms) {
        const Received got = try_receive(reader, timeout_ms);
        if (got == Received::closed) fail("the broker closed the connection");
        return got == Received::data;
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

// What a broker restart during the run looked like from here: the longest
// silence between two arrivals is the outage; the drain is from the first
// arrival after it until every reading emitted before that arrival is in.
// The newest reading's age (now - its emit time) is sampled every 100 ms
// through the drain, from 100 ms after its start.
struct Drain {
    double gap_s = 0, drain_s = 0, age_p50_ms = 0, age_max_ms = 0;
    long backlog = 0;
};

Drain analyse_drain(const std::vector<std::int64_t>& arrival_ns, const std::vector<std::int64_t>& emit_ns) {
    std::vector<std::pair<std::int64_t, std::int64_t>> by_arrival;  // (arrival, emit)
    for (size_t i = 0; i < arrival_ns.size(); ++i)
        if (arrival_ns[i] > 0) by_arrival.emplace_back(arrival_ns[i], emit_ns[i]);
    std::sort(by_arrival.begin(), by_arrival.end());
    Drain d;
    if (by_arrival.size() < 2) return d;
    size_t after_gap = 1;
    for (size_t i = 1; i < by_arrival.size(); ++i)
        if (by_arrival[i].first - by_arrival[i - 1].first >
            by_arrival[after_gap].first - by_arrival[after_gap - 1].first)
            after_gap = i;
    const std::int64_t start = by_arrival[after_gap].first;
    d.gap_s = double(start - by_arrival[after_gap - 1].first) / 1e9;
    std::int64_t end = start;
    for (const auto& [arrival, emit] : by_arrival)
        if (emit < start && arrival >= start) {
            ++d.backlog;
            end = std::max(end, arrival);
        }
    d.drain_s = double(end - start) / 1e9;
    std::vector<std::int64_t> ages;
    std::int64_t newest = 0;
    size_t next = 0;
    for (std::int64_t t = start + 100'000'000; t <= end; t += 100'000'000) {
        for (; next < by_arrival.size() && by_arrival[next].first <= t; ++next)
            newest = std::max(newest, by_arrival[next].second);
        ages.push_back(t - newest);
    }
    if (!ages.empty()) {
        std::sort(ages.begin(), ages.end());
        d.age_p50_ms = double(ages[ages.size() / 2]) / 1e6;
        d.age_max_ms = double(ages.back()) / 1e6;
    }
    return d;
}

int subscribe(const Args& a) {
    gwd::mqtt::ConnectOptions options;
    options.version = 5;
    options.client_id = a.id.empty() ? "bench-sub-" + std::to_string(getpid()) : a.id;
    options.clean_start = !a.persistent;
    options.session_expiry_s = a.persistent ? 3600 : 0;
    options.receive_maximum = 65535;  // the subscriber is never the window
    options.keep_alive_s = 60;
    std::unique_ptr<Connection> link;
    gwd::mqtt::PacketReader reader;
    std::deque<gwd::mqtt::Packet> early;
    // Connects and subscribes, retrying every 10 ms for `retry_s` (a broker
    // that is just starting); a persistent session resumes where it was.
    auto attach = [&](double retry_s) {
        const std::int64_t give_up = now_ns() + std::int64_t(retry_s * 1e9);
        for (;;) {
            link = std::make_unique<Connection>(a.port);
            if (link->ok() || now_ns() >= give_up) break;
            usleep(10'000);
        }
        if (!link->ok()) fail("cannot connect to 127.0.0.1:" + std::to_string(a.port));
        reader = gwd::mqtt::PacketReader();
        handshake(*link, reader, options);
        link->send_all(gwd::mqtt::encode_subscribe(5, 1, {a.filter}, a.qos));
        // A resumed session may send PUBLISHes ahead of the SUBACK: they wait in `early`.
        for (;;) {
            const auto p = next_packet(*link, reader, 5000);
            if (p.type == gwd::mqtt::kSuback) return;
            if (p.type != gwd::mqtt::kPublish) fail("no SUBACK");
            early.push_back(p);
        }
    };
    auto next_received = [&](std::string& error) -> std::optional<gwd::mqtt::Packet> {
        if (early.empty()) return reader.next(error);
        gwd::mqtt::Packet p = std::move(early.front());
        early.pop_front();
        return p;
    };
    attach(a.connect_for_s);
    if (!a.ready_file.empty()) std::ofstream(a.ready_file) << "subscribed\n";

    std::vector<char> seen(size_t(a.count), 0);
    std::vector<std::int64_t> latency_ns;
    latency_ns.reserve(size_t(a.count));
    std::vector<std::int64_t> arrival_ns, emit_ns;  // per reading, for the drain
    if (a.reconnect_for_s > 0) {
        arrival_ns.assign(size_t(a.count), 0);
        emit_ns.assign(size_t(a.count), 0);
    }
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> trace(nullptr, std::fclose);
    if (!a.trace_file.empty()) {
        trace.reset(std::fopen(a.trace_file.c_str(), "w"));
        if (!trace) fail("cannot write " + a.trace_file);
    }
    long unique = 0, duplicates = 0, foreign = 0, messages = 0, reconnects = 0;
    std::int64_t first_arrival = 0, last_arrival = 0, first_emit = 0, warmup_max_ns = 0;
    const std::int64_t deadline = now_ns() + std::int64_t(a.timeout_s * 1e9);
    std::string acks;
    while (unique < a.count && now_ns() < deadline) {
        const auto got = early.empty() ? link->try_receive(reader, 100) : Connection::Received::data;
        if (got == Connection::Received::closed) {
            if (a.reconnect_for_s <= 0) fail("the broker closed the connection");
            ++reconnects;
            attach(a.reconnect_for_s);
            continue;
        }
        if (got == Connection::Received::nothing) continue;
        const std::int64_t arrival = now_ns();
        std::string error;
        while (auto p = next_received(error)) {
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
                if (emitted > 0 && seq < a.warmup)
                    warmup_max_ns = std::max<std::int64_t>(warmup_max_ns, arrival - emitted);
                if (emitted > 0 && seq >= a.warmup) latency_ns.push_back(arrival - emitted);
                if (trace) std::fprintf(trace.get(), "%ld %ld %ld\n", seq, emitted, long(arrival));
                if (!arrival_ns.empty()) {
                    arrival_ns[size_t(seq)] = arrival;
                    emit_ns[size_t(seq)] = emitted;
                }
            }
            if (!any) ++foreign;
        }
        if (!error.empty()) fail(error);
        if (!acks.empty()) link->try_send_all(acks);  // a closed link shows at the next receive
        acks.clear();
    }
    link->try_send_all(gwd::mqtt::encode_disconnect());
    std::sort(latency_ns.begin(), latency_ns.end());
    const double span = double(last_arrival - first_arrival) / 1e9;
    const double since_emit = first_emit > 0 ? double(last_arrival - first_emit) / 1e9 : span;
    std::printf(
        "received=%ld missing=%ld duplicates=%ld foreign=%ld rate=%.0f arrival_rate=%.0f p50_us=%.0f p99_us=%.0f "
        "p999_us=%.0f max_us=%.0f warmup_max_us=%.0f messages=%ld cpu_s=%.3f",
        unique, a.count - unique, duplicates, foreign, since_emit > 0 ? double(unique) / since_emit : 0,
        span > 0 ? double(unique - 1) / span : 0, percentile_us(latency_ns, 0.50), percentile_us(latency_ns, 0.99),
        percentile_us(latency_ns, 0.999), latency_ns.empty() ? 0 : double(latency_ns.back()) / 1000.0,
        double(warmup_max_ns) / 1000.0, messages, process_cpu_seconds());
    if (a.reconnect_for_s > 0) {
        const Drain d = analyse_drain(arrival_ns, emit_ns);
        std::printf(" reconnects=%ld gap_s=%.1f backlog=%ld drain_s=%.2f newest_age_p50_ms=%.0f newest_age_max_ms=%.0f",
                    reconnects, d.gap_s, d.backlog, d.drain_s, d.age_p50_ms, d.age_max_ms);
    }
    std::printf("\n");
    return unique == a.count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    if (a.mode == "pub") return publish(a);
    if (a.mode == "sub") return subscribe(a);
    fail("the mode is pub or sub, not " + a.mode);
}
