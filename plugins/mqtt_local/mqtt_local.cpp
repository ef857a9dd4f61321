// mqtt_local: subscribes to a broker on the box (MQTT v5 by default) and turns
// every message into a reading: the payload as sent, the v5 Content Type
// property as the declared content type, the user properties in order, and
// what is left of the v5 Message Expiry Interval. The reading is named after
// a level of the source topic (the last one by default), so
// "sensors/gateway01/sensor02" becomes reading "sensor02".
//
// Nothing is lost between the broker and gatewayd's queue: the plugin keeps
// a persistent session (clean start off) and acknowledges a QoS 1 message
// only when gatewayd reports its reading stored (plugin ABI 2, stored()).
// If gatewayd stops or crashes before that, the broker sends the message
// again when the plugin reconnects.
#include <gatewayd/plugin.h>

#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ack_queue.h"
#include "broker_link.h"
#include "common/file_reference.h"
#include "common/units.h"
#include "mqtt/packet_reader.h"
#include "mqtt/packets.h"
#include "mqtt/reason_codes.h"
#include "supervision/connection_supervisor.h"

namespace {

using namespace mqtt_local;
using namespace gwd::mqtt;
using Clock = std::chrono::steady_clock;

// Each default is written here once; the README and mqtt_local.toml are
// tested against these specs (tests/unit/test_plugin_docs.cpp).
const gwd_option_spec kOptions[] = {
    {"url", GWD_OPTION_STRING, 1, "the local broker, e.g. \"tcp://127.0.0.1:1883\"", nullptr, {}},
    {"topics", GWD_OPTION_STRING_LIST, 1, "topic filters to subscribe to, e.g. [\"sensors/#\"]", nullptr, {}},
    {"qos", GWD_OPTION_INT, 0, "subscription QoS, 0 or 1", "1", {}},
    {"client_id", GWD_OPTION_STRING, 0, "default \"gatewayd-<gateway>-<sensor>\"", nullptr, {}},
    {"username", GWD_OPTION_STRING, 0, "user name for the local broker", nullptr, {}},
    {"password", GWD_OPTION_STRING, 0, "password for the local broker", nullptr, {}},
    {"password_file", GWD_OPTION_STRING, 0, "file holding the password, or credential:NAME", nullptr, {}},
    {"mqtt_version", GWD_OPTION_INT, 0, "5, or 4 for MQTT 3.1.1 brokers", "5", {}},
    {"name_from", GWD_OPTION_STRING, 0, "\"last_level\", \"topic\" or \"sensor\"", "\"last_level\"", {}},
    {"keep_alive", GWD_OPTION_DURATION, 0, "MQTT keep alive", "\"30s\"", {}},
    {"clean_start", GWD_OPTION_BOOL, 0, "start a new session at every connect (false: resume it)", "false", {}},
    {"session_expiry",
     GWD_OPTION_DURATION,
     0,
     "how long the broker keeps the session while gatewayd is away",
     "\"1d\"",
     {}},
    {"receive_maximum", GWD_OPTION_INT, 0, "QoS 1 messages in flight from the broker", "1000", {}},
    {"ca_file",
     GWD_OPTION_STRING,
     0,
     "CA certificates for ssl:// (default: the system's), or credential:NAME",
     nullptr,
     {}},
    {"cert_file", GWD_OPTION_STRING, 0, "client certificate for ssl://, or credential:NAME", nullptr, {}},
    {"key_file", GWD_OPTION_STRING, 0, "client key for ssl://, or credential:NAME", nullptr, {}},
    {"tls_verify", GWD_OPTION_BOOL, 0, "check the broker's certificate and name", "true", {}},
    // gatewayd's own max_reading_size default, which the cloud platforms'
    // limits stay under (AWS IoT Core 128 KB, Huawei IoTDA 1 MB).
    {"max_packet_size", GWD_OPTION_STRING, 0, "largest message taken from the broker", "\"1MiB\"", {}},
    {nullptr, 0, 0, nullptr, nullptr, {}},
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

// Readings still waiting for "stored" get this long at stop before the
// plugin disconnects; the broker sends whatever is left again next time.
constexpr std::chrono::seconds kStopGrace{2};
constexpr std::chrono::seconds kConnectTimeout{10};

// How the local broker connection is supervised: the upstreams' rules, with
// a local broker's retries (it costs no cloud anything to ask it again).
gwd::SupervisorSettings supervisor_settings() {
    gwd::SupervisorSettings s;
    s.backoff.initial = gwd::Duration(1000);
    s.backoff.max = gwd::Duration(30000);
    s.backoff.stable_after = gwd::Duration(30000);
    s.backoff.throttled_floor = gwd::Duration(5000);
    s.retry_after_auth_failure = gwd::Duration(60000);
    s.retry_after_incompatible = gwd::Duration(600000);
    return s;
}

// How one connection attempt ended.
struct Attempt {
    bool connected = false;  // it got a CONNACK that accepted it
    gwd::Failure failure;    // how it ended
    std::string error;       // for the log and status
};

class MqttLocal {
public:
    MqttLocal(const gwd_host_api* host, gwd_context* ctx) : host_(host), ctx_(ctx) {}

    ~MqttLocal() {
        stop();
        if (wake_fd_ >= 0) close(wake_fd_);
    }

    bool configure() {
        const char* text = nullptr;
        if (host_->option_string(ctx_, "url", &text) != GWD_OK) return refuse("the url option is missing");
        url_ = text;
        std::string problem;
        auto address = gwd::mqtt::parse_broker_url(url_, problem);
        if (!address) return refuse("url \"" + url_ + "\" " + problem);
        address_ = *address;

        const size_t n = host_->option_list_size(ctx_, "topics");
        if (n == 0) return refuse("topics is empty; list at least one topic filter, e.g. [\"sensors/#\"]");
        for (size_t i = 0; i < n; ++i) {
            if (host_->option_list_string(ctx_, "topics", i, &text) != GWD_OK)
                return refuse("topics must hold strings");
            if (!valid_topic_filter(text))
                return refuse(std::string("topics: \"") + text + "\" is not a valid topic filter");
            topics_.emplace_back(text);
        }
        int64_t qos = 0;
        if (!declared(host_->option_int(ctx_, "qos", &qos), "qos")) return false;
        if (qos < 0 || qos > 1) return refuse("qos must be 0 or 1");
        qos_ = static_cast<int>(qos);

        connect_.client_id = std::string("gatewayd-") + host_->gateway_id(ctx_) + "-" + host_->sensor_name(ctx_);
        if (host_->option_string(ctx_, "client_id", &text) == GWD_OK) connect_.client_id = text;
        if (connect_.client_id.empty()) return refuse("client_id must not be empty: the session is kept under it");
        if (host_->option_string(ctx_, "username", &text) == GWD_OK) connect_.username = text;
        if (host_->option_string(ctx_, "password", &text) == GWD_OK) connect_.password = text;
        std::string file_error;
        if (!file_option("password_file", password_file_, file_error)) return refuse(file_error);
        if (password_file_) {
            if (connect_.password) return refuse("set either password or password_file, not both");
            bool ok = false;
            read_password_file(*password_file_, ok);
            if (!ok) return refuse("password_file \"" + *password_file_ + "\" cannot be read");
            struct stat st {};
            if (stat(password_file_->c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
                log(GWD_LOG_WARNING, "password_file " + *password_file_ +
                                         " is readable by every user of this machine; it holds a secret: chmod o-r " +
                                         *password_file_);
            }
        }
        int64_t version = 0;
        if (!declared(host_->option_int(ctx_, "mqtt_version", &version), "mqtt_version")) return false;
        if (version != 4 && version != 5) return refuse("mqtt_version must be 4 (MQTT 3.1.1) or 5");
        connect_.version = static_cast<int>(version);

        if (!declared(host_->option_string(ctx_, "name_from", &text), "name_from")) return false;
        const std::string from = text;
        if (from == "last_level")
            name_from_ = NameFrom::last_level;
        else if (from == "topic")
            name_from_ = NameFrom::topic;
        else if (from == "sensor")
            name_from_ = NameFrom::sensor;
        else
            return refuse("name_from = \"" + from + "\" must be \"last_level\", \"topic\" or \"sensor\"");
        int64_t keep_alive_ms = 0;
        if (!declared(host_->option_duration_ms(ctx_, "keep_alive", &keep_alive_ms), "keep_alive")) return false;
        if (keep_alive_ms < 1000 || keep_alive_ms > 65535000) return refuse("keep_alive must be 1s to 65535s");
        connect_.keep_alive_s = static_cast<std::uint16_t>(keep_alive_ms / 1000);

        int clean = 0;
        if (!declared(host_->option_bool(ctx_, "clean_start", &clean), "clean_start")) return false;
        connect_.clean_start = clean != 0;
        int64_t expiry_ms = 0;
        if (!declared(host_->option_duration_ms(ctx_, "session_expiry", &expiry_ms), "session_expiry")) return false;
        if (expiry_ms < 0 || expiry_ms / 1000 > 0xFFFFFFFFLL)
            return refuse("session_expiry must be at most 4294967295s");
        connect_.session_expiry_s = static_cast<std::uint32_t>(expiry_ms / 1000);
        if (connect_.clean_start) connect_.session_expiry_s = 0;
        int64_t receive_maximum = 0;
        if (!declared(host_->option_int(ctx_, "receive_maximum", &receive_maximum), "receive_maximum")) return false;
        if (receive_maximum < 1 || receive_maximum > 65535) return refuse("receive_maximum must be 1 to 65535");
        connect_.receive_maximum = static_cast<std::uint16_t>(receive_maximum);

        for (auto [key, field] : {std::pair{"ca_file", &tls_.ca_file}, std::pair{"cert_file", &tls_.cert_file},
                                  std::pair{"key_file", &tls_.key_file}}) {
            std::optional<std::string> path;
            if (!file_option(key, path, file_error)) return refuse(file_error);
            if (path) *field = *path;
        }
        int verify = 0;
        if (!declared(host_->option_bool(ctx_, "tls_verify", &verify), "tls_verify")) return false;
        tls_.verify = verify != 0;
        if (tls_.cert_file.empty() != tls_.key_file.empty()) return refuse("cert_file and key_file go together");
        if (!address_.tls && (!tls_.ca_file.empty() || !tls_.cert_file.empty()))
            return refuse("ca_file, cert_file and key_file need an ssl:// url");

        if (!declared(host_->option_string(ctx_, "max_packet_size", &text), "max_packet_size")) return false;
        std::string size_error;
        const std::uint64_t bytes = gwd::parse_size(text, size_error).value_or(0);
        if (bytes < 128 || bytes > 268435455)
            return refuse(std::string("max_packet_size \"") + text +
                          "\" must be a size from \"128B\" to \"256MiB\", such as \"1MiB\"");
        connect_.maximum_packet_size = static_cast<std::uint32_t>(bytes);

        wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake_fd_ < 0) return refuse("cannot create an eventfd");
        return true;
    }

    int start() {
        thread_ = std::thread([this] { run(); });
        return GWD_OK;
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            if (stopping_ || !thread_.joinable()) return;
            stopping_ = true;
        }
        wake();
        cv_.notify_all();
        thread_.join();
    }

    // From the host's thread: the reading with this receipt is stored.
    void stored(void* ack_context) {
        bool first = false;
        {
            std::lock_guard lock(mutex_);
            first = stored_.empty();
            stored_.push_back(reinterpret_cast<std::uintptr_t>(ack_context));
        }
        // Those after the first ride on its wake-up: the pump takes them all.
        if (first) wake();
    }

private:
    bool refuse(const std::string& why) {
        log(GWD_LOG_ERROR, why);
        return false;
    }

    // Options with a declared default always have a value (plugin ABI 5);
    // false, after saying so, if the host gave none.
    bool declared(int status, const char* key) {
        if (status == GWD_OK) return true;
        return refuse(std::string("option ") + key + " has no value, not even its default");
    }

    void log(int level, const std::string& text) const { host_->log(ctx_, level, text.c_str()); }

    void wake() {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof one);
    }

