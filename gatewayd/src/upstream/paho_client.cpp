#include "upstream/paho_client.h"

#include <MQTTAsync.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace gwd {

namespace {

using Clock = std::chrono::steady_clock;

std::string len_string(const MQTTLenString& s) { return std::string(s.data, static_cast<size_t>(s.len)); }

std::optional<std::string> string_property(MQTTProperties* props, MQTTPropertyCodes code) {
    if (props == nullptr) return std::nullopt;
    MQTTProperty* p = MQTTProperties_getProperty(props, code);
    if (p == nullptr) return std::nullopt;
    return len_string(p->value.data);
}

std::optional<int> numeric_property(MQTTProperties* props, MQTTPropertyCodes code) {
    if (props == nullptr || !MQTTProperties_hasProperty(props, code)) return std::nullopt;
    return MQTTProperties_getNumericValue(props, code);
}

ConnackInfo read_connack(MQTTProperties* props) {
    ConnackInfo info;
    if (auto v = numeric_property(props, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM)) info.receive_maximum = *v;
    if (auto v = numeric_property(props, MQTTPROPERTY_CODE_TOPIC_ALIAS_MAXIMUM)) info.topic_alias_maximum = *v;
    if (auto v = numeric_property(props, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE))
        info.maximum_packet_size = static_cast<std::uint32_t>(*v);
    if (auto v = numeric_property(props, MQTTPROPERTY_CODE_MAXIMUM_QOS)) info.maximum_qos = *v;
    if (auto v = numeric_property(props, MQTTPROPERTY_CODE_RETAIN_AVAILABLE)) info.retain_available = *v != 0;
    info.server_keep_alive = numeric_property(props, MQTTPROPERTY_CODE_SERVER_KEEP_ALIVE);
    info.assigned_client_id = string_property(props, MQTTPROPERTY_CODE_ASSIGNED_CLIENT_IDENTIFER);
    info.server_reference = string_property(props, MQTTPROPERTY_CODE_SERVER_REFERENCE);
    info.reason_string = string_property(props, MQTTPROPERTY_CODE_REASON_STRING);
    return info;
}

// A numeric property in the width its code takes; `wire_size` is its value's size.
MQTTProperty make_numeric_property(MQTTPropertyCodes code, unsigned value, int& wire_size) {
    MQTTProperty p{};
    p.identifier = code;
    switch (MQTTProperty_getType(code)) {
        case MQTTPROPERTY_TYPE_BYTE:
            p.value.byte = static_cast<unsigned char>(value);
            wire_size = 1;
            break;
        case MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER:
            p.value.integer2 = static_cast<unsigned short>(value);
            wire_size = 2;
            break;
        case MQTTPROPERTY_TYPE_VARIABLE_BYTE_INTEGER:
            p.value.integer4 = value;
            wire_size = value < 128u ? 1 : value < 16384u ? 2 : value < 2097152u ? 3 : 4;
            break;
        default:
            p.value.integer4 = value;
            wire_size = 4;
            break;
    }
    return p;
}

void add_numeric_property(MQTTProperties& props, MQTTPropertyCodes code, unsigned value) {
    int wire_size = 0;
    const MQTTProperty p = make_numeric_property(code, value, wire_size);
    MQTTProperties_add(&props, &p);
}

// The properties of one PUBLISH, pointing at the caller's strings.
// MQTTAsync_sendMessage takes its own copy, so building the list with
// MQTTProperties_add (a copy of every string through Paho's tracked heap) and
// freeing it again was pure cost: 4.5% of gatewayd's instructions per reading
// (callgrind, bench/compare.sh: 106,764 -> 102,150). The array is reused.
class BorrowedProperties {
public:
    void clear() {
        array_.clear();
        length_ = 0;
    }
    void add_string(MQTTPropertyCodes code, const std::string& value) {
        MQTTProperty p{};
        p.identifier = code;
        p.value.data.data = const_cast<char*>(value.data());
        p.value.data.len = static_cast<int>(value.size());
        push(p, 2 + static_cast<int>(value.size()));
    }
    void add_pair(const std::string& key, const std::string& value) {
        MQTTProperty p{};
        p.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
        p.value.data.data = const_cast<char*>(key.data());
        p.value.data.len = static_cast<int>(key.size());
        p.value.value.data = const_cast<char*>(value.data());
        p.value.value.len = static_cast<int>(value.size());
        push(p, 4 + static_cast<int>(key.size() + value.size()));
    }
    void add_number(MQTTPropertyCodes code, unsigned value) {
        int wire_size = 0;
        const MQTTProperty p = make_numeric_property(code, value, wire_size);
        push(p, wire_size);
    }
    // Valid until the next clear() or add; never given to MQTTProperties_free.
    MQTTProperties view() {
        MQTTProperties props = MQTTProperties_initializer;
        props.count = static_cast<int>(array_.size());
        props.max_count = props.count;
        props.length = length_;
        props.array = array_.empty() ? nullptr : array_.data();
        return props;
    }

private:
    void push(const MQTTProperty& p, int value_size) {
        array_.push_back(p);
        length_ += 1 + value_size;  // identifier byte and value, as MQTTProperties_add counts them
    }
    std::vector<MQTTProperty> array_;
    int length_ = 0;
};

}  // namespace

