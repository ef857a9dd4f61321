#include "config/config_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <sys/un.h>

#include <toml++/toml.h>

#include "common/error_text.h"
#include "common/text.h"
#include "common/units.h"
#include "config/config_compare.h"
#include "config/platform_config_reader.h"
#include "config/table_reader.h"
#include "mqtt/broker_url.h"
#include "normalize/content_type.h"
#include "topics/topic_template.h"

namespace gwd {

namespace {

// sockaddr_un holds 108 bytes: a path of at most 107 and its NUL.
constexpr size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;
// MQTT strings and Receive Maximum are 16-bit.
constexpr std::int64_t kMqttMaxU16 = 65535;
// The smallest outbox worth having: one SQLite page.
constexpr std::uint64_t kMinOutboxBytes = 4096;
// A batch fsync waits at most this long; longer risks more at a power cut.
constexpr Duration kMaxFsyncInterval{60000};
// `batch = {}` alone: up to this many readings a publish.
constexpr std::int64_t kDefaultBatchReadings = 100;
constexpr std::int64_t kMaxBatchReadings = 10000;
constexpr std::uint64_t kMaxBatchBytes = 1024 * 1024;
constexpr Duration kMaxBatchLinger{60000};

OptionValue to_option_value(const toml::node& node, const std::string& file) {
    OptionValue out;
    out.where = location(file, node.source());
    if (const auto* s = node.as_string()) {
        out.value = s->get();
    } else if (const auto* i = node.as_integer()) {
        out.value = i->get();
    } else if (const auto* f = node.as_floating_point()) {
        out.value = f->get();
    } else if (const auto* b = node.as_boolean()) {
        out.value = b->get();
    } else if (const auto* a = node.as_array()) {
        OptionValue::List list;
        for (const auto& item : *a) list.push_back(to_option_value(item, file));
        out.value = std::move(list);
    } else if (const auto* t = node.as_table()) {
        OptionValue::Table members;
        for (const auto& [k, v] : *t) {
            OptionValue member = to_option_value(v, file);
            member.key_where = location(file, k.source());
            members.push_back({std::string(k.str()), std::move(member)});
        }
        // toml++ keeps keys sorted by name; plugins and messages want file order.
        std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) {
            return std::tie(a.second.key_where.line, a.second.key_where.column) <
                   std::tie(b.second.key_where.line, b.second.key_where.column);
        });
        out.value = std::move(members);
    } else {
        // Dates and times: plugins get them as the text the user wrote.
        std::ostringstream text;
        node.visit([&](const auto& value) { text << value; });
        out.value = text.str();
    }
    return out;
}

bool is_name(std::string_view s, bool allow_dot) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               (allow_dot && c == '.');
    });
}

class Loader {
public:
    Loader(const std::string& file, std::string_view hostname, Diagnostics& diags)
        : file_(file), hostname_(hostname), diags_(diags) {}

    Config load(const toml::table& root) {
        Config config;
        TableReader top(root, "the top level", file_, diags_);
        if (const toml::table* gateway = top.table("gateway")) {
            read_gateway(*gateway, config.gateway);
        } else {
            config.gateway.id = default_gateway_id();
        }
        if (const toml::table* normalize = top.table("normalize")) read_normalize(*normalize, config.normalize);
        read_array_of_tables(top, "sensor", [&](const toml::table& t, size_t index) {
            config.sensors.push_back(read_sensor(t, index));
        });
        read_array_of_tables(top, "upstream", [&](const toml::table& t, size_t index) {
            config.upstreams.push_back(read_upstream(t, index, config));
        });
        top.finish();
        cross_check(config, top);
        return config;
    }

private:
    std::string default_gateway_id() const {
        std::string id(hostname_);
        for (char& c : id)
            if (c == '+' || c == '#' || c == '/') c = '_';
        return id.empty() ? "gatewayd" : id;
    }

    template <typename Fn>
    void read_array_of_tables(TableReader& top, std::string_view key, Fn&& fn) {
        const toml::node* node = top.get(key);
        if (node == nullptr) return;
        if (node->is_table()) {
            top.error(key, "'" + std::string(key) + "' must be written [[" + std::string(key) + "]] (one block per " +
                               std::string(key) + "), not [" + std::string(key) + "]");
            return;
        }
        const toml::array* array = node->as_array();
        if (array == nullptr || !array->is_array_of_tables()) {
            top.error(key, "'" + std::string(key) + "' must be a list of [[" + std::string(key) + "]] tables");
            return;
        }
        size_t index = 0;
        for (const auto& item : *array) fn(*item.as_table(), index++);
    }