    bool stopping() {
        std::lock_guard lock(mutex_);
        return stopping_;
    }

    // Tells the host (status) and the log what keeps the sensor from
    // working, once per change; "" when nothing does.
    void report(const std::string& problem, int level) {
        if (problem == problem_) return;
        problem_ = problem;
        if (host_->abi_version >= 4 && host_->set_problem != nullptr) host_->set_problem(ctx_, problem.c_str());
        if (!problem.empty()) log(level, problem);
    }

    // Connects, serves, and decides after every failure what to do with the
    // shared connection supervisor: backoff with jitter, a takeover by
    // another client with our client id, a broker that refuses us or speaks
    // another MQTT version.
    void run() {
        std::mt19937 rng(std::random_device{}());
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        gwd::ConnectionSupervisor supervisor(supervisor_settings(), [&] { return uniform(rng); });
        int failures = 0;
        while (!stopping()) {
            if (!sleep_for(supervisor.connect_delay(Clock::now()))) return;
            supervisor.on_connect_sent(Clock::now());
            Attempt attempt = serve(supervisor, failures);
            if (stopping()) return;
            const gwd::SupervisorDecision d = supervisor.on_failure(event_of(attempt), Clock::now());
            std::string problem = attempt.error;
            if (attempt.connected) {
                failures = 0;
                problem = "connection to " + url_ + " lost: " + attempt.error;
            } else {
                ++failures;
            }
            int level = GWD_LOG_WARNING;
            std::chrono::milliseconds wait = d.delay;
            if (d.kind == gwd::SupervisorDecision::Kind::park) {
                level = GWD_LOG_ERROR;
                if (d.takeover_conflict) {
                    problem = "another client uses client id '" + connect_.client_id + "' on " + url_ + " (" +
                              std::to_string(supervisor.takeovers_in_window()) +
                              " session takeovers within minutes); give each its own client_id";
                } else {
                    problem += ". " + d.classification.advice;
                }
                wait = d.retry_after.value_or(std::chrono::minutes(10));
                problem += "; trying again in " + gwd::format_duration(wait);
            }
            // The first failure and every change are logged; a repeat of the
            // same problem is not (a broker down for an hour is one line).
            if (problem == problem_) log(GWD_LOG_DEBUG, problem + " (again)");
            report(problem, level);
            if (!sleep_for(wait)) return;
            if (supervisor.parked()) supervisor.rearm();
        }
    }

