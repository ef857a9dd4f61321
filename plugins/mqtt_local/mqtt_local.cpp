// mqtt_local: subscribes to a broker on the box (MQTT v5 by default) and turns
// every message into a reading: the payload as sent, the v5 Content Type
// property as the declared content type, and the user properties in order.
// The reading is named after a level of the source topic (the last one by
// default), so "sensors/gateway01/sensor02" becomes reading "sensor02".
//
// Its own thread keeps the connection: it connects, subscribes, and after a
// drop reconnects with backoff. Note: paho.mqtt.c 1.3 acknowledges a QoS 1
// message to the local broker when it arrives, before this plugin sees it.
#include <gatewayd/plugin.h>

#include <mqtt/async_client.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

const gwd_option_spec kOptions[] = {
    {"url", GWD_OPTION_STRING, 1, "the local broker, e.g. \"tcp://127.0.0.1:1883\""},
    {"topics", GWD_OPTION_STRING_LIST, 1, "topic filters to subscribe to, e.g. [\"sensors/#\"]"},
    {"qos", GWD_OPTION_INT, 0, "subscription QoS, 0 or 1 (default 1)"},
    {"client_id", GWD_OPTION_STRING, 0, "default \"gatewayd-<gateway>-<sensor>\""},
    {"username", GWD_OPTION_STRING, 0, "user name for the local broker"},
    {"password", GWD_OPTION_STRING, 0, "password for the local broker"},
    {"password_file", GWD_OPTION_STRING, 0, "file holding the password"},
    {"mqtt_version", GWD_OPTION_INT, 0, "5 (default) or 4 for MQTT 3.1.1 brokers"},
    {"name_from", GWD_OPTION_STRING, 0, "\"last_level\" (default), \"topic\" or \"sensor\""},
    {"keep_alive", GWD_OPTION_DURATION, 0, "default \"30s\""},
    {nullptr, 0, 0, nullptr},
};

enum class NameFrom { last_level, topic, sensor };

std::string read_password_file(const std::string& path, bool& ok) {
    std::ifstream in(path, std::ios::binary);
    ok = static_cast<bool>(in);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string secret = buffer.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    return secret;
}

// MQTT 5.0 section 4.7: '#' only as the whole last level, '+' only as a whole level.
bool valid_topic_filter(const std::string& filter) {
    if (filter.empty()) return false;
    size_t start = 0;
    while (true) {
        size_t end = filter.find('/', start);
        std::string level = filter.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (level.find('#') != std::string::npos && (level != "#" || end != std::string::npos)) return false;
        if (level.find('+') != std::string::npos && level != "+") return false;
        if (end == std::string::npos) return true;
        start = end + 1;
    }
}

class MqttLocal {
public:
    MqttLocal(const gwd_host_api* host, gwd_context* ctx) : host_(host), ctx_(ctx) {}

    ~MqttLocal() { stop(); }

    bool configure() {
        const char* text = nullptr;
        if (host_->option_string(ctx_, "url", &text) != GWD_OK) return refuse("the url option is missing");
        url_ = text;
        if (url_.rfind("tcp://", 0) != 0 && url_.rfind("mqtt://", 0) != 0 && url_.rfind("ssl://", 0) != 0 &&
            url_.rfind("mqtts://", 0) != 0) {
            return refuse("url \"" + url_ + "\" needs a scheme: tcp://host:port or ssl://host:port");
        }
        if (url_.rfind("mqtt://", 0) == 0) url_ = "tcp://" + url_.substr(7);
        if (url_.rfind("mqtts://", 0) == 0) url_ = "ssl://" + url_.substr(8);

        const size_t n = host_->option_list_size(ctx_, "topics");
        if (n == 0) return refuse("topics is empty; list at least one topic filter, e.g. [\"sensors/#\"]");
        for (size_t i = 0; i < n; ++i) {
            if (host_->option_list_string(ctx_, "topics", i, &text) != GWD_OK) return refuse("topics must hold strings");
            if (!valid_topic_filter(text)) return refuse(std::string("topics: \"") + text + "\" is not a valid topic filter");
            topics_.emplace_back(text);
        }
        int64_t qos = 1;
        host_->option_int(ctx_, "qos", &qos);
        if (qos < 0 || qos > 1) return refuse("qos must be 0 or 1");
        qos_ = static_cast<int>(qos);

        client_id_ = std::string("gatewayd-") + host_->gateway_id(ctx_) + "-" + host_->sensor_name(ctx_);
        if (host_->option_string(ctx_, "client_id", &text) == GWD_OK) client_id_ = text;
        if (host_->option_string(ctx_, "username", &text) == GWD_OK) username_ = text;
        if (host_->option_string(ctx_, "password", &text) == GWD_OK) password_ = text;
        if (host_->option_string(ctx_, "password_file", &text) == GWD_OK) {
            if (password_) return refuse("set either password or password_file, not both");
            password_file_ = text;
            bool ok = false;
            read_password_file(*password_file_, ok);
            if (!ok) return refuse("password_file \"" + *password_file_ + "\" cannot be read");
        }
        int64_t version = 5;
        host_->option_int(ctx_, "mqtt_version", &version);
        if (version != 4 && version != 5) return refuse("mqtt_version must be 4 (MQTT 3.1.1) or 5");
        mqtt_version_ = static_cast<int>(version);

        if (host_->option_string(ctx_, "name_from", &text) == GWD_OK) {
            std::string from = text;
            if (from == "last_level") name_from_ = NameFrom::last_level;
            else if (from == "topic") name_from_ = NameFrom::topic;
            else if (from == "sensor") name_from_ = NameFrom::sensor;
            else return refuse("name_from = \"" + from + "\" must be \"last_level\", \"topic\" or \"sensor\"");
        }
        int64_t keep_alive_ms = 30000;
        host_->option_duration_ms(ctx_, "keep_alive", &keep_alive_ms);
        keep_alive_ = std::chrono::seconds(std::max<int64_t>(keep_alive_ms / 1000, 1));
        return true;
    }