    void read_gateway(const toml::table& t, GatewayConfig& g) {
        TableReader r(t, "[gateway]", file_, diags_);
        g.id = r.string("id").value_or(default_gateway_id());
        if (trim(g.id).empty()) {
            r.error("id", "[gateway]: id must not be empty or only spaces; it is used inside topics and client ids");
        } else if (std::string problem = topic_value_problem(g.id);
                   !problem.empty() || g.id.find('/') != std::string::npos) {
            r.error("id", "[gateway]: id '" + g.id + "' " + (problem.empty() ? std::string("contains '/'") : problem) +
                              "; it is used inside topics");
        }
        if (auto dir = r.string("plugin_dir")) g.plugin_dir = *dir;
        g.plugin_dir_where = r.where("plugin_dir");
        if (auto dir = r.string("state_dir")) g.state_dir = *dir;
        g.state_dir_where = r.where("state_dir");
        if (auto level = r.string("log_level")) {
            if (!parse_log_level(*level, g.log_level)) {
                r.error("log_level",
                        "[gateway]: log_level '" + *level + "' is not one of error, warning, notice, info, debug");
            }
        }
        if (auto d = r.duration("shutdown_timeout")) g.shutdown_timeout = *d;
        if (auto d = r.duration("plugin_timeout")) {
            if (*d < Duration(100) || *d > Duration(3600 * 1000)) {
                r.error("plugin_timeout", "[gateway]: plugin_timeout must be from \"100ms\" to \"1h\"");
            } else {
                g.plugin_timeout = *d;
            }
        }
        if (auto bytes = r.size("max_reading_size")) {
            if (*bytes < 1024 || *bytes > 256ull * 1024 * 1024) {
                r.error("max_reading_size", "[gateway]: max_reading_size must be from \"1KiB\" to \"256MiB\"");
            } else {
                g.max_reading_size = *bytes;
            }
        }
        if (auto dir = r.string("runtime_dir")) g.runtime_dir = *dir;
        g.runtime_dir_where = r.where("runtime_dir");
        // The status socket's path must fit a sockaddr_un.
        if (const auto socket = status_socket_path(g); socket.string().size() > kMaxSocketPath) {
            r.error("runtime_dir", std::string("[gateway]: the status socket ") + socket.string() + " would be " +
                                       std::to_string(socket.string().size()) +
                                       " bytes long, more than a Unix socket path may be (" +
                                       std::to_string(kMaxSocketPath) +
                                       "); choose a shorter "
                                       "runtime_dir" +
                                       (g.runtime_dir ? "" : " (it comes from $RUNTIME_DIRECTORY)"));
        }
        r.finish();
    }

