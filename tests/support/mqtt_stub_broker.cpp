#include "mqtt_stub_broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <stdexcept>

#include "mqtt/packet_reader.h"
#include "process.h"

namespace gwd::test {

namespace {

using namespace gwd::mqtt;

std::string properties(const std::vector<StubProperty>& props) {
    std::string out;
    put_properties(out, props);
    return out;
}

void send_all(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += static_cast<size_t>(n);
    }
}

// The next packet from the client; nullopt when it closed, sent what is not
// MQTT, or the stub is stopping.
std::optional<Packet> next_packet(int fd, PacketReader& reader, const std::atomic<bool>& stopping) {
    std::string error;
    while (!stopping.load()) {
        if (auto p = reader.next(error)) return p;
        if (!error.empty()) return std::nullopt;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buffer[16384];
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return std::nullopt;
        reader.feed(buffer, static_cast<size_t>(n));
    }
    return std::nullopt;
}

// Skips a v5 property block.
void skip_properties(Cursor& c) {
    read_properties(c, [](std::uint8_t, std::uint32_t, std::string_view, std::string_view) {});
}

// Reads the properties of a PUBLISH into `p`.
void read_publish_properties(Cursor& c, StubPublish& p) {
    read_properties(c, [&](std::uint8_t id, std::uint32_t n, std::string_view k, std::string_view v) {
        if (id == kTopicAlias)
            p.topic_alias = static_cast<int>(n);
        else if (id == kContentType)
            p.content_type = std::string(k);
        else if (id == kUserProperty)
            p.user_properties.emplace_back(std::string(k), std::string(v));
    });
}

// After a DISCONNECT the stub stops reading and gives the client 100 ms to
// read it before the socket closes. (mosquitto closes at once, and then
// paho.mqtt.c 1.3 often loses the reason: its next write fails first and it
// drops the unread DISCONNECT. The session copes with that; these tests are
// about what it does with the reason when it has one.)
void linger_then_close(int fd) {
    ::shutdown(fd, SHUT_WR);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace

MqttStubBroker::MqttStubBroker(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0)
        throw std::runtime_error("stub broker cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

MqttStubBroker::~MqttStubBroker() {
    stopping_.store(true);
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    {
        std::lock_guard lock(mutex_);
        for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : threads_) t.join();
}

void MqttStubBroker::accept_loop() {
    while (!stopping_.load()) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        const int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) continue;
        const int connection = ++connections_;
        std::lock_guard lock(mutex_);
        client_fds_.push_back(fd);
        threads_.emplace_back([this, fd, connection] { serve(fd, connection); });
    }
}

void MqttStubBroker::serve(int fd, int connection) {
    int version = 5;
    std::map<int, std::string> aliases;
    PacketReader reader;
    while (auto packet = next_packet(fd, reader, stopping_)) {
        Cursor r(packet->body);
        if (packet->type == kConnect) {
            r.string();  // "MQTT"
            version = r.u8();
            r.u8();   // flags
            r.u16();  // keep alive
            if (version == 5) skip_properties(r);
            const std::string client_id = r.string();
            {
                std::lock_guard lock(mutex_);
                client_ids_.push_back(client_id);
            }
            StubConnack reply = script_.on_connect ? script_.on_connect(connection, client_id) : StubConnack{};
            std::string ack;
            ack += '\0';  // session present: no
            ack += static_cast<char>(reply.reason);
            if (version == 5) ack += properties(reply.properties);
            send_all(fd, gwd::mqtt::packet(kConnack, 0, ack));
            if (reply.reason != 0) break;
            if (reply.then_disconnect && version == 5) {
                std::string d(1, static_cast<char>(*reply.then_disconnect));
                d += properties(reply.disconnect_properties);
                send_all(fd, gwd::mqtt::packet(kDisconnect, 0, d));
                linger_then_close(fd);
                break;
            }
        } else if (packet->type == kPublish) {
            StubPublish p;
            p.connection = connection;
            p.qos = (packet->flags >> 1) & 3;
            p.topic = r.string();
            p.topic_was_empty = p.topic.empty();
            std::uint16_t packet_id = 0;
            if (p.qos > 0) packet_id = r.u16();
            if (version == 5) read_publish_properties(r, p);
            p.payload = std::string(r.rest());
            if (p.topic_alias > 0) {
                if (p.topic.empty())
                    p.topic = aliases[p.topic_alias];
                else
                    aliases[p.topic_alias] = p.topic;
            }
            StubPubAction action = script_.on_publish ? script_.on_publish(connection, p) : StubPubAction{};
            {
                std::lock_guard lock(mutex_);
                publishes_.push_back(p);
            }
            if (action.kind == StubPubAction::Kind::close) break;
            if (action.kind == StubPubAction::Kind::disconnect) {
                std::string d(1, static_cast<char>(action.reason));
                d += properties({});
                send_all(fd, gwd::mqtt::packet(kDisconnect, 0, d));
                linger_then_close(fd);
                break;
            }
            if (p.qos == 1) {
                std::string ack;
                put_u16(ack, packet_id);
                if (version == 5 && action.reason != 0) {
                    ack += static_cast<char>(action.reason);
                    ack += '\0';  // no properties
                }
                send_all(fd, gwd::mqtt::packet(kPuback, 0, ack));
            }
        } else if (packet->type == kSubscribe) {
            const std::uint16_t packet_id = r.u16();
            if (version == 5) skip_properties(r);
            std::string ack;
            put_u16(ack, packet_id);
            if (version == 5) ack += '\0';  // no properties
            while (r.ok() && !r.empty()) {
                r.string();
                ack += static_cast<char>(r.u8() & 0x03);  // granted QoS
            }
            send_all(fd, gwd::mqtt::packet(kSuback, 0, ack));
            const std::vector<StubOutgoing> out =
                script_.on_subscribe ? script_.on_subscribe(connection) : std::vector<StubOutgoing>{};
            std::uint16_t next_id = 1;
            for (const auto& m : out) {
                std::string pub;
                put_string(pub, m.topic);
                if (m.qos > 0) put_u16(pub, next_id++);
                if (version == 5) {
                    std::vector<StubProperty> props;
                    for (const auto& kv : m.user_properties) props.push_back({kUserProperty, kv});
                    pub += properties(props);
                }
                pub += m.payload;
                send_all(fd, gwd::mqtt::packet(kPublish, static_cast<std::uint8_t>(m.qos << 1), pub));
            }
        } else if (packet->type == kPuback) {  // from a client
            std::lock_guard lock(mutex_);
            pubacks_.push_back(static_cast<int>(r.u16()));
        } else if (packet->type == kPingreq) {
            send_all(fd, gwd::mqtt::packet(kPingresp, 0, ""));
        } else if (packet->type == kDisconnect) {
            break;
        }
    }
    {
        // Forget the descriptor before closing it: the number may be reused.
        std::lock_guard lock(mutex_);
        std::erase(client_fds_, fd);
    }
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
}

std::vector<std::string> MqttStubBroker::client_ids() const {
    std::lock_guard lock(mutex_);
    return client_ids_;
}

std::vector<int> MqttStubBroker::pubacks() const {
    std::lock_guard lock(mutex_);
    return pubacks_;
}

std::vector<StubPublish> MqttStubBroker::publishes() const {
    std::lock_guard lock(mutex_);
    return publishes_;
}

bool MqttStubBroker::wait_for_connections(int n, std::chrono::milliseconds timeout) const {
    return eventually([&] { return connections() >= n; }, timeout);
}

bool MqttStubBroker::wait_for_publishes(size_t n, std::chrono::milliseconds timeout) const {
    return eventually([&] { return publishes().size() >= n; }, timeout);
}

}  // namespace gwd::test
