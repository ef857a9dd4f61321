// The session's MQTT client, faked (Telegraf's habit: the network client
// swapped for a fake in tests). A FakeBroker is the other end, scripted by
// the test: how each CONNECT is answered, whether publishes are taken; it
// records every publish, and lets the test acknowledge, refuse, drop the
// connection or send a request, through the events of the newest client.
// Thread-safe: the session's thread calls the client, the test the broker.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "upstream/transport.h"

namespace gwd::test {

// One publish as the client was asked to send it.
struct FakePublish {
    std::uint64_t generation = 0;
    std::uint64_t id = 0;
    std::string topic;  // empty when only a topic alias was sent
    std::string payload;
    int qos = 0;
    bool retain = false;
    std::optional<std::string> content_type;
    int topic_alias = 0;
    std::uint32_t message_expiry_s = 0;
    UserProperties properties;
};

class FakeBroker {
public:
    // ---- the script
    // The next CONNECTs are answered with these, in order; when none is
    // left, accepted with `connack`.
    void answer_next_connects(std::vector<ConnectResult> results);
    void set_connack(ConnackInfo connack);
    // publish() returns this (0: taken).
    void set_publish_rc(int rc);

    // ---- what the client did
    int connects() const;
    std::vector<ConnectSettings> connect_settings() const;
    std::vector<FakePublish> publishes() const;
    std::vector<std::vector<std::string>> subscriptions() const;
    // Wait (bounded) until that many CONNECTs or publishes came; true when they did.
    bool wait_for_connects(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
    bool wait_for_publishes(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

    // ---- the broker's side, through the newest client's events
    void acknowledge(std::uint64_t id);
    void refuse(std::uint64_t id, int reason);
    void drop_connection(int reason = -1, const std::string& cause = "connection lost");
    void send(const std::string& topic, const std::string& payload);

private:
    friend class FakeTransport;
    // Hands the newest client's events and generation to `deliver`, unlocked.
    template <typename Deliver>
    void to_newest_client(Deliver deliver);

    mutable std::mutex mutex_;
    mutable std::condition_variable cv_;
    std::deque<ConnectResult> connect_results_;
    ConnackInfo connack_;
    int publish_rc_ = 0;
    int connects_ = 0;
    std::vector<ConnectSettings> settings_;
    std::vector<FakePublish> publishes_;
    std::vector<std::vector<std::string>> subscriptions_;
    TransportEvents* events_ = nullptr;  // of the newest client
    std::uint64_t generation_ = 0;
};

class FakeTransport final : public Transport {
public:
    FakeTransport(ConnectSettings settings, TransportEvents& events, std::uint64_t generation,
                  std::shared_ptr<FakeBroker> broker);
    ~FakeTransport() override;

    ConnectResult connect(const std::function<bool()>& abort) override;
    int publish(const OutgoingPublish& message, std::uint64_t id) override;
    SubscribeResult subscribe(const std::vector<std::string>& filters, int qos,
                              std::chrono::milliseconds timeout) override;
    void disconnect(std::chrono::milliseconds timeout) override;
    std::string error_text(int code) const override { return "fake error " + std::to_string(code); }

private:
    std::shared_ptr<FakeBroker> broker_;
};

// Makes FakeTransports talking to `broker`.
TransportFactory fake_transport(std::shared_ptr<FakeBroker> broker);

}  // namespace gwd::test