    void read_normalize(const toml::table& t, NormalizeConfig& n) {
        TableReader r(t, "[normalize]", file_, diags_);
        if (auto policy = r.choice<DecodeErrorPolicy>("on_decode_error",
                                                      {{"dead-letter", DecodeErrorPolicy::dead_letter, "the default"},
                                                       {"drop", DecodeErrorPolicy::drop, "dropped with a log line"}}))
            n.on_decode_error = *policy;
        if (auto topic = r.string("dead_letter_topic")) {
            check_topic_template(r, "dead_letter_topic", *topic);
            n.dead_letter_topic = *topic;
        }
        if (auto sniff = r.boolean("sniff")) n.options.sniff = *sniff;
        if (auto keys = r.string_list("content_type_keys")) n.options.content_type_keys = *keys;
        if (auto keys = r.string_list("transfer_encoding_keys")) n.options.transfer_encoding_keys = *keys;
        bool builtin = r.boolean("builtin_rules").value_or(true);

        PropertyRules user_rules;
        if (auto deny = r.string_list("deny"))
            for (const auto& g : *deny) user_rules.add_deny(g);
        if (const toml::table* aliases = r.table("content_types")) {
            for (const auto& [alias, node] : *aliases) {
                const auto* mime = node.as_string();
                if (mime == nullptr || !canonical_mime(mime->get())) {
                    diags_.error(location(file_, node.source()),
                                 "[normalize.content_types]: '" + std::string(alias.str()) +
                                     "' must map to a MIME type such as \"text/plain\"");
                    continue;
                }
                n.options.aliases.set(alias.str(), *canonical_mime(mime->get()));
            }
        }
        if (const toml::table* renames = r.table("rename")) {
            for (const auto& [from, node] : *renames) {
                const auto* to = node.as_string();
                if (to == nullptr || to->get().empty()) {
                    diags_.error(location(file_, node.source()),
                                 "[normalize.rename]: '" + std::string(from.str()) + "' must map to a key name");
                    continue;
                }
                user_rules.add_rename(from.str(), to->get());
            }
        }
        if (const toml::node* rules = r.get("rule")) {
            const toml::array* array = rules->as_array();
            if (array == nullptr || !array->is_array_of_tables()) {
                r.error("rule", "[normalize]: rules are written [[normalize.rule]]");
            } else {
                for (const auto& item : *array) read_rule(*item.as_table(), user_rules);
            }
        }
        r.finish();
        if (builtin) user_rules.append(PropertyRules::builtin());
        n.options.rules = std::move(user_rules);
    }

    void read_rule(const toml::table& t, PropertyRules& rules) {
        TableReader r(t, "[[normalize.rule]]", file_, diags_);
        auto keys = r.string_list("keys");
        auto pattern = r.string("pattern", true);
        auto lowercase = r.string_list("lowercase").value_or(std::vector<std::string>{});
        r.finish();
        if (!keys || keys->empty()) {
            r.error_here("[[normalize.rule]] needs 'keys', the property keys it applies to");
            return;
        }
        if (!pattern) return;
        std::string problem;
        auto compiled = PropertyPattern::compile(*pattern, problem);
        if (!compiled) {
            r.error("pattern", "[[normalize.rule]]: pattern \"" + *pattern + "\" " + problem);
            return;
        }
        rules.add_rule(PropertyRule{*keys, std::move(*compiled), lowercase});
    }

    void check_topic_template(TableReader& r, std::string_view key, const std::string& text) {
        std::string problem;
        if (!TopicTemplate::compile(text, problem)) r.error(key, r.label() + ": " + std::string(key) + ": " + problem);
    }

    SensorConfig read_sensor(const toml::table& t, size_t index) {
        SensorConfig s;
        s.where = location(file_, t.source());
        std::string label = "[[sensor]] #" + std::to_string(index + 1);
        if (const auto* name = t.get_as<std::string>("name")) label = "sensor '" + name->get() + "'";
        TableReader r(t, label, file_, diags_);
        const std::optional<std::string> name = r.string("name", true);
        s.name = name.value_or("");
        if (name && trim(s.name).empty()) {
            r.error("name", label + ": name must not be empty or only spaces; it names the sensor's readings");
        } else if (!s.name.empty()) {
            if (std::string problem = topic_value_problem(s.name); !problem.empty())
                r.error("name", label + ": name " + problem);
        }
        s.plugin = r.string("plugin", true).value_or("");
        s.plugin_where = r.where("plugin");
        if (!s.plugin.empty() && !is_name(s.plugin, false)) {
            r.error("plugin",
                    label + ": plugin '" + s.plugin +
                        "' must be a plain name (letters, digits, '_' and '-'): the file is plugin_dir/<plugin>.so");
        }
        if (auto d = r.duration("interval", Duration(1))) s.interval = *d;
        if (auto enabled = r.boolean("enabled")) s.enabled = *enabled;
        if (auto isolation = r.choice<Isolation>(
                "isolation",
                {{"none", Isolation::none, "the plugin runs inside gatewayd"},
                 {"process", Isolation::process, "in a child process of its own, restarted when it crashes or hangs"}}))
            s.isolation = *isolation;
        if (auto d = r.duration("expiry", Duration(1000))) {
            if (d->count() % 1000 != 0 || *d > Duration(0xFFFFFFFFLL * 1000))
                r.error("expiry", label + ": expiry must be whole seconds up to 4294967295s");
            else
                s.expiry = *d;
        }
        if (auto ct = r.string("content_type")) {
            ContentTypeAliases aliases;
            auto meaning = interpret_content_type(*ct, aliases);
            if (!meaning || !meaning->mime) {
                r.error("content_type", label + ": content_type '" + *ct +
                                            "' is not a MIME type such as \"text/plain\" or \"application/json\"");
            } else {
                s.content_type = meaning->mime;
            }
        }
        s.options.value = OptionValue::Table{};
        s.options.where = s.where;
        if (const toml::node* options = r.get("options")) {
            if (!options->is_table()) {
                r.error("options", label + ": 'options' must be a table: write [sensor.options] below [[sensor]]");
            } else {
                s.options = to_option_value(*options, file_);
            }
        }
        r.finish();
        return s;
    }

