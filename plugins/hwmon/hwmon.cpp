// hwmon: the machine's own sensors from sysfs, every `interval`: hwmon chips
// (temperatures, fans, voltages, currents, power, energy, humidity) with
// their labels, and thermal zones. Units are converted from what the kernel
// keeps (millidegrees, millivolts, microwatts) to °C, V, W, exactly.
//
// The tree is scanned again at every poll, so a sensor that appears (a USB
// device, a module loaded later) is read from the next poll on.
#include <fnmatch.h>
#include <gatewayd/plugin.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "sysfs_attributes.h"

namespace {

using namespace gwd::hwmon;
namespace fs = std::filesystem;

const gwd_option_spec kOptions[] = {
    {"sysfs_root", GWD_OPTION_STRING, 0, "where sysfs is mounted; a copy of its tree for tests", "\"/sys\"", {}},
    {"include", GWD_OPTION_STRING_LIST, 0, "globs of reading names to read (\"coretemp.*\")", "[\"*\"]", {}},
    {"exclude", GWD_OPTION_STRING_LIST, 0, "globs of reading names to leave out, after include", "[]", {}},
    {"hwmon", GWD_OPTION_BOOL, 0, "read the hwmon chips (/sys/class/hwmon)", "true", {}},
    {"thermal_zones", GWD_OPTION_BOOL, 0, "read the thermal zones (/sys/class/thermal)", "true", {}},
    {nullptr, 0, 0, nullptr, nullptr, {}},
};

// One value to read: where, what it is, and what it is called.
struct Source {
    std::string reading;
    fs::path file;
    Attribute attribute;
    std::string device;  // the chip's name, or the thermal zone's type
};

// The first line of a small sysfs file, or an error number.
bool read_line(const fs::path& path, std::string& out, int& error) {
    errno = 0;
    std::ifstream in(path);
    if (!in) {
        error = errno != 0 ? errno : ENOENT;
        return false;
    }
    if (!std::getline(in, out)) {
        // Reading a sensor that cannot answer fails here (EIO, ENODATA).
        error = errno != 0 ? errno : EIO;
        return false;
    }
    return true;
}

std::string trimmed_line(const fs::path& path) {
    std::string line;
    int error = 0;
    if (!read_line(path, line, error)) return {};
    while (!line.empty() && (line.back() == ' ' || line.back() == '\n')) line.pop_back();
    return line;
}

// Entries of `dir` whose name starts with `prefix`, in numeric order of the rest
// (hwmon2 before hwmon10).
std::vector<fs::path> numbered(const fs::path& dir, std::string_view prefix) {
    std::vector<std::pair<long, fs::path>> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (!name.starts_with(prefix)) continue;
        const std::string rest = name.substr(prefix.size());
        if (rest.empty() || rest.size() > 9 || rest.find_first_not_of("0123456789") != std::string::npos) continue;
        found.emplace_back(std::stol(rest), e.path());
    }
    std::sort(found.begin(), found.end());
    std::vector<fs::path> out;
    for (auto& [n, p] : found) out.push_back(std::move(p));
    return out;
}

bool has_inputs(const fs::path& dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (classify_input(e.path().filename().string())) return true;
    return false;
}

class Hwmon {
public:
    Hwmon(const gwd_host_api* host, gwd_context* ctx) : host_(host), ctx_(ctx) {}

    bool configure() {
        const char* root = nullptr;
        int hwmon = 1, thermal = 1;
        if (host_->option_string(ctx_, "sysfs_root", &root) != GWD_OK || host_->option_bool(ctx_, "hwmon", &hwmon) ||
            host_->option_bool(ctx_, "thermal_zones", &thermal)) {
            host_->log(ctx_, GWD_LOG_ERROR, "the host gave no value for an option with a default");
            return false;
        }
        root_ = root;
        read_hwmon_ = hwmon != 0;
        read_thermal_ = thermal != 0;
        for (const char* key : {"include", "exclude"}) {
            auto& globs = std::strcmp(key, "include") == 0 ? include_ : exclude_;
            for (size_t i = 0; i < host_->option_list_size(ctx_, key); ++i) {
                const char* glob = nullptr;
                if (host_->option_list_string(ctx_, key, i, &glob) == GWD_OK) globs.emplace_back(glob);
            }
        }
        if (!read_hwmon_ && !read_thermal_) {
            host_->log(ctx_, GWD_LOG_ERROR, "hwmon: hwmon and thermal_zones are both false; there is nothing to read");
            return false;
        }
        if (root_.empty() || root_[0] != '/') {
            host_->log(ctx_, GWD_LOG_ERROR, ("sysfs_root: '" + root_ + "' is not an absolute path").c_str());
            return false;
        }
        return true;
    }

