// Test-side MQTT clients (Paho C++, as a cloud or a sensor would be): a
// subscriber that records what arrives with every v5 property, and a
// publisher that sends readings with a content type and user properties.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mqtt {
class async_client;
}

namespace gwd::test {

struct ReceivedMessage {
    std::string topic;
    std::string payload;
    int qos = 0;
    std::optional<std::string> content_type;
    std::optional<int> payload_format;
    std::optional<int> message_expiry;
    std::vector<std::pair<std::string, std::string>> user_properties;
    std::optional<std::string> response_topic;
    std::optional<std::string> correlation_data;
    std::chrono::steady_clock::time_point received_at;  // when the test's client got it
};

// The value of the first user property `key` of `m`, or "(none)".
inline std::string user_property(const ReceivedMessage& m, const std::string& key) {
    for (const auto& [k, v] : m.user_properties)
        if (k == key) return v;
    return "(none)";
}

struct SubscriberOptions {
    int mqtt_version = 5;
    int qos = 1;
    // With a client id and `persistent`, the broker keeps the session (and
    // queues messages) while the subscriber is away: clean start off, session
    // expiry one hour.
    std::string client_id;
    bool persistent = false;
    // Reconnect by itself after the broker went away (every 100-500 ms).
    bool auto_reconnect = false;
    std::string username;
    std::string password;
};

class TestSubscriber {
public:
    TestSubscriber(const std::string& url, const std::vector<std::string>& filters, SubscriberOptions options = {});
    ~TestSubscriber();

    // Waits until at least `count` messages arrived or `timeout` passed.
    bool wait_for(size_t count, std::chrono::milliseconds timeout) const;
    std::vector<ReceivedMessage> messages() const;
    // The messages that arrived after the first `from` (cheap to poll in
    // tests that count hundreds of thousands).
    std::vector<ReceivedMessage> messages_since(size_t from) const;
    // The messages on one topic, in arrival order.
    std::vector<ReceivedMessage> on_topic(const std::string& topic) const;
    size_t count() const;

private:
    mutable std::mutex mutex_;
    std::vector<ReceivedMessage> messages_;
    // Last, so it is destroyed first: its callback uses the members above.
    std::unique_ptr<mqtt::async_client> client_;
};

class TestPublisher {
public:
    explicit TestPublisher(const std::string& url, int mqtt_version = 5, const std::string& username = {},
                           const std::string& password = {});
    ~TestPublisher();

    void publish(const std::string& topic, const std::string& payload,
                 const std::vector<std::pair<std::string, std::string>>& user_properties = {},
                 const std::optional<std::string>& content_type = std::nullopt, int qos = 1);
    // An MQTT v5 request: Response Topic and Correlation Data set.
    void request(const std::string& topic, const std::string& payload, const std::string& response_topic,
                 const std::string& correlation_data);

private:
    std::unique_ptr<mqtt::async_client> client_;
};

}  // namespace gwd::test