// One outstanding publish. Paho hands its pointer back in the completion
// callback: QoS 0 publishes all carry token 0, so the token cannot say which
// message completed, and a preallocated slot costs no allocation per message.
struct PublishSlot {
    PahoClient::State* state = nullptr;
    std::uint64_t id = 0;
};

// Shared with Paho's threads: the outcome of the pending connect, the TLS
// error text and the publish slots. Outlives the Paho handle.
struct PahoClient::State {
    PahoClient* owner = nullptr;
    std::mutex mutex;
    std::condition_variable cv;
    bool connect_done = false;
    ConnectResult connect_result;
    std::string tls_error;
    bool disconnect_done = false;
    bool subscribe_done = false;
    int subscribe_count = 0;
    SubscribeResult subscribe_result;
    std::vector<PublishSlot> slots;
    std::vector<PublishSlot*> free_slots;
    BorrowedProperties publish_properties;  // publish() runs on one thread at a time (the session's)
};

namespace {

PahoClient::State* state_of(void* context) { return static_cast<PahoClient::State*>(context); }

// Returns a slot to the free list and reports the completion.
void complete_publish(void* context, bool ok, int reason, int paho_code) {
    auto* slot = static_cast<PublishSlot*>(context);
    PahoClient::State* s = slot->state;
    const std::uint64_t id = slot->id;
    {
        std::lock_guard lock(s->mutex);
        s->free_slots.push_back(slot);
    }
    s->owner->events().on_publish_done(s->owner->generation(), id, ok, reason, paho_code);
}

}  // namespace