    int start() {
        try {
            auto create = mqtt::create_options_builder()
                              .mqtt_version(mqtt_version_ == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1)
                              .finalize();
            client_ = std::make_unique<mqtt::async_client>(url_, client_id_, create, nullptr);
        } catch (const mqtt::exception& e) {
            log(GWD_LOG_ERROR, std::string("cannot create the MQTT client: ") + e.what());
            return GWD_ERR_FAILED;
        }
        client_->set_message_callback([this](mqtt::const_message_ptr msg) { on_message(*msg); });
        client_->set_connection_lost_handler([this](const std::string& cause) {
            {
                std::lock_guard lock(mutex_);
                lost_cause_ = cause.empty() ? "the broker closed the connection" : cause;
                lost_ = true;
            }
            cv_.notify_all();
        });
        thread_ = std::thread([this] { run(); });
        return GWD_OK;
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            stopping_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
        if (client_) {
            try {
                if (client_->is_connected()) client_->disconnect(std::chrono::milliseconds(500))->wait_for(std::chrono::seconds(2));
            } catch (const mqtt::exception&) {
                // Already gone.
            }
            // Destroy the client now, while the members its callbacks use still exist.
            client_.reset();
        }
    }

private:
    bool refuse(const std::string& why) {
        log(GWD_LOG_ERROR, why);
        return false;
    }

    void log(int level, const std::string& text) const { host_->log(ctx_, level, text.c_str()); }

    mqtt::connect_options connect_options() {
        mqtt::connect_options_builder builder;
        builder.mqtt_version(mqtt_version_ == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1)
            .keep_alive_interval(keep_alive_)
            .connect_timeout(std::chrono::seconds(10))
            .automatic_reconnect(false);
        if (mqtt_version_ == 5) builder.clean_start(true);
        else builder.clean_session(true);
        if (username_) builder.user_name(*username_);
        if (password_) builder.password(*password_);
        if (password_file_) {
            bool ok = false;
            builder.password(read_password_file(*password_file_, ok));
        }
        return builder.finalize();
    }

