#include "app/credentials_report.h"

#include "common/utc_time.h"
#include "upstream/profiles/platform_credentials.h"

namespace gwd {

std::string mask_secret(const std::string& secret) {
    // A derived secret (Huawei's 64 hex digits, a OneNET token) may show a
    // little of each end to tell two apart; a short one, set by hand, shows
    // nothing: eight of its nine characters would be most of it.
    const std::string size = std::to_string(secret.size()) + " characters";
    if (secret.size() < 24) return "(hidden, " + size + "; --show-secret prints it)";
    return secret.substr(0, 4) + "…" + secret.substr(secret.size() - 4) + " (" + size + "; --show-secret prints it)";
}

std::string credentials_report(const UpstreamConfig& upstream, std::chrono::system_clock::time_point at,
                               bool show_secret, std::string& error) {
    auto credentials = make_credentials(upstream)->at(at, error);
    if (!credentials) return {};
    std::string out;
    auto line = [&](const std::string& label, const std::string& value) {
        out += label + std::string(label.size() < 11 ? 11 - label.size() : 1, ' ') + value + "\n";
    };
    line("upstream",
         upstream.name + " (profile " + std::string(profile_name(upstream.profile)) + ", " + upstream.url + ")");
    line("at", format_utc_time(at));
    line("client id", credentials->client_id.empty() ? "(assigned by the broker)" : credentials->client_id);
    line("username", credentials->username ? *credentials->username : "(none)");
    if (credentials->password) {
        line(upstream.profile == PlatformProfile::onenet ? "token" : "password",
             show_secret ? *credentials->password : mask_secret(*credentials->password));
    } else {
        line("password", "(none)");
    }
    if (credentials->expires_at) line("valid until", format_utc_time(*credentials->expires_at));
    if (upstream.cert_file) line("certificate", upstream.cert_file->string() + " (mutual TLS)");
    if (upstream.profile == PlatformProfile::huawei) {
        line("note", upstream.huawei.sign_type == 1
                         ? "sign_type 1: the platform checks the hour, so these change every UTC hour"
                         : "sign_type 0: the platform does not check the hour");
    }
    return out;
}

}  // namespace gwd