    int poll() {
        const std::vector<Source> sources = scan();
        const std::int64_t now =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        size_t failing = 0;
        for (const Source& s : sources) {
            std::string line;
            int error = 0;
            std::optional<std::int64_t> raw;
            if (read_line(s.file, line, error)) {
                raw = parse_sysfs_integer(line);
                if (!raw) error = EINVAL;
            }
            if (!raw) {
                ++failing;
                failed(s, error);
                continue;
            }
            recovered(s);
            const std::string text = scaled_text(*raw, s.attribute.decimals);
            const std::string unit(s.attribute.unit), kind(s.attribute.kind);
            gwd_property props[3] = {{"device", s.device.c_str()}, {"unit", unit.c_str()}, {"kind", kind.c_str()}};
            gwd_reading reading{};
            reading.sensor = s.reading.c_str();
            reading.timestamp_ms = now;
            reading.payload = text.data();
            reading.payload_len = text.size();
            reading.content_type = "text/plain";
            reading.properties = props;
            reading.property_count = 3;
            host_->emit(ctx_, &reading);
        }
        std::string problem;
        if (sources.empty()) {
            problem = "no hwmon or thermal sensor under " + root_ + " matches include and exclude";
        } else if (failing > 0) {
            problem = std::to_string(failing) + " of " + std::to_string(sources.size()) + " sensors cannot be read";
        }
        if (problem != problem_) {
            if (!problem.empty() && sources.empty()) host_->log(ctx_, GWD_LOG_WARNING, problem.c_str());
            problem_ = problem;
            if (host_->abi_version >= 4) host_->set_problem(ctx_, problem.empty() ? nullptr : problem.c_str());
        }
        return GWD_OK;
    }

private:
    bool wanted(const std::string& reading) const {
        auto matches = [&](const std::vector<std::string>& globs) {
            return std::any_of(globs.begin(), globs.end(),
                               [&](const std::string& g) { return fnmatch(g.c_str(), reading.c_str(), 0) == 0; });
        };
        return matches(include_) && !matches(exclude_);
    }

    std::vector<Source> scan() const {
        std::vector<Source> out;
        std::set<std::string> taken;
        auto add = [&](Source s) {
            // Two chips of one name ("nvme") keep apart by a number, in sysfs order.
            const std::string base = s.reading;
            for (int n = 2; !taken.insert(s.reading).second; ++n) s.reading = base + "_" + std::to_string(n);
            if (wanted(s.reading)) out.push_back(std::move(s));
        };
        if (read_hwmon_) {
            for (const fs::path& chip : numbered(fs::path(root_) / "class/hwmon", "hwmon")) {
                std::string name = name_part(trimmed_line(chip / "name"));
                if (name.empty()) name = chip.filename().string();
                // Older drivers keep their attributes in device/.
                const fs::path dir = has_inputs(chip) ? chip : chip / "device";
                std::vector<std::string> files;
                std::error_code ec;
                for (const auto& e : fs::directory_iterator(dir, ec)) files.push_back(e.path().filename().string());
                std::sort(files.begin(), files.end());
                for (const std::string& file : files) {
                    auto attribute = classify_input(file);
                    if (!attribute) continue;
                    std::string label = name_part(trimmed_line(dir / (attribute->stem + "_label")));
                    if (label.empty()) label = attribute->stem;
                    add(Source{name + "." + label, dir / file, *attribute, name});
                }
            }
        }
        if (read_thermal_) {
            for (const fs::path& zone : numbered(fs::path(root_) / "class/thermal", "thermal_zone")) {
                std::string type = name_part(trimmed_line(zone / "type"));
                if (type.empty()) type = zone.filename().string();
                add(Source{"thermal." + type, zone / "temp", thermal_zone_temperature(), type});
            }
        }
        return out;
    }

    // Logged when a sensor starts failing, and when it works again; counted for status.
    void failed(const Source& s, int error) {
        auto& state = states_[s.reading];
        ++state.errors;
        if (host_->abi_version >= 6) host_->set_counter(ctx_, (s.reading + " read errors").c_str(), state.errors);
        if (state.failing) return;
        state.failing = true;
        const std::string line = s.reading + ": cannot read " + s.file.string() + ": " + std::strerror(error);
        host_->log(ctx_, GWD_LOG_WARNING, line.c_str());
    }
    void recovered(const Source& s) {
        auto it = states_.find(s.reading);
        if (it == states_.end() || !it->second.failing) return;
        it->second.failing = false;
        host_->log(ctx_, GWD_LOG_NOTICE, (s.reading + ": readable again").c_str());
    }

    struct State {
        bool failing = false;
        std::uint64_t errors = 0;
    };

    const gwd_host_api* host_;
    gwd_context* ctx_;
    std::string root_;
    bool read_hwmon_ = true, read_thermal_ = true;
    std::vector<std::string> include_, exclude_;
    std::map<std::string, State> states_;
    std::string problem_;
};

int create(const gwd_host_api* host, gwd_context* ctx, void** instance) {
    try {
        auto plugin = std::make_unique<Hwmon>(host, ctx);
        if (!plugin->configure()) return GWD_ERR_INVALID;
        *instance = plugin.release();
        return GWD_OK;
    } catch (...) {
        return GWD_ERR_NO_MEMORY;
    }
}

int poll(void* instance) {
    try {
        return static_cast<Hwmon*>(instance)->poll();
    } catch (...) {
        return GWD_ERR_FAILED;
    }
}

void destroy(void* instance) { delete static_cast<Hwmon*>(instance); }

const gwd_plugin kDescriptor = [] {
    gwd_plugin d{};
    d.abi_version = GWD_PLUGIN_ABI_VERSION;
    d.flags = GWD_PLUGIN_POLLED;
    d.name = "hwmon";
    d.version = "1.0.0";
    d.description = "the machine's hwmon chips and thermal zones from sysfs, in °C, RPM, V, A, W, J and %";
    d.options = kOptions;
    d.create = create;
    d.poll = poll;
    d.destroy = destroy;
    return d;
}();

}  // namespace

extern "C" GWD_PLUGIN_EXPORT const gwd_plugin* gwd_plugin_entry(void) { return &kDescriptor; }