    UpstreamConfig read_upstream(const toml::table& t, size_t index, const Config& config) {
        UpstreamConfig u;
        u.where = location(file_, t.source());
        std::string label = "[[upstream]] #" + std::to_string(index + 1);
        if (const auto* name = t.get_as<std::string>("name")) label = "upstream '" + name->get() + "'";
        TableReader r(t, label, file_, diags_);
        const std::optional<std::string> name = r.string("name", true);
        u.name = name.value_or("");
        if (name && u.name.empty()) {
            r.error("name", label + ": name must not be empty; it names the upstream's queue file");
        } else if (!u.name.empty() && !is_name(u.name, true)) {
            r.error("name", label + ": name may hold letters, digits, '.', '_' and '-' only");
        }
        if (auto profile = r.string("profile")) {
            if (auto known = parse_profile(*profile)) {
                u.profile = *known;
            } else {
                std::string hint = nearest_match(*profile, {"mqtt", "aws", "huawei", "onenet"});
                r.error("profile", label + ": unknown profile '" + *profile + "'" +
                                       (hint.empty() ? std::string(" (known: mqtt, aws, huawei, onenet)")
                                                     : "; did you mean '" + hint + "'?"));
            }
        }
        u.dead_letter_topic = config.normalize.dead_letter_topic;
        apply_profile_defaults(u, config);
        if (auto url = r.string("url", true)) {
            std::string problem;
            if (auto parsed = mqtt::parse_broker_url(*url, problem)) {
                u.url = parsed->str();
                u.tls = parsed->tls;
            } else {
                r.error("url", label + ": url '" + *url + "' " + problem);
            }
        }
        u.client_id = r.string("client_id").value_or(config.gateway.id);
        if (u.client_id.size() > static_cast<size_t>(kMqttMaxU16))
            r.error("client_id", label + ": client_id is too long");
        u.username = r.string("username");
        u.password = r.string("password");
        // A NUL cannot reach the broker intact from every path (a C string
        // cuts it), and no broker's user database holds one.
        if (u.username && u.username->find('\0') != std::string::npos)
            r.error("username", label + ": username contains a NUL character (\\u0000)");
        if (u.password && u.password->find('\0') != std::string::npos)
            r.error("password", label + ": password contains a NUL character (\\u0000)");
        if (auto file = r.file("password_file")) u.password_file = *file;
        if (u.password && u.password_file) {
            r.error("password_file", label + ": set either password or password_file, not both");
        }
        if (u.password_file) check_readable_file(r, "password_file", *u.password_file);
        if (auto v = r.integer("mqtt_version", 3, 5)) {
            if (*v == 3) {
                r.error("mqtt_version",
                        label + ": mqtt_version 3 (MQTT 3.1) is not supported; use 4 (MQTT 3.1.1) or 5");
            } else {
                u.mqtt_version = static_cast<int>(*v);
            }
        }
        if (auto q = r.integer("qos", 0, 2)) {
            if (*q == 2) {
                r.error("qos", label + ": qos 2 is not supported; use 1 (at least once) or 0");
            } else {
                u.qos = static_cast<int>(*q);
            }
        }
        if (u.client_id.empty() && u.mqtt_version != 5) {
            r.error("client_id", label + ": an empty client_id (the broker assigns one) needs mqtt_version = 5");
        }
        if (auto retain = r.boolean("retain")) u.retain = *retain;
        if (auto topic = r.string("topic")) u.topic = *topic;
        check_topic_template(r, "topic", u.topic);
        if (auto topic = r.string("dead_letter_topic")) {
            if (!topic->empty()) check_topic_template(r, "dead_letter_topic", *topic);
            u.dead_letter_topic = *topic;
        }
        u.envelope = r.boolean("envelope").value_or(u.mqtt_version == 4 && u.profile == PlatformProfile::mqtt);
        if (u.profile != PlatformProfile::mqtt && r.has("envelope"))
            r.error(
                "envelope",
                label + ": envelope applies to profile = \"mqtt\"; cloud profiles send the platform's own payloads");
        if (auto bytes = r.size("max_payload")) u.max_payload = *bytes;
        if (auto alpn = r.string("alpn")) {
            if (alpn->empty() || alpn->size() > 255) r.error("alpn", label + ": alpn must be 1 to 255 bytes");
            u.alpn = *alpn;
        }
        if (auto sensors = r.string_list("sensors")) u.sensors = *sensors;
        if (auto f = r.file("ca_file")) u.ca_file = *f;
        if (auto f = r.file("cert_file")) u.cert_file = *f;
        if (auto f = r.file("key_file")) u.key_file = *f;
        if (auto verify = r.boolean("tls_verify")) u.tls_verify = *verify;
        for (auto [key, file] :
             {std::pair{"ca_file", &u.ca_file}, {"cert_file", &u.cert_file}, {"key_file", &u.key_file}}) {
            if (!*file) continue;
            if (!u.url.empty() && !u.tls) {
                r.error(key, label + ": " + key + " is set but url uses tcp://; use ssl:// for TLS");
            }
            check_readable_file(r, key, **file);
        }
        if (u.cert_file.has_value() != u.key_file.has_value()) {
            r.error(u.cert_file ? "cert_file" : "key_file",
                    label + ": cert_file and key_file go together (client certificate and its private key)");
        }
        if (auto d = r.duration("keep_alive", Duration(0))) {
            if (d->count() % 1000 != 0 || *d > Duration(65535 * 1000LL))
                r.error("keep_alive", label + ": keep_alive must be whole seconds up to 65535s");
            else
                u.keep_alive = *d;
        }
        if (auto d = r.duration("connect_timeout", Duration(1000))) u.connect_timeout = *d;
        if (auto clean = r.boolean("clean_start")) u.clean_start = *clean;
        if (auto d = r.duration("session_expiry")) {
            if (d->count() % 1000 != 0 || *d > Duration(0xFFFFFFFFLL * 1000))
                r.error("session_expiry", label + ": session_expiry must be whole seconds up to 4294967295s");
            else
                u.session_expiry = *d;
        }
        if (auto n = r.integer("max_inflight", 1, kMqttMaxU16)) u.max_inflight = static_cast<int>(*n);
        if (const toml::node* rate = r.get("max_publish_rate")) {
            if (auto v = rate->value<double>(); v && *v >= 0)
                u.max_publish_rate = *v;
            else
                r.error("max_publish_rate",
                        label + ": max_publish_rate must be a number of publishes per second (0: unlimited)");
        }
        if (auto b = r.boolean("topic_alias")) u.topic_alias = *b;
        if (auto b = r.boolean("follow_server_reference")) u.follow_server_reference = *b;
        if (const toml::node* retry = r.get("retry_after_auth_failure")) {
            if (retry->is_boolean() && !retry->as_boolean()->get()) {
                // false: the default, stay stopped
            } else if (auto d = r.duration("retry_after_auth_failure", Duration(1000))) {
                u.retry_after_auth_failure = *d;
            }
        }
        if (const toml::table* backoff = r.table("backoff")) read_backoff(*backoff, label, u.backoff);
        if (const toml::table* batch = r.table("batch")) read_batch(*batch, label, u.batch);
        if (auto replay = r.choice<ReplayOrder>(
                "replay", {{"oldest-first", ReplayOrder::oldest_first, "the default"},
                           {"live-first", ReplayOrder::live_first, "new readings before the backlog"}}))
            u.replay = *replay;
        if (const toml::node* share = r.get("replay_share")) {
            const auto v = share->value<double>();
            if (!v || *v <= 0 || *v >= 1)
                r.error("replay_share", label + ": replay_share must be a number between 0 and 1 (e.g. 0.5)");
            else
                u.replay_share = *v;
            if (u.replay != ReplayOrder::live_first)
                r.error("replay_share", label + ": replay_share applies to replay = \"live-first\" only");
        }
        if (auto d = r.duration("message_expiry", Duration(1000))) {
            if (d->count() % 1000 != 0 || *d > Duration(0xFFFFFFFFLL * 1000))
                r.error("message_expiry", label + ": message_expiry must be whole seconds up to 4294967295s");
            else
                u.message_expiry = *d;
        }
        if (auto outbox = r.choice<OutboxKind>("outbox", {{"disk", OutboxKind::disk, "durable, the default"},
                                                          {"memory", OutboxKind::memory, "qos = 0 only"}})) {
            u.outbox = *outbox;
            if (u.outbox == OutboxKind::memory) {
                u.max_bytes = kDefaultMemoryOutboxBytes;
                if (u.qos != 0) {
                    r.error("outbox", label +
                                          ": outbox = \"memory\" loses its queue on every restart, so it is "
                                          "allowed only with qos = 0; QoS 1 upstreams keep a durable queue "
                                          "(outbox = \"disk\", the default)");
                }
            }
        }
        if (auto bytes = r.size("max_bytes")) {
            if (*bytes < kMinOutboxBytes)
                r.error("max_bytes", label + ": max_bytes must be at least 4KiB");
            else
                u.max_bytes = *bytes;
        }
        if (auto overflow =
                r.choice<OverflowPolicy>("overflow", {{"drop-oldest", OverflowPolicy::drop_oldest, "the default"},
                                                      {"drop-newest", OverflowPolicy::drop_newest}}))
            u.overflow = *overflow;
        if (auto fsync = r.choice<FsyncPolicy>("fsync", {{"batch", FsyncPolicy::batch, "the default"},
                                                         {"always", FsyncPolicy::always},
                                                         {"never", FsyncPolicy::never}}))
            u.fsync = *fsync;
        if (auto d = r.duration("fsync_interval", Duration(1))) {
            if (*d > kMaxFsyncInterval)
                r.error("fsync_interval", label + ": fsync_interval must be at most 60s");
            else
                u.fsync_interval = *d;
        }
        if (u.outbox == OutboxKind::memory) {
            for (const char* key : {"fsync", "fsync_interval"}) {
                if (r.get(key)) r.error(key, label + ": " + key + " applies to outbox = \"disk\" only");
            }
        }
        read_platform_settings(r, label, u, config);
        r.finish();
        return u;
    }

