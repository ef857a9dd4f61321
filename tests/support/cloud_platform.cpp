#include "cloud_platform.h"

#include <boost/test/unit_test.hpp>

#include <ctime>
#include <thread>

#include "process.h"

namespace gwd::test {

std::string shell(const std::string& script) {
    std::string out;
    GWD_REQUIRE(run_command({"sh", "-c", script}, out) == 0, script << ": " << out);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

namespace {

void add_password(const std::filesystem::path& file, const std::string& user, const std::string& password) {
    std::string out;
    std::vector<std::string> argv{"mosquitto_passwd", "-b"};
    if (!std::filesystem::exists(file)) argv.push_back("-c");
    argv.insert(argv.end(), {file.string(), user, password});
    GWD_REQUIRE(run_command(argv, out) == 0, out);
}

}  // namespace

std::unique_ptr<Mosquitto> platform_broker(const TempDir& dir, const std::string& user, const std::string& password,
                                           const std::string& cloud_filter, const std::string& device_filter,
                                           const std::string& extra) {
    auto passwords = dir.path() / "passwords";
    add_password(passwords, user, password);
    auto acl = dir.write(
        "acl", "topic readwrite " + cloud_filter + "\n\nuser " + user + "\ntopic readwrite " + device_filter + "\n");
    return std::make_unique<Mosquitto>("password_file " + passwords.string() + "\nacl_file " + acl.string() +
                                       "\nmax_queued_messages 1000\n" + extra);
}

AwsLikeBroker::AwsLikeBroker(const TempDir& dir) : pki(dir), tls_port(free_loopback_port()) {
    pki.add_client("device", "gw-01");  // AWS's identity, mosquitto's user name here
    auto acl = dir.write("acl",
                         "topic readwrite #\ntopic readwrite $aws/#\n\n"
                         "user gw-01\ntopic readwrite $aws/things/gw-01/#\ntopic write dt/gw-01/#\n"
                         "topic read cmd/gw-01/#\ntopic write reply/#\n");
    broker = std::make_unique<Mosquitto>(
        "acl_file " + acl.string() + "\nmax_queued_messages 100000\nmax_inflight_messages 0\n" + "listener " +
        std::to_string(tls_port) + " 127.0.0.1\ncafile " + pki.file("ca.pem") + "\ncertfile " + pki.file("server.pem") +
        "\nkeyfile " + pki.file("server.key") + "\nrequire_certificate true\nuse_identity_as_username true\n");
}

std::string AwsLikeBroker::tls_url() const { return "ssl://127.0.0.1:" + std::to_string(tls_port); }

std::string AwsLikeBroker::upstream_tls_keys() const {
    return "url = \"" + tls_url() + "\"\nca_file = \"" + pki.file("ca.pem") + "\"\ncert_file = \"" +
           pki.file("device.pem") + "\"\nkey_file = \"" + pki.file("device.key") + "\"\n";
}

HuaweiLikeBroker::HuaweiLikeBroker(const TempDir& dir, std::string device_id)
    : device(std::move(device_id)),
      secret_file(dir.write("hw.secret", "s3cret\n")),
      base("$oc/devices/" + device + "/sys/") {
    avoid_hour_boundary();
    broker = platform_broker(dir, device, huawei_password("s3cret", utc_hour_now()), "$oc/#",
                             "$oc/devices/" + device + "/#");
}

std::string HuaweiLikeBroker::huawei_table() const {
    return "[upstream.huawei]\ndevice_id = \"" + device + "\"\nsecret_file = \"" + secret_file.string() +
           "\"\nsign_type = 0\n";
}

std::string huawei_password(const std::string& secret, const std::string& hour) {
    return shell("printf %s '" + secret + "' | openssl dgst -sha256 -mac HMAC -macopt key:" + hour +
                 " | sed 's/.*= //'");
}

std::string utc_hour_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[16];
    std::strftime(buffer, sizeof buffer, "%Y%m%d%H", &tm);
    return buffer;
}

void avoid_hour_boundary() {
    const std::time_t t = std::time(nullptr);
    const int into_hour = static_cast<int>(t % 3600);
    if (into_hour > 3600 - 40) std::this_thread::sleep_for(std::chrono::seconds(3600 - into_hour + 1));
}

JsonValue json(const std::string& text) {
    std::string error;
    auto v = json_parse(text, error);
    BOOST_TEST_REQUIRE(v.has_value(), "not JSON: " << text);
    return *v;
}

std::string number_text(const JsonValue* v) { return v && v->is_number() ? v->as_number().text : "(none)"; }

std::optional<ReceivedMessage> wait_for_message(const TestSubscriber& sub, const std::string& topic,
                                                const std::function<bool(const JsonValue&)>& match,
                                                std::chrono::milliseconds timeout) {
    std::optional<ReceivedMessage> found;
    eventually(
        [&] {
            for (const auto& m : sub.on_topic(topic)) {
                std::string error;
                auto doc = json_parse(m.payload, error);
                if (doc && match(*doc)) {
                    found = m;
                    return true;
                }
            }
            return false;
        },
        timeout);
    return found;
}

}  // namespace gwd::test