    // Sleeps `d` unless the plugin stops first; false when it does.
    bool sleep_for(std::chrono::milliseconds d) {
        std::unique_lock lock(mutex_);
        return !cv_.wait_for(lock, d, [this] { return stopping_; });
    }

    gwd::FailureEvent event_of(const Attempt& attempt) const {
        gwd::FailureEvent event;
        event.failure = attempt.failure;
        event.connection_was_up = attempt.connected;
        event.connection_age = std::chrono::duration_cast<gwd::Duration>(Clock::now() - connected_at_);
        return event;
    }

    // A *_file option: a path or credential:NAME, as for the daemon's own
    // keys (common/file_reference.h). False with `error` when it names no file.
    bool file_option(const char* key, std::optional<std::string>& path, std::string& error) {
        const char* text = nullptr;
        if (host_->option_string(ctx_, key, &text) != GWD_OK) return true;
        std::string problem;
        auto resolved = gwd::resolve_file_reference(text, std::getenv("CREDENTIALS_DIRECTORY"), problem);
        if (!resolved) {
            error = std::string(key) + " " + problem;
            return false;
        }
        path = resolved->string();
        return true;
    }

    // One connection, from CONNECT to its end.
    Attempt serve(gwd::ConnectionSupervisor& supervisor, int failures) {
        Attempt a;
        a.failure.mqtt_version = connect_.version;
        ConnectOptions options = connect_;
        if (password_file_) {
            bool ok = false;
            options.password = read_password_file(*password_file_, ok);
            if (!ok) {
                a.error = "password_file \"" + *password_file_ + "\" cannot be read";
                return a;
            }
        }
        auto link = BrokerLink::connect(address_, tls_, kConnectTimeout, a.error);
        if (!link) {
            a.error = "cannot connect to " + url_ + ": " + a.error;
            if (address_.tls && a.error.find("certificate") != std::string::npos) {
                a.failure.source = gwd::FailureSource::tls;
                a.failure.tls_error = a.error;
            }
            return a;
        }
        // MQTT 5 brokers are told the limit in CONNECT; a 3.1.1 one (or one
        // that ignores it) has its larger messages skipped as they arrive.
        PacketReader reader(options.maximum_packet_size);
        acks_.reset();
        {
            std::lock_guard lock(mutex_);
            stored_.clear();
        }
        std::string error;
        if (!link->send(encode_connect(options), error)) {
            a.error = "cannot connect to " + url_ + ": " + error;
            return a;
        }
        auto connack_packet = read_packet(*link, reader, kConnack, error);
        std::optional<Connack> connack;
        if (connack_packet) connack = decode_connack(options.version, connack_packet->body, error);
        if (!connack) {
            a.error = "cannot connect to " + url_ + ": " + error;
            return a;
        }
        if (connack->reason != 0) {
            // A 3.1.1 broker answers an MQTT 5 CONNECT in 3.1.1 (return code 1).
            const bool answered_in_311 = options.version == 5 && connack->reason < 0x80;
            a.failure.source = gwd::FailureSource::connack;
            a.failure.code = connack->reason;
            a.error = "the broker at " + url_ + " refused the connection: " +
                      gwd::describe_reason(answered_in_311 ? 4 : options.version, connack->reason);
            if (answered_in_311) a.error += " (answered in MQTT 3.1.1)";
            if (connack->reason_string) a.error += " (\"" + *connack->reason_string + "\")";
            return a;
        }
        a.connected = true;
        connected_at_ = Clock::now();
        supervisor.on_connected(connected_at_);
        const std::uint16_t keep_alive = connack->server_keep_alive.value_or(options.keep_alive_s);
        std::optional<Packet> suback_packet;
        if (link->send(encode_subscribe(options.version, 1, topics_, qos_), error))
            suback_packet = read_packet(*link, reader, kSuback, error);
        std::optional<Suback> suback;
        if (suback_packet) suback = decode_suback(options.version, suback_packet->body, error);
        if (!suback) {
            a.error = error;
            return a;
        }
        for (size_t i = 0; i < suback->reasons.size() && i < topics_.size(); ++i) {
            if (suback->reasons[i] >= 0x80) {
                log(GWD_LOG_ERROR, "the broker refused the subscription to \"" + topics_[i] +
                                       "\": " + gwd::describe_reason(5, suback->reasons[i]));
            }
        }
        const bool resumed = connack->session_present;
        std::string line = "connected to " + url_ + " as '" + options.client_id + "', subscribed to " +
                           std::to_string(topics_.size()) + " topic filters";
        if (resumed) line += "; resumed the session";
        if (failures > 0) line += " (after " + std::to_string(failures) + " failed attempts)";
        log(failures > 0 || !problem_.empty() ? GWD_LOG_NOTICE : GWD_LOG_INFO, line);
        report("", GWD_LOG_INFO);
        if (!resumed && connected_before_ && !options.clean_start) {
            log(GWD_LOG_WARNING, "the broker kept no session for '" + options.client_id +
                                     "' (it restarted without persistence, or session_expiry passed): messages "
                                     "published while gatewayd was away were not kept for it");
        }
        connected_before_ = true;
        a.error = pump(*link, reader, options.version, keep_alive, a.failure);
        return a;
    }