    void read_backoff(const toml::table& t, const std::string& upstream_label, BackoffConfig& b) {
        TableReader r(t, upstream_label + " [upstream.backoff]", file_, diags_);
        if (auto d = r.duration("initial", Duration(1))) b.initial = *d;
        if (auto d = r.duration("max", Duration(1))) b.max = *d;
        if (auto d = r.duration("stable_after")) b.stable_after = *d;
        if (auto d = r.duration("throttled_floor")) b.throttled_floor = *d;
        if (b.max < b.initial) r.error("max", r.label() + ": max must not be smaller than initial");
        r.finish();
    }

    void read_batch(const toml::table& t, const std::string& upstream_label, BatchConfig& b) {
        TableReader r(t, upstream_label + " [upstream.batch]", file_, diags_);
        b.max_readings = kDefaultBatchReadings;
        if (auto n = r.integer("max_readings", 1, kMaxBatchReadings)) b.max_readings = static_cast<size_t>(*n);
        if (auto bytes = r.size("max_bytes")) {
            if (*bytes < 256 || *bytes > kMaxBatchBytes)
                r.error("max_bytes", r.label() + ": max_bytes must be from 256B to 1MiB");
            else
                b.max_bytes = *bytes;
        }
        if (auto d = r.duration("linger")) {
            if (*d > kMaxBatchLinger)
                r.error("linger", r.label() + ": linger must be at most 60s");
            else
                b.linger = *d;
        }
        r.finish();
    }