// Paho callbacks, with C linkage-compatible signatures.
namespace paho_callbacks {

void on_connect_success5(void* context, MQTTAsync_successData5* response) {
    auto* s = state_of(context);
    std::lock_guard lock(s->mutex);
    s->connect_result.ok = true;
    s->connect_result.connack = read_connack(response ? &response->properties : nullptr);
    if (response) s->connect_result.connack.session_present = response->alt.connect.sessionPresent != 0;
    s->connect_done = true;
    s->cv.notify_all();
}

void on_connect_failure5(void* context, MQTTAsync_failureData5* response) {
    auto* s = state_of(context);
    std::lock_guard lock(s->mutex);
    ConnectResult& r = s->connect_result;
    r.ok = false;
    if (response != nullptr) {
        // A CONNACK refusal carries its reason code, which paho.mqtt.c 1.3
        // reports in `code` (reasonCode stays 0); Paho's own errors are
        // negative. A code below 0x80 is a 3.1.1 return code: the broker
        // answered our MQTT 5 CONNECT in 3.1.1 (aedes: 1, "unacceptable
        // protocol version").
        if (response->reasonCode >= 0x80)
            r.reason = static_cast<int>(response->reasonCode);
        else if (response->code > 0 && response->code <= 0xFF)
            r.reason = response->code;
        r.client_code = response->code;
        if (response->message) r.message = response->message;
        r.connack = read_connack(&response->properties);
    }
    r.tls_error = s->tls_error;
    s->connect_done = true;
    s->cv.notify_all();
}

void on_connect_success3(void* context, MQTTAsync_successData* response) {
    auto* s = state_of(context);
    std::lock_guard lock(s->mutex);
    s->connect_result.ok = true;
    if (response) s->connect_result.connack.session_present = response->alt.connect.sessionPresent != 0;
    s->connect_done = true;
    s->cv.notify_all();
}

void on_connect_failure3(void* context, MQTTAsync_failureData* response) {
    auto* s = state_of(context);
    std::lock_guard lock(s->mutex);
    ConnectResult& r = s->connect_result;
    r.ok = false;
    if (response != nullptr) {
        // MQTT 3.1.1 CONNACK return codes 1..5 arrive as positive codes.
        if (response->code > 0 && response->code <= 5)
            r.reason = response->code;
        else
            r.client_code = response->code;
        if (response->message) r.message = response->message;
    }
    r.tls_error = s->tls_error;
    s->connect_done = true;
    s->cv.notify_all();
}

void on_publish_success5(void* context, MQTTAsync_successData5* response) {
    const int reason = response != nullptr ? static_cast<int>(response->reasonCode) : 0;
    // A PUBACK below 0x80 (0x00, 0x10 no matching subscribers) is a delivery.
    complete_publish(context, reason < 0x80, reason, 0);
}

void on_publish_failure5(void* context, MQTTAsync_failureData5* response) {
    const int reason = response != nullptr ? static_cast<int>(response->reasonCode) : 0;
    complete_publish(context, false, reason >= 0x80 ? reason : 0, response != nullptr ? response->code : -1);
}

void on_publish_success3(void* context, MQTTAsync_successData*) { complete_publish(context, true, 0, 0); }

void on_publish_failure3(void* context, MQTTAsync_failureData* response) {
    complete_publish(context, false, 0, response != nullptr ? response->code : -1);
}

void on_connection_lost(void* context, char* cause) {
    auto* s = state_of(context);
    std::string text = cause != nullptr && cause[0] != '\0' ? cause : "the broker closed the connection";
    if (cause != nullptr) MQTTAsync_free(cause);
    s->owner->events().on_connection_lost(s->owner->generation(), text, -1, std::nullopt);
}

void on_disconnected(void* context, MQTTProperties* properties, enum MQTTReasonCodes reason) {
    auto* s = state_of(context);
    std::string cause = "the broker sent DISCONNECT";
    if (auto text = string_property(properties, MQTTPROPERTY_CODE_REASON_STRING)) cause += " (\"" + *text + "\")";
    s->owner->events().on_connection_lost(s->owner->generation(), cause, static_cast<int>(reason),
                                          string_property(properties, MQTTPROPERTY_CODE_SERVER_REFERENCE));
}

int on_message(void* context, char* topic, int topic_length, MQTTAsync_message* message) {
    auto* s = state_of(context);
    std::string name = topic_length > 0 ? std::string(topic, static_cast<size_t>(topic_length)) : std::string(topic);
    std::string payload(static_cast<const char*>(message->payload), static_cast<size_t>(message->payloadlen));
    auto response_topic = string_property(&message->properties, MQTTPROPERTY_CODE_RESPONSE_TOPIC);
    auto correlation = string_property(&message->properties, MQTTPROPERTY_CODE_CORRELATION_DATA);
    MQTTAsync_freeMessage(&message);
    MQTTAsync_free(topic);
    s->owner->events().on_message(s->owner->generation(), std::move(name), std::move(payload),
                                  std::move(response_topic), std::move(correlation));
    return 1;
}

void on_subscribe_success5(void* context, MQTTAsync_successData5* response) {
    auto* s = state_of(context);
    std::lock_guard lock(s->mutex);
    s->subscribe_result.ok = true;
    if (response != nullptr) {
        if (response->alt.sub.reasonCodeCount <= 1) {
            s->subscribe_result.granted.push_back(static_cast<int>(response->reasonCode));
        } else {
            for (int i = 0; i < response->alt.sub.reasonCodeCount; ++i)
                s->subscribe_result.granted.push_back(static_cast<int>(response->alt.sub.reasonCodes[i]));
        }
    }
    s->subscribe_done = true;
    s->cv.notify_all();
}

void on_subscribe_failure5(void* context, MQTTAsync_failureData5* response) {
    auto* s = state_of(context);
    std::lock_guard lock(s->mutex);
    s->subscribe_result.ok = false;
    if (response != nullptr) {
        s->subscribe_result.granted.push_back(static_cast<int>(response->reasonCode));
        if (response->message) s->subscribe_result.error = response->message;
    }
    s->subscribe_done = true;
    s->cv.notify_all();
}

void on_subscribe_success3(void* context, MQTTAsync_successData* response) {
    auto* s = state_of(context);
    std::lock_guard lock(s->mutex);
    s->subscribe_result.ok = true;
    if (response != nullptr) {
        // One filter: its granted QoS; several: a list of as many.
        if (s->subscribe_count <= 1) {
            s->subscribe_result.granted.push_back(response->alt.qos);
        } else if (response->alt.qosList != nullptr) {
            for (int i = 0; i < s->subscribe_count; ++i)
                s->subscribe_result.granted.push_back(response->alt.qosList[i]);
        }
    }
    s->subscribe_done = true;
    s->cv.notify_all();
}

void on_subscribe_failure3(void* context, MQTTAsync_failureData* response) {
    auto* s = state_of(context);
    std::lock_guard lock(s->mutex);
    s->subscribe_result.ok = false;
    if (response != nullptr && response->message) s->subscribe_result.error = response->message;
    s->subscribe_done = true;
    s->cv.notify_all();
}

int on_ssl_error(const char* text, size_t length, void* context) {
    auto* s = state_of(context);
    std::lock_guard lock(s->mutex);
    std::string line(text, length);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (!s->tls_error.empty()) s->tls_error += "; ";
    s->tls_error += line;
    return 1;
}

void on_disconnect_done(void* context, MQTTAsync_successData*) {
    auto* s = state_of(context);
    std::lock_guard lock(s->mutex);
    s->disconnect_done = true;
    s->cv.notify_all();
}

void on_disconnect_failed(void* context, MQTTAsync_failureData*) { on_disconnect_done(context, nullptr); }

}  // namespace paho_callbacks