    // Reads until a packet of `type` arrives (during CONNECT and SUBSCRIBE).
    // PUBLISHes of a resumed session may come first; they are served.
    std::optional<Packet> read_packet(BrokerLink& link, PacketReader& reader, std::uint8_t type, std::string& error) {
        const auto deadline = Clock::now() + kConnectTimeout;
        while (!stopping()) {
            auto packet = reader.next(error);
            if (!error.empty()) return std::nullopt;
            if (packet) {
                if (packet->type == type) return packet;
                if (packet->type == kPublish) {
                    if (!on_publish(link, *packet, connect_.version, error)) return std::nullopt;
                    continue;
                }
                if (packet->type == kDisconnect) {
                    error = "the broker closed the connection: " +
                            gwd::describe_reason(5, decode_disconnect_reason(connect_.version, packet->body));
                    return std::nullopt;
                }
                continue;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) {
                error = "no answer from the broker within " + std::to_string(kConnectTimeout.count()) + "s";
                return std::nullopt;
            }
            std::string bytes;
            const auto w = link.wait(-1, std::min(left, std::chrono::milliseconds(200)), bytes, error);
            if (w == BrokerLink::Wait::closed) return std::nullopt;
            if (w == BrokerLink::Wait::data) reader.feed(bytes.data(), bytes.size());
        }
        error = "stopping";
        return std::nullopt;
    }