    // Connects, subscribes, and reconnects after a drop, with backoff from
    // 1 s up to 30 s so a missing local broker costs nothing.
    void run() {
        std::mt19937 rng(std::random_device{}());
        std::chrono::milliseconds delay(1000);
        int failures = 0;
        while (true) {
            {
                std::lock_guard lock(mutex_);
                if (stopping_) return;
                lost_ = false;
            }
            std::string error;
            if (connect_and_subscribe(error)) {
                if (failures > 0) log(GWD_LOG_NOTICE, "connected to " + url_ + " after " + std::to_string(failures) + " failed attempts");
                else log(GWD_LOG_INFO, "connected to " + url_ + ", subscribed to " + std::to_string(topics_.size()) + " topic filters");
                failures = 0;
                delay = std::chrono::milliseconds(1000);
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [this] { return stopping_ || lost_; });
                if (stopping_) return;
                log(GWD_LOG_WARNING, "connection to " + url_ + " lost: " + lost_cause_ + "; reconnecting");
            } else {
                ++failures;
                if (failures == 1) log(GWD_LOG_WARNING, "cannot connect to " + url_ + ": " + error + "; retrying");
                else if (failures % 20 == 0) log(GWD_LOG_WARNING, "still cannot connect to " + url_ + ": " + error);
            }
            std::uniform_int_distribution<int> jitter(0, static_cast<int>(delay.count()));
            auto wait = std::chrono::milliseconds(std::max(200, jitter(rng)));
            delay = std::min(delay * 2, std::chrono::milliseconds(30000));
            std::unique_lock lock(mutex_);
            if (cv_.wait_for(lock, wait, [this] { return stopping_; })) return;
        }
    }

    bool connect_and_subscribe(std::string& error) {
        try {
            auto tok = client_->connect(connect_options());
            if (!wait(tok, std::chrono::seconds(15))) {
                error = "no CONNACK in time";
                return false;
            }
            std::vector<int> qos(topics_.size(), qos_);
            auto filters = mqtt::string_collection::create(topics_);
            auto sub = client_->subscribe(filters, qos);
            if (!wait(sub, std::chrono::seconds(15))) {
                error = "no SUBACK in time";
                return false;
            }
            return true;
        } catch (const mqtt::exception& e) {
            error = e.what();
            try {
                if (client_->is_connected()) client_->disconnect()->wait_for(std::chrono::seconds(1));
            } catch (const mqtt::exception&) {
            }
            return false;
        }
    }

    // Waits for a token in short slices so stop() is never held up for long.
    bool wait(const mqtt::token_ptr& tok, std::chrono::seconds limit) {
        const auto give_up = std::chrono::steady_clock::now() + limit;
        while (!tok->wait_for(std::chrono::milliseconds(100))) {
            std::lock_guard lock(mutex_);
            if (stopping_ || std::chrono::steady_clock::now() > give_up) return false;
        }
        return true;
    }

    void on_message(const mqtt::message& msg) {
        const std::string& topic = msg.get_topic();
        std::string name;
        switch (name_from_) {
            case NameFrom::last_level: {
                size_t slash = topic.rfind('/');
                name = slash == std::string::npos ? topic : topic.substr(slash + 1);
                if (name.empty()) name = host_->sensor_name(ctx_);
                break;
            }
            case NameFrom::topic: name = topic; break;
            case NameFrom::sensor: name = host_->sensor_name(ctx_); break;
        }

        const mqtt::properties& props = msg.get_properties();
        std::string content_type;
        bool has_content_type = false;
        std::vector<std::pair<std::string, std::string>> user;
        const MQTTProperties& raw = props.c_struct();
        for (int i = 0; i < raw.count; ++i) {
            const MQTTProperty& p = raw.array[i];
            if (p.identifier == MQTTPROPERTY_CODE_CONTENT_TYPE) {
                content_type.assign(p.value.data.data, p.value.data.len);
                has_content_type = true;
            } else if (p.identifier == MQTTPROPERTY_CODE_USER_PROPERTY) {
                user.emplace_back(std::string(p.value.data.data, p.value.data.len),
                                  std::string(p.value.value.data, p.value.value.len));
            }
        }
        std::vector<gwd_property> properties;
        properties.reserve(user.size());
        for (const auto& [k, v] : user) properties.push_back({k.c_str(), v.c_str()});

        const std::string& payload = msg.get_payload_ref().str();
        gwd_reading reading{};
        reading.sensor = name.c_str();
        reading.payload = payload.data();
        reading.payload_len = payload.size();
        reading.content_type = has_content_type ? content_type.c_str() : nullptr;
        reading.properties = properties.data();
        reading.property_count = properties.size();
        host_->emit(ctx_, &reading);
    }

    const gwd_host_api* host_;
    gwd_context* ctx_;
    std::string url_;
    std::vector<std::string> topics_;
    int qos_ = 1;
    std::string client_id_;
    std::optional<std::string> username_;
    std::optional<std::string> password_;
    std::optional<std::string> password_file_;
    int mqtt_version_ = 5;
    NameFrom name_from_ = NameFrom::last_level;
    std::chrono::seconds keep_alive_{30};

    std::unique_ptr<mqtt::async_client> client_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    bool lost_ = false;
    std::string lost_cause_;
};

int create(const gwd_host_api* host, gwd_context* ctx, void** instance) {
    auto plugin = std::make_unique<MqttLocal>(host, ctx);
    if (!plugin->configure()) return GWD_ERR_INVALID;
    *instance = plugin.release();
    return GWD_OK;
}

int start(void* instance) { return static_cast<MqttLocal*>(instance)->start(); }
void stop(void* instance) { static_cast<MqttLocal*>(instance)->stop(); }
void destroy(void* instance) { delete static_cast<MqttLocal*>(instance); }

const gwd_plugin kDescriptor = [] {
    gwd_plugin d{};
    d.abi_version = GWD_PLUGIN_ABI_VERSION;
    d.flags = 0;
    d.name = "mqtt_local";
    d.version = "1.0.0";
    d.description = "subscribes to a local MQTT broker and forwards each message as a reading";
    d.options = kOptions;
    d.create = create;
    d.start = start;
    d.stop = stop;
    d.destroy = destroy;
    return d;
}();

}  // namespace

extern "C" GWD_PLUGIN_EXPORT const gwd_plugin* gwd_plugin_entry(void) { return &kDescriptor; }