namespace {

// Once per process, before the first client:
// - Paho formats every trace line at its default level (MINIMUM) into an
//   in-memory ring whether or not anyone reads it: five vsnprintf calls per
//   publish, about a tenth of the daemon's instructions per reading (measured
//   with callgrind, bench/compare.sh). Errors are all we would ever show; the
//   MQTT_C_CLIENT_TRACE variable still turns Paho's own tracing on for debugging.
// - Paho initializes OpenSSL eagerly (all error strings, all algorithms), which
//   costs 1.4 MiB of resident memory even when no upstream uses TLS. OpenSSL 3
//   initializes itself on first use (SSL_CTX_new loads what TLS needs), so
//   Paho is told to leave it alone.
void configure_paho_once() {
    static const bool once = [] {
        MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
        init.do_openssl_init = 0;
        MQTTAsync_global_init(&init);
        if (std::getenv("MQTT_C_CLIENT_TRACE") == nullptr) MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
        return true;
    }();
    (void)once;
}

}  // namespace

PahoClient::PahoClient(ConnectSettings connect_settings, TransportEvents& events, std::uint64_t generation)
    : Transport(std::move(connect_settings), events, generation), state_(new State) {
    configure_paho_once();
    const ConnectSettings& s = settings();
    state_->owner = this;
    state_->slots.resize(static_cast<size_t>(s.max_inflight) + kControlSlots);
    for (auto& slot : state_->slots) {
        slot.state = state_;
        state_->free_slots.push_back(&slot);
    }
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
    create.MQTTVersion = s.mqtt_version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    create.sendWhileDisconnected = 0;
    // Paho refuses publishes once this many wait inside it, connected or not;
    // the session's window is the real bound.
    create.maxBufferedMessages = s.max_inflight + kControlSlots + 16;
    MQTTAsync handle = nullptr;
    int rc = MQTTAsync_createWithOptions(&handle, s.url.c_str(), s.client_id.c_str(), MQTTCLIENT_PERSISTENCE_NONE,
                                         nullptr, &create);
    if (rc != MQTTASYNC_SUCCESS) {
        delete state_;
        state_ = nullptr;
        throw std::runtime_error("cannot create the MQTT client for " + s.url + ": " + paho_error_text(rc));
    }
    handle_ = handle;
    MQTTAsync_setCallbacks(handle, state_, paho_callbacks::on_connection_lost, paho_callbacks::on_message, nullptr);
    if (s.mqtt_version == 5) MQTTAsync_setDisconnected(handle, state_, paho_callbacks::on_disconnected);
}

PahoClient::~PahoClient() {
    if (handle_ != nullptr) {
        MQTTAsync handle = handle_;
        MQTTAsync_destroy(&handle);
    }
    delete state_;
}