    void cross_check(const Config& config, TableReader& top) {
        std::map<std::string, const SensorConfig*> sensors;
        std::vector<std::string> sensor_names;
        for (const auto& s : config.sensors) {
            if (s.name.empty()) continue;
            auto [it, inserted] = sensors.emplace(s.name, &s);
            if (!inserted) {
                diags_.error(s.where, "sensor '" + s.name + "' is defined twice (first at line " +
                                          std::to_string(it->second->where.line) + "); sensor names must be unique");
            }
            sensor_names.push_back(s.name);
        }
        std::map<std::string, const UpstreamConfig*> upstreams;
        std::map<std::pair<std::string, std::string>, const UpstreamConfig*> identities;
        for (const auto& u : config.upstreams) {
            if (u.name.empty()) continue;
            // Two connections with one client id take each other's session over,
            // again and again: each connect closes the other.
            if (!u.url.empty() && !u.client_id.empty()) {
                auto [other, fresh] = identities.emplace(std::pair{u.url, u.client_id}, &u);
                if (!fresh) {
                    diags_.error(u.where, "upstream '" + u.name + "' and upstream '" + other->second->name +
                                              "' would both connect to " + u.url + " as client id '" + u.client_id +
                                              "', and the broker would disconnect one for the other; set a "
                                              "different client_id on one of them");
                }
            }
            auto [it, inserted] = upstreams.emplace(u.name, &u);
            if (!inserted) {
                diags_.error(u.where, "upstream '" + u.name + "' is defined twice (first at line " +
                                          std::to_string(it->second->where.line) + "); upstream names must be unique");
            }
            for (const auto& wanted : u.sensors) {
                if (sensors.count(wanted) != 0) continue;
                std::string hint = nearest_match(wanted, sensor_names);
                diags_.error(u.where, "upstream '" + u.name + "': sensors lists '" + wanted +
                                          "', but no [[sensor]] has that name" +
                                          (hint.empty() ? std::string() : "; did you mean '" + hint + "'?"));
            }
        }
        if (config.upstreams.empty()) {
            top.error_here("no [[upstream]] is configured: readings would have nowhere to go");
        }
    }

