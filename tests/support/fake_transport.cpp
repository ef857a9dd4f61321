#include "fake_transport.h"

namespace gwd::test {

void FakeBroker::answer_next_connects(std::vector<ConnectResult> results) {
    std::lock_guard lock(mutex_);
    for (auto& r : results) connect_results_.push_back(std::move(r));
}

void FakeBroker::set_connack(ConnackInfo connack) {
    std::lock_guard lock(mutex_);
    connack_ = std::move(connack);
}

void FakeBroker::set_publish_rc(int rc) {
    std::lock_guard lock(mutex_);
    publish_rc_ = rc;
}

int FakeBroker::connects() const {
    std::lock_guard lock(mutex_);
    return connects_;
}

std::vector<ConnectSettings> FakeBroker::connect_settings() const {
    std::lock_guard lock(mutex_);
    return settings_;
}

std::vector<FakePublish> FakeBroker::publishes() const {
    std::lock_guard lock(mutex_);
    return publishes_;
}

std::vector<std::vector<std::string>> FakeBroker::subscriptions() const {
    std::lock_guard lock(mutex_);
    return subscriptions_;
}

// The events are called without the broker's lock: the session takes its own.
template <typename Deliver>
void FakeBroker::to_newest_client(Deliver deliver) {
    TransportEvents* events;
    std::uint64_t generation;
    {
        std::lock_guard lock(mutex_);
        events = events_;
        generation = generation_;
    }
    // Called unlocked: the session's handlers may call back into the broker.
    if (events) deliver(*events, generation);
}

void FakeBroker::acknowledge(std::uint64_t id) {
    to_newest_client([&](TransportEvents& e, std::uint64_t g) { e.on_publish_done(g, id, true, 0, 0); });
}

void FakeBroker::refuse(std::uint64_t id, int reason) {
    to_newest_client([&](TransportEvents& e, std::uint64_t g) { e.on_publish_done(g, id, false, reason, 0); });
}

void FakeBroker::drop_connection(int reason, const std::string& cause) {
    to_newest_client(
        [&](TransportEvents& e, std::uint64_t g) { e.on_connection_lost(g, cause, reason, std::nullopt); });
}

void FakeBroker::send(const std::string& topic, const std::string& payload) {
    to_newest_client(
        [&](TransportEvents& e, std::uint64_t g) { e.on_message(g, topic, payload, std::nullopt, std::nullopt); });
}

bool FakeBroker::wait_for_connects(int n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return connects_ >= n; });
}

bool FakeBroker::wait_for_publishes(size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return publishes_.size() >= n; });
}

TransportFactory fake_transport(std::shared_ptr<FakeBroker> broker) {
    return [broker](ConnectSettings settings, TransportEvents& events,
                    std::uint64_t generation) -> std::unique_ptr<Transport> {
        return std::make_unique<FakeTransport>(std::move(settings), events, generation, broker);
    };
}

FakeTransport::FakeTransport(ConnectSettings settings, TransportEvents& events, std::uint64_t generation,
                             std::shared_ptr<FakeBroker> broker)
    : Transport(std::move(settings), events, generation), broker_(std::move(broker)) {}

FakeTransport::~FakeTransport() {
    std::lock_guard lock(broker_->mutex_);
    if (broker_->events_ == &events() && broker_->generation_ == generation()) broker_->events_ = nullptr;
}

ConnectResult FakeTransport::connect(const std::function<bool()>& abort) {
    (void)abort;
    std::lock_guard lock(broker_->mutex_);
    ++broker_->connects_;
    broker_->settings_.push_back(settings());
    ConnectResult r;
    if (!broker_->connect_results_.empty()) {
        r = broker_->connect_results_.front();
        broker_->connect_results_.pop_front();
    } else {
        r.ok = true;
        r.connack = broker_->connack_;
    }
    if (r.ok) {
        broker_->events_ = &events();
        broker_->generation_ = generation();
    }
    broker_->cv_.notify_all();
    return r;
}

int FakeTransport::publish(const OutgoingPublish& message, std::uint64_t id) {
    std::lock_guard lock(broker_->mutex_);
    if (broker_->publish_rc_ != 0) return broker_->publish_rc_;
    FakePublish p;
    p.generation = generation();
    p.id = id;
    p.topic = *message.topic;
    p.payload = *message.payload;
    p.qos = message.qos;
    p.retain = message.retain;
    if (message.content_type) p.content_type = *message.content_type;
    p.topic_alias = message.topic_alias;
    p.message_expiry_s = message.message_expiry_s;
    if (message.properties) p.properties = *message.properties;
    broker_->publishes_.push_back(std::move(p));
    broker_->cv_.notify_all();
    return 0;
}

SubscribeResult FakeTransport::subscribe(const std::vector<std::string>& filters, int qos,
                                         std::chrono::milliseconds timeout) {
    (void)timeout;
    std::lock_guard lock(broker_->mutex_);
    broker_->subscriptions_.push_back(filters);
    broker_->cv_.notify_all();
    SubscribeResult r;
    r.ok = true;
    r.granted.assign(filters.size(), qos);
    return r;
}

void FakeTransport::disconnect(std::chrono::milliseconds timeout) {
    (void)timeout;
    std::lock_guard lock(broker_->mutex_);
    if (broker_->events_ == &events() && broker_->generation_ == generation()) broker_->events_ = nullptr;
    broker_->cv_.notify_all();
}

}  // namespace gwd::test