ConnectResult PahoClient::connect(const std::function<bool()>& abort) {
    const bool v5 = settings().mqtt_version == 5;
    MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
    MQTTAsync_connectOptions options5 = MQTTAsync_connectOptions_initializer5;
    if (v5) options = options5;
    // Explicitly 3.1.1: Paho's default would follow a refused 3.1.1 CONNECT
    // with a second one in MQTT 3.1, and a refusal must cost exactly one.
    options.MQTTVersion = v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    options.keepAliveInterval = settings().keep_alive_s;
    options.connectTimeout = settings().connect_timeout_s;
    options.maxInflight = settings().max_inflight + kControlSlots;
    options.automaticReconnect = 0;
    options.context = state_;
    MQTTProperties connect_properties = MQTTProperties_initializer;
    if (v5) {
        options.cleanstart = settings().clean_start ? 1 : 0;
        options.cleansession = 0;
        if (settings().session_expiry_s > 0) {
            add_numeric_property(connect_properties, MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL,
                                 settings().session_expiry_s);
            options.connectProperties = &connect_properties;
        }
        options.onSuccess5 = paho_callbacks::on_connect_success5;
        options.onFailure5 = paho_callbacks::on_connect_failure5;
    } else {
        options.cleansession = settings().clean_start ? 1 : 0;
        options.onSuccess = paho_callbacks::on_connect_success3;
        options.onFailure = paho_callbacks::on_connect_failure3;
    }
    if (settings().username) options.username = settings().username->c_str();
    if (settings().password) {
        options.binarypwd.data = settings().password->data();
        options.binarypwd.len = static_cast<int>(settings().password->size());
    }
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    if (settings().tls) {
        ssl.enableServerCertAuth = settings().tls_verify ? 1 : 0;
        ssl.verify = settings().tls_verify ? 1 : 0;  // host name check
        if (!settings().ca_file.empty()) ssl.trustStore = settings().ca_file.c_str();
        if (!settings().cert_file.empty()) ssl.keyStore = settings().cert_file.c_str();
        if (!settings().key_file.empty()) ssl.privateKey = settings().key_file.c_str();
        if (!settings().alpn.empty()) {
            // ALPN wire format: a length byte, then the name (AWS on port 443: x-amzn-mqtt-ca).
            alpn_wire_.assign(1, static_cast<unsigned char>(settings().alpn.size()));
            alpn_wire_.insert(alpn_wire_.end(), settings().alpn.begin(), settings().alpn.end());
            ssl.protos = alpn_wire_.data();
            ssl.protos_len = static_cast<unsigned>(alpn_wire_.size());
        }
        ssl.ssl_error_cb = paho_callbacks::on_ssl_error;
        ssl.ssl_error_context = state_;
        options.ssl = &ssl;
    }
    {
        std::lock_guard lock(state_->mutex);
        state_->connect_done = false;
        state_->connect_result = ConnectResult{};
        state_->tls_error.clear();
    }
    const int rc = MQTTAsync_connect(handle_, &options);
    MQTTProperties_free(&connect_properties);
    if (rc != MQTTASYNC_SUCCESS) {
        ConnectResult r;
        r.client_code = rc;
        r.message = paho_error_text(rc);
        return r;
    }
    const auto give_up = Clock::now() + std::chrono::seconds(settings().connect_timeout_s + 2);
    std::unique_lock lock(state_->mutex);
    while (!state_->connect_done) {
        state_->cv.wait_for(lock, std::chrono::milliseconds(100));
        if (state_->connect_done) break;
        lock.unlock();
        const bool stop = abort();
        lock.lock();
        if (stop || Clock::now() > give_up) {
            ConnectResult r;
            r.aborted = stop;
            r.timed_out = !stop;
            r.tls_error = state_->tls_error;
            return r;
        }
    }
    ConnectResult result = state_->connect_result;
    if (!result.ok && result.tls_error.empty()) result.tls_error = state_->tls_error;
    if (!result.ok && result.message.empty()) result.message = paho_error_text(result.client_code);
    return result;
}