    const std::string& file_;
    std::string_view hostname_;
    Diagnostics& diags_;
};

}  // namespace

ConfigLoadResult parse_config(std::string_view text, const std::string& display_path, std::string_view hostname) {
    ConfigLoadResult result;
    toml::table root;
    try {
        root = toml::parse(text, display_path);
    } catch (const toml::parse_error& e) {
        result.diagnostics.error(location(display_path, e.source()), std::string(e.description()));
        return result;
    }
    Loader loader(display_path, hostname, result.diagnostics);
    Config config = loader.load(root);
    config.file = display_path;
    result.diagnostics.sort();
    result.partial = config;
    if (result.diagnostics.empty()) result.config = std::move(config);
    return result;
}

std::optional<OptionValue> parse_option_literal(std::string_view text, std::string& error) {
    // A newline would let the text declare keys of its own after the value.
    if (text.empty() || text.find_first_of("\r\n") != std::string_view::npos) {
        error = text.empty() ? "is empty" : "spans more than one line";
        return std::nullopt;
    }
    const std::string document = "value = " + std::string(text);
    try {
        toml::table root = toml::parse(std::string_view(document), std::string_view("default"));
        const toml::node* value = root.get("value");
        if (value == nullptr || root.size() != 1) {
            error = "is not one TOML value";
            return std::nullopt;
        }
        return to_option_value(*value, "default");
    } catch (const toml::parse_error& e) {
        error = "is not a TOML value (" + std::string(e.description()) + ")";
        return std::nullopt;
    }
}

ConfigLoadResult load_config_file(const std::filesystem::path& path, std::string_view hostname) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        ConfigLoadResult result;
        result.diagnostics.error(SourceLocation{path.string(), 0, 0},
                                 "cannot read the configuration: it is a directory, not a file");
        return result;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        ConfigLoadResult result;
        int err = errno;
        result.diagnostics.error(SourceLocation{path.string(), 0, 0},
                                 std::string("cannot read the configuration: ") + gwd::error_text(err) +
                                     (err == ENOENT ? " (pass another file with --config PATH)" : ""));
        return result;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) {
        ConfigLoadResult result;
        result.diagnostics.error(SourceLocation{path.string(), 0, 0},
                                 std::string("cannot read the configuration: ") + gwd::error_text(errno));
        return result;
    }
    return parse_config(buffer.str(), path.string(), hostname);
}

}  // namespace gwd
