#include "mqtt_client.h"

#include <atomic>
#include <stdexcept>

#include <mqtt/async_client.h>

#include "process.h"

namespace gwd::test {

namespace {
std::atomic<int> next_client{0};

std::string client_id(const char* role) {
    return std::string("gwd-test-") + role + "-" + std::to_string(getpid()) + "-" + std::to_string(next_client++);
}

std::unique_ptr<mqtt::async_client> connect_client(const std::string& url, const char* role, int version,
                                                   const std::string& username = {}, const std::string& password = {}) {
    auto create = mqtt::create_options_builder().mqtt_version(version).finalize();
    auto client = std::make_unique<mqtt::async_client>(url, client_id(role), create, nullptr);
    mqtt::connect_options_builder options;
    options.mqtt_version(version);
    if (!username.empty()) options.user_name(username).password(password);
    if (version == 5)
        options.clean_start(true);
    else
        options.clean_session(true);
    client->connect(options.finalize())->wait_for(std::chrono::seconds(10));
    if (!client->is_connected()) throw std::runtime_error("test client cannot connect to " + url);
    return client;
}
}  // namespace

TestSubscriber::TestSubscriber(const std::string& url, const std::vector<std::string>& filters, SubscriberOptions o) {
    const int mqtt_version = o.mqtt_version;
    auto create = mqtt::create_options_builder().mqtt_version(mqtt_version).finalize();
    client_ = std::make_unique<mqtt::async_client>(url, o.client_id.empty() ? client_id("sub") : o.client_id, create,
                                                   nullptr);
    client_->set_message_callback([this](mqtt::const_message_ptr msg) {
        ReceivedMessage m;
        m.received_at = std::chrono::steady_clock::now();
        m.topic = msg->get_topic();
        m.payload = msg->get_payload_str();
        m.qos = msg->get_qos();
        const auto& props = msg->get_properties();
        if (props.contains(mqtt::property::CONTENT_TYPE))
            m.content_type = mqtt::get<std::string>(props, mqtt::property::CONTENT_TYPE);
        if (props.contains(mqtt::property::PAYLOAD_FORMAT_INDICATOR))
            m.payload_format = mqtt::get<uint8_t>(props, mqtt::property::PAYLOAD_FORMAT_INDICATOR);
        if (props.contains(mqtt::property::MESSAGE_EXPIRY_INTERVAL))
            m.message_expiry = static_cast<int>(mqtt::get<uint32_t>(props, mqtt::property::MESSAGE_EXPIRY_INTERVAL));
        if (props.contains(mqtt::property::RESPONSE_TOPIC))
            m.response_topic = mqtt::get<std::string>(props, mqtt::property::RESPONSE_TOPIC);
        if (props.contains(mqtt::property::CORRELATION_DATA))
            m.correlation_data = mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA);
        const size_t n = props.count(mqtt::property::USER_PROPERTY);
        for (size_t i = 0; i < n; ++i) {
            auto pair = mqtt::get<mqtt::string_pair>(props, mqtt::property::USER_PROPERTY, i);
            m.user_properties.emplace_back(std::get<0>(pair), std::get<1>(pair));
        }
        std::lock_guard lock(mutex_);
        messages_.push_back(std::move(m));
    });
    mqtt::connect_options_builder options;
    options.mqtt_version(mqtt_version);
    if (!o.username.empty()) options.user_name(o.username).password(o.password);
    if (o.auto_reconnect) options.automatic_reconnect(std::chrono::milliseconds(100), std::chrono::milliseconds(500));
    if (mqtt_version == 5) {
        options.clean_start(!o.persistent);
        if (o.persistent) options.properties({mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, 3600)});
    } else {
        options.clean_session(!o.persistent);
    }
    client_->connect(options.finalize())->wait_for(std::chrono::seconds(10));
    if (!client_->is_connected()) throw std::runtime_error("test subscriber cannot connect to " + url);
    for (const auto& f : filters) {
        if (!client_->subscribe(f, o.qos)->wait_for(std::chrono::seconds(10)))
            throw std::runtime_error("test subscriber got no SUBACK for " + f);
    }
}

TestSubscriber::~TestSubscriber() {
    try {
        if (client_->is_connected()) client_->disconnect()->wait_for(std::chrono::seconds(2));
    } catch (const mqtt::exception&) {}
}

bool TestSubscriber::wait_for(size_t count, std::chrono::milliseconds timeout) const {
    return eventually([&] { return this->count() >= count; }, timeout);
}

std::vector<ReceivedMessage> TestSubscriber::messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
}

std::vector<ReceivedMessage> TestSubscriber::messages_since(size_t from) const {
    std::lock_guard lock(mutex_);
    if (from >= messages_.size()) return {};
    return std::vector<ReceivedMessage>(messages_.begin() + static_cast<std::ptrdiff_t>(from), messages_.end());
}

std::vector<ReceivedMessage> TestSubscriber::on_topic(const std::string& topic) const {
    std::vector<ReceivedMessage> out;
    for (auto& m : messages())
        if (m.topic == topic) out.push_back(m);
    return out;
}

size_t TestSubscriber::count() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
}

TestPublisher::TestPublisher(const std::string& url, int mqtt_version, const std::string& username,
                             const std::string& password)
    : client_(connect_client(url, "pub", mqtt_version, username, password)) {}

TestPublisher::~TestPublisher() {
    try {
        if (client_->is_connected()) client_->disconnect()->wait_for(std::chrono::seconds(2));
    } catch (const mqtt::exception&) {}
}

void TestPublisher::publish(const std::string& topic, const std::string& payload,
                            const std::vector<std::pair<std::string, std::string>>& user_properties,
                            const std::optional<std::string>& content_type, int qos) {
    mqtt::properties props;
    if (content_type) props.add(mqtt::property(mqtt::property::CONTENT_TYPE, *content_type));
    for (const auto& [k, v] : user_properties) props.add(mqtt::property(mqtt::property::USER_PROPERTY, k, v));
    auto msg = mqtt::message::create(topic, payload.data(), payload.size(), qos, false, props);
    client_->publish(msg)->wait_for(std::chrono::seconds(10));
}

}  // namespace gwd::test

namespace gwd::test {
void TestPublisher::request(const std::string& topic, const std::string& payload, const std::string& response_topic,
                            const std::string& correlation_data) {
    mqtt::properties props;
    props.add(mqtt::property(mqtt::property::RESPONSE_TOPIC, response_topic));
    props.add(mqtt::property(mqtt::property::CORRELATION_DATA, mqtt::binary_ref(correlation_data)));
    auto msg = mqtt::message::create(topic, payload.data(), payload.size(), 1, false, props);
    client_->publish(msg)->wait_for(std::chrono::seconds(10));
}
}  // namespace gwd::test
