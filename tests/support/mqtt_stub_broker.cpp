#include "mqtt_stub_broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <stdexcept>

#include "process.h"

namespace gwd::test {

namespace {

// Reads exactly n bytes, giving up after 10 s of silence or when stopping.
bool read_exact(int fd, std::uint8_t* out, size_t n, const std::atomic<bool>& stopping) {
    size_t got = 0;
    while (got < n) {
        pollfd p{fd, POLLIN, 0};
        int r = ::poll(&p, 1, 100);
        if (stopping.load()) return false;
        if (r <= 0) continue;
        ssize_t k = ::recv(fd, out + got, n - got, 0);
        if (k <= 0) return false;
        got += static_cast<size_t>(k);
    }
    return true;
}

bool read_varint(int fd, std::uint32_t& value, const std::atomic<bool>& stopping) {
    value = 0;
    for (int shift = 0; shift < 28; shift += 7) {
        std::uint8_t b;
        if (!read_exact(fd, &b, 1, stopping)) return false;
        value |= static_cast<std::uint32_t>(b & 0x7F) << shift;
        if ((b & 0x80) == 0) return true;
    }
    return false;
}

void put_varint(std::string& out, std::uint32_t v) {
    do {
        std::uint8_t b = v & 0x7F;
        v >>= 7;
        if (v) b |= 0x80;
        out += static_cast<char>(b);
    } while (v);
}

void put_u16(std::string& out, std::uint32_t v) {
    out += static_cast<char>((v >> 8) & 0xFF);
    out += static_cast<char>(v & 0xFF);
}

void put_string(std::string& out, const std::string& s) {
    put_u16(out, static_cast<std::uint32_t>(s.size()));
    out += s;
}

int property_width(int id) {
    switch (id) {
        case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A: return 1;
        case 0x13: case 0x21: case 0x22: case 0x23: return 2;
        case 0x02: case 0x11: case 0x18: case 0x27: return 4;
        case 0x0B: return -1;   // variable byte integer
        case 0x26: return -3;   // string pair
        default: return -2;     // string or binary
    }
}

std::string encode_properties(const std::vector<StubProperty>& props) {
    std::string body;
    for (const auto& p : props) {
        body += static_cast<char>(p.id);
        const int width = property_width(p.id);
        if (width == 1) body += static_cast<char>(std::get<std::uint32_t>(p.value));
        else if (width == 2) put_u16(body, std::get<std::uint32_t>(p.value));
        else if (width == 4) {
            const auto v = std::get<std::uint32_t>(p.value);
            put_u16(body, v >> 16);
            put_u16(body, v & 0xFFFF);
        } else if (width == -1) put_varint(body, std::get<std::uint32_t>(p.value));
        else if (width == -3) {
            const auto& [k, v] = std::get<std::pair<std::string, std::string>>(p.value);
            put_string(body, k);
            put_string(body, v);
        } else put_string(body, std::get<std::string>(p.value));
    }
    std::string out;
    put_varint(out, static_cast<std::uint32_t>(body.size()));
    return out + body;
}

std::string packet(std::uint8_t first_byte, const std::string& body) {
    std::string out(1, static_cast<char>(first_byte));
    put_varint(out, static_cast<std::uint32_t>(body.size()));
    return out + body;
}

void send_all(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += static_cast<size_t>(n);
    }
}

// A cursor over a packet body.
struct Reader {
    const std::string& s;
    size_t pos = 0;
    bool ok = true;
    std::uint32_t u8() {
        if (pos + 1 > s.size()) return ok = false, 0;
        return static_cast<std::uint8_t>(s[pos++]);
    }
    std::uint32_t u16() {
        std::uint32_t hi = u8(), lo = u8();
        return (hi << 8) | lo;
    }
    std::uint32_t u32() {
        std::uint32_t hi = u16(), lo = u16();
        return (hi << 16) | lo;
    }
    std::uint32_t varint() {
        std::uint32_t v = 0;
        for (int shift = 0; shift < 28; shift += 7) {
            std::uint32_t b = u8();
            v |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        return v;
    }
    std::string str() {
        const std::uint32_t n = u16();
        if (pos + n > s.size()) return ok = false, std::string();
        std::string out = s.substr(pos, n);
        pos += n;
        return out;
    }
};

// Reads the properties of a PUBLISH into `p`.
void read_publish_properties(Reader& r, StubPublish& p) {
    const std::uint32_t length = r.varint();
    const size_t end = r.pos + length;
    while (r.ok && r.pos < end) {
        const int id = static_cast<int>(r.u8());
        const int width = property_width(id);
        if (id == 0x23) p.topic_alias = static_cast<int>(r.u16());
        else if (id == 0x03) p.content_type = r.str();
        else if (id == 0x26) {
            std::string k = r.str();
            std::string v = r.str();
            p.user_properties.emplace_back(std::move(k), std::move(v));
        } else if (width == 1) r.u8();
        else if (width == 2) r.u16();
        else if (width == 4) r.u32();
        else if (width == -1) r.varint();
        else r.str();
    }
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
    while (!stopping_.load()) {
        std::uint8_t first;
        std::uint32_t length;
        if (!read_exact(fd, &first, 1, stopping_) || !read_varint(fd, length, stopping_)) break;
        std::string body(length, '\0');
        if (length > 0 && !read_exact(fd, reinterpret_cast<std::uint8_t*>(body.data()), length, stopping_)) break;
        Reader r{body};
        const int type = first >> 4;
        if (type == 1) {  // CONNECT
            r.str();  // "MQTT"
            version = static_cast<int>(r.u8());
            r.u8();   // flags
            r.u16();  // keep alive
            if (version == 5) r.pos += r.varint();
            const std::string client_id = r.str();
            {
                std::lock_guard lock(mutex_);
                client_ids_.push_back(client_id);
            }
            StubConnack reply = script_.on_connect ? script_.on_connect(connection, client_id) : StubConnack{};
            std::string ack;
            ack += '\0';  // session present: no
            ack += static_cast<char>(reply.reason);
            if (version == 5) ack += encode_properties(reply.properties);
            send_all(fd, packet(0x20, ack));
            if (reply.reason != 0) break;
            if (reply.then_disconnect && version == 5) {
                std::string d(1, static_cast<char>(*reply.then_disconnect));
                d += encode_properties(reply.disconnect_properties);
                send_all(fd, packet(0xE0, d));
                linger_then_close(fd);
                break;
            }
        } else if (type == 3) {  // PUBLISH
            StubPublish p;
            p.connection = connection;
            p.qos = (first >> 1) & 3;
            p.topic = r.str();
            p.topic_was_empty = p.topic.empty();
            std::uint32_t packet_id = 0;
            if (p.qos > 0) packet_id = r.u16();
            if (version == 5) read_publish_properties(r, p);
            p.payload = r.pos <= body.size() ? body.substr(r.pos) : std::string();
            if (p.topic_alias > 0) {
                if (p.topic.empty()) p.topic = aliases[p.topic_alias];
                else aliases[p.topic_alias] = p.topic;
            }
            StubPubAction action = script_.on_publish ? script_.on_publish(connection, p) : StubPubAction{};
            {
                std::lock_guard lock(mutex_);
                publishes_.push_back(p);
            }
            if (action.kind == StubPubAction::Kind::close) break;
            if (action.kind == StubPubAction::Kind::disconnect) {
                std::string d(1, static_cast<char>(action.reason));
                d += encode_properties({});
                send_all(fd, packet(0xE0, d));
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
                send_all(fd, packet(0x40, ack));
            }
        } else if (type == 8) {  // SUBSCRIBE
            const std::uint32_t packet_id = r.u16();
            if (version == 5) r.pos += r.varint();
            std::string ack;
            put_u16(ack, packet_id);
            if (version == 5) ack += '\0';  // no properties
            while (r.ok && r.pos < body.size()) {
                r.str();
                ack += static_cast<char>(r.u8() & 0x03);  // granted QoS
            }
            send_all(fd, packet(0x90, ack));
            const std::vector<StubOutgoing> out = script_.on_subscribe ? script_.on_subscribe(connection) : std::vector<StubOutgoing>{};
            std::uint16_t next_id = 1;
            for (const auto& m : out) {
                std::string pub;
                put_u16(pub, static_cast<std::uint16_t>(m.topic.size()));
                pub += m.topic;
                if (m.qos > 0) put_u16(pub, next_id++);
                if (version == 5) {
                    std::vector<StubProperty> props;
                    for (const auto& kv : m.user_properties) props.push_back({0x26, kv});
                    pub += encode_properties(props);
                }
                pub += m.payload;
                send_all(fd, packet(static_cast<std::uint8_t>(0x30 | (m.qos << 1)), pub));
            }
        } else if (type == 4) {  // PUBACK from a client
            std::lock_guard lock(mutex_);
            pubacks_.push_back(static_cast<int>(r.u16()));
        } else if (type == 12) {  // PINGREQ
            send_all(fd, packet(0xD0, ""));
        } else if (type == 14) {  // DISCONNECT
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