    // Serves one connection until it ends; returns why it ended, and sets
    // `failure` when the broker gave a reason.
    std::string pump(BrokerLink& link, PacketReader& reader, int version, std::uint16_t keep_alive_s,
                     gwd::Failure& failure) {
        const auto keep_alive = std::chrono::seconds(keep_alive_s == 0 ? 3600 : keep_alive_s);
        auto last_sent = Clock::now();
        bool ping_outstanding = false;
        Clock::time_point ping_sent{};
        std::optional<Clock::time_point> stop_deadline;
        std::string error;
        Packet packet;  // reused: its body keeps its buffer (given back after a large one, below)
        std::vector<std::uint16_t> ready;
        std::string bytes;
        std::string pubacks;
        // Swapped with stored_ each time round, so neither buffer is allocated again.
        std::vector<std::uintptr_t> stored;
        while (true) {
            // PUBACKs for what gatewayd has stored, in arrival order.
            {
                stored.clear();
                {
                    std::lock_guard lock(mutex_);
                    stored.swap(stored_);
                    if (stopping_ && !stop_deadline) stop_deadline = Clock::now() + kStopGrace;
                }
                for (std::uintptr_t receipt : stored) acks_.stored(receipt);
                ready.clear();
                acks_.release(ready);
                // One write for all of them.
                pubacks.clear();
                for (std::uint16_t id : ready) pubacks += encode_puback(id);
                if (!pubacks.empty()) {
                    if (!link.send(pubacks, error)) return error;
                    last_sent = Clock::now();
                }
            }
            if (stop_deadline && (acks_.outstanding() == 0 || Clock::now() >= *stop_deadline)) {
                if (acks_.outstanding() > 0) {
                    log(GWD_LOG_INFO, std::to_string(acks_.outstanding()) +
                                          " messages were not yet stored at stop; the broker sends them again");
                }
                link.send(encode_disconnect(), error);  // the session stays, for session_expiry
                return "stopping";
            }
            // Handle every whole packet already read (not while stopping:
            // a reading emitted now could not be stored any more).
            while (!stop_deadline) {
                const bool whole = reader.next(packet, error);
                if (!error.empty()) return "the broker sent something that is not MQTT: " + error;
                if (!whole) break;
                switch (packet.type) {
                    case kPublish:
                        if (!on_publish(link, packet, version, error)) return error;
                        break;
                    case kPingresp: ping_outstanding = false; break;
                    case kDisconnect: {
                        const int reason = decode_disconnect_reason(version, packet.body);
                        if (version == 5) {
                            failure.source = gwd::FailureSource::disconnect;
                            failure.code = reason;
                        }
                        return "the broker closed the connection: " + gwd::describe_reason(5, reason);
                    }
                    default: break;
                }
                if (packet.body.capacity() > kKeptPayloadCapacity) std::string().swap(packet.body);
            }
            const auto now = Clock::now();
            if (ping_outstanding && now - ping_sent > keep_alive) return "no PINGRESP within the keep alive";
            if (!ping_outstanding && now - last_sent >= keep_alive) {
                if (!link.send(encode_pingreq(), error)) return error;
                ping_outstanding = true;
                ping_sent = now;
                last_sent = now;
            }
            auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(last_sent + keep_alive - now);
            wait = std::clamp(wait, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
            if (stop_deadline) wait = std::min(wait, std::chrono::milliseconds(20));
            bytes.clear();
            const auto w = link.wait(wake_fd_, wait, bytes, error);
            if (w == BrokerLink::Wait::closed) return error;
            if (w == BrokerLink::Wait::data) reader.feed(bytes.data(), bytes.size());
            if (w == BrokerLink::Wait::woken) {
                std::uint64_t count = 0;
                [[maybe_unused]] const ssize_t n = read(wake_fd_, &count, sizeof count);
            }
        }
    }

    // A message that cannot become a reading: logged (rate-limited),
    // acknowledged, and nothing else lost.
    bool set_aside(BrokerLink& link, const Publish& p, const std::string& why, std::string& error) {
        const auto now = Clock::now();
        if (now - set_aside_logged_ > std::chrono::seconds(10)) {
            log(GWD_LOG_WARNING,
                "a message on \"" + printable_topic(p.topic) + "\" " + why + "; acknowledged and dropped" +
                    (set_aside_quiet_ > 0 ? " (" + std::to_string(set_aside_quiet_) + " more since the last such line)"
                                          : ""));
            set_aside_logged_ = now;
            set_aside_quiet_ = 0;
        } else {
            ++set_aside_quiet_;
        }
        if (p.qos == 0) return true;
        acks_.stored(acks_.arrived(p.packet_id));
        std::vector<std::uint16_t> ready;
        acks_.release(ready);
        for (std::uint16_t id : ready) {
            if (!link.send(encode_puback(id), error)) return false;
        }
        return true;
    }

    static std::string printable_topic(const std::string& topic) {
        std::string out;
        for (char c : topic.substr(0, 128)) out += (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
        return out;
    }

    // One PUBLISH from the broker becomes one reading. QoS 1 messages are
    // acknowledged when gatewayd reports them stored.
    bool on_publish(BrokerLink& link, const Packet& packet, int version, std::string& error) {
        if (packet.oversized > 0) {
            auto head = decode_publish_head(packet.flags, packet.body, error);
            if (!head) return false;
            return set_aside(link, *head,
                             "of " + std::to_string(packet.oversized) + " bytes is larger than max_packet_size (" +
                                 gwd::format_size(connect_.maximum_packet_size) + ")",
                             error);
        }
        // Decoded into members that keep their capacity: no allocation per
        // PUBLISH. A large payload's buffer is given back once it has gone.
        struct ShedLargePayload {
            Publish& p;
            ~ShedLargePayload() {
                if (p.payload.capacity() > kKeptPayloadCapacity) std::string().swap(p.payload);
            }
        } shed{publish_};
        if (!decode_publish_into(version, packet.flags, packet.body, publish_, error)) return false;
        const Publish* p = &publish_;
        if (p->topic_alias) {
            error = "the broker used a topic alias, which this client never allowed";
            return false;
        }
        // MQTT forbids U+0000 in its strings; a broker that passes one on
        // anyway must not see it cut short silently ("a\0b" read as "a").
        auto has_nul = [](const std::string& text) { return text.find('\0') != std::string::npos; };
        bool nul = has_nul(p->topic) || (p->content_type && has_nul(*p->content_type));
        for (const auto& [k, v] : p->user_properties) nul = nul || has_nul(k) || has_nul(v);
        if (nul)
            return set_aside(link, *p, "carries a NUL character in its topic, content type or a user property", error);
        std::string& name = name_;
        switch (name_from_) {
            case NameFrom::last_level: {
                const size_t slash = p->topic.rfind('/');
                if (slash == std::string::npos)
                    name.assign(p->topic);
                else
                    name.assign(p->topic, slash + 1);
                if (name.empty()) name = host_->sensor_name(ctx_);
                break;
            }
            case NameFrom::topic: name = p->topic; break;
            case NameFrom::sensor: name = host_->sensor_name(ctx_); break;
        }
        std::vector<gwd_property> properties;
        properties.reserve(p->user_properties.size());
        for (const auto& [k, v] : p->user_properties) properties.push_back({k.c_str(), v.c_str()});

        gwd_reading reading{};
        reading.sensor = name.c_str();
        reading.payload = p->payload.data();
        reading.payload_len = p->payload.size();
        reading.content_type = p->content_type ? p->content_type->c_str() : nullptr;
        reading.properties = properties.data();
        reading.property_count = properties.size();
        reading.message_expiry_s = p->message_expiry_s.value_or(0);
        if (p->qos == 0) {
            host_->emit(ctx_, &reading);
            return true;
        }
        const std::uint64_t receipt = acks_.arrived(p->packet_id);
        reading.ack_context = reinterpret_cast<void*>(static_cast<std::uintptr_t>(receipt));
        if (host_->emit(ctx_, &reading) == GWD_ERR_INVALID) {
            // Refused as malformed (logged by the host): sending it again
            // would not help, so it is acknowledged at once. Any other
            // refusal leaves it unacknowledged, for the broker to send again.
            acks_.stored(receipt);
        }
        std::vector<std::uint16_t> ready;
        acks_.release(ready);
        for (std::uint16_t id : ready) {
            if (!link.send(encode_puback(id), error)) return false;
        }
        return true;
    }

    const gwd_host_api* host_;
    gwd_context* ctx_;
    std::string url_;
    BrokerAddress address_;
    TlsSettings tls_;
    std::vector<std::string> topics_;
    int qos_ = 1;
    ConnectOptions connect_;
    std::optional<std::string> password_file_;
    NameFrom name_from_ = NameFrom::last_level;
    bool connected_before_ = false;
    std::string problem_;  // as last reported to the host
    Clock::time_point connected_at_{};
    Clock::time_point set_aside_logged_{};
    std::uint64_t set_aside_quiet_ = 0;
    AckQueue acks_;  // the plugin's thread only
    int wake_fd_ = -1;

    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::vector<std::uintptr_t> stored_;  // receipts reported stored, not yet applied
    static constexpr size_t kKeptPayloadCapacity = 64 * 1024;
    Publish publish_;   // the PUBLISH on_publish() works on
    std::string name_;  // its reading's name
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
void stored(void* instance, void* ack_context, int) { static_cast<MqttLocal*>(instance)->stored(ack_context); }

const gwd_plugin kDescriptor = [] {
    gwd_plugin d{};
    d.abi_version = GWD_PLUGIN_ABI_VERSION;
    d.flags = 0;
    d.name = "mqtt_local";
    d.version = "2.0.0";
    d.description = "subscribes to a local MQTT broker and forwards each message as a reading";
    d.options = kOptions;
    d.create = create;
    d.start = start;
    d.stop = stop;
    d.destroy = destroy;
    d.stored = stored;
    return d;
}();

}  // namespace

extern "C" GWD_PLUGIN_EXPORT const gwd_plugin* gwd_plugin_entry(void) { return &kDescriptor; }