int PahoClient::publish(const OutgoingPublish& message, std::uint64_t id) {
    PublishSlot* slot = nullptr;
    {
        std::lock_guard lock(state_->mutex);
        if (state_->free_slots.empty()) return MQTTASYNC_MAX_BUFFERED_MESSAGES;
        slot = state_->free_slots.back();
        state_->free_slots.pop_back();
    }
    slot->id = id;
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = const_cast<char*>(message.payload->data());
    msg.payloadlen = static_cast<int>(message.payload->size());
    msg.qos = message.qos;
    msg.retained = message.retain ? 1 : 0;
    MQTTAsync_responseOptions response = MQTTAsync_responseOptions_initializer;
    response.context = slot;
    const bool v5 = settings().mqtt_version == 5;
    if (v5) {
        BorrowedProperties& props = state_->publish_properties;
        props.clear();
        if (message.content_type) props.add_string(MQTTPROPERTY_CODE_CONTENT_TYPE, *message.content_type);
        if (message.payload_format >= 0)
            props.add_number(MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR, static_cast<unsigned>(message.payload_format));
        if (message.message_expiry_s > 0)
            props.add_number(MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, message.message_expiry_s);
        if (message.topic_alias > 0)
            props.add_number(MQTTPROPERTY_CODE_TOPIC_ALIAS, static_cast<unsigned>(message.topic_alias));
        if (message.response_topic != nullptr)
            props.add_string(MQTTPROPERTY_CODE_RESPONSE_TOPIC, *message.response_topic);
        if (message.correlation_data != nullptr)
            props.add_string(MQTTPROPERTY_CODE_CORRELATION_DATA, *message.correlation_data);
        if (message.properties != nullptr) {
            for (const auto& p : *message.properties) props.add_pair(p.key, p.value);
        }
        msg.properties = props.view();
        response.onSuccess5 = paho_callbacks::on_publish_success5;
        response.onFailure5 = paho_callbacks::on_publish_failure5;
    } else {
        response.onSuccess = paho_callbacks::on_publish_success3;
        response.onFailure = paho_callbacks::on_publish_failure3;
    }
    const int rc = MQTTAsync_sendMessage(handle_, message.topic->c_str(), &msg, &response);  // copies msg
    if (rc != MQTTASYNC_SUCCESS) {
        std::lock_guard lock(state_->mutex);
        state_->free_slots.push_back(slot);
    }
    return rc;
}

SubscribeResult PahoClient::subscribe(const std::vector<std::string>& filters, int qos,
                                      std::chrono::milliseconds timeout) {
    SubscribeResult result;
    if (filters.empty()) {
        result.ok = true;
        return result;
    }
    std::vector<char*> names;
    std::vector<int> qoss(filters.size(), qos);
    for (const auto& f : filters) names.push_back(const_cast<char*>(f.c_str()));
    MQTTAsync_responseOptions response = MQTTAsync_responseOptions_initializer;
    response.context = state_;
    if (settings().mqtt_version == 5) {
        response.onSuccess5 = paho_callbacks::on_subscribe_success5;
        response.onFailure5 = paho_callbacks::on_subscribe_failure5;
    } else {
        response.onSuccess = paho_callbacks::on_subscribe_success3;
        response.onFailure = paho_callbacks::on_subscribe_failure3;
    }
    {
        std::lock_guard lock(state_->mutex);
        state_->subscribe_done = false;
        state_->subscribe_count = static_cast<int>(filters.size());
        state_->subscribe_result = SubscribeResult{};
    }
    const int rc =
        MQTTAsync_subscribeMany(handle_, static_cast<int>(filters.size()), names.data(), qoss.data(), &response);
    if (rc != MQTTASYNC_SUCCESS) {
        result.error = paho_error_text(rc);
        return result;
    }
    std::unique_lock lock(state_->mutex);
    if (!state_->cv.wait_for(lock, timeout, [this] { return state_->subscribe_done; })) {
        result.error = "no SUBACK within " + std::to_string(timeout.count()) + " ms";
        return result;
    }
    return state_->subscribe_result;
}

void PahoClient::disconnect(std::chrono::milliseconds timeout) {
    if (!connected()) return;
    MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnectOptions options5 = MQTTAsync_disconnectOptions_initializer5;
    if (settings().mqtt_version == 5) options = options5;
    options.timeout = static_cast<int>(timeout.count());
    options.context = state_;
    options.onSuccess = paho_callbacks::on_disconnect_done;
    options.onFailure = paho_callbacks::on_disconnect_failed;
    {
        std::lock_guard lock(state_->mutex);
        state_->disconnect_done = false;
    }
    if (MQTTAsync_disconnect(handle_, &options) != MQTTASYNC_SUCCESS) return;
    std::unique_lock lock(state_->mutex);
    state_->cv.wait_for(lock, timeout + std::chrono::seconds(1), [this] { return state_->disconnect_done; });
}

std::string PahoClient::error_text(int code) const { return paho_error_text(code); }

TransportFactory paho_transport() {
    return
        [](ConnectSettings settings, TransportEvents& events, std::uint64_t generation) -> std::unique_ptr<Transport> {
            return std::make_unique<PahoClient>(std::move(settings), events, generation);
        };
}

bool PahoClient::connected() const { return handle_ != nullptr && MQTTAsync_isConnected(handle_) != 0; }

std::string paho_error_text(int code) {
    const char* text = MQTTAsync_strerror(code);
    if (text != nullptr) return text;
    return "Paho error " + std::to_string(code);
}

}  // namespace gwd
