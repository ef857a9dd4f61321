#include "plugin_host/plugin_host.h"

#include <sys/stat.h>

#include <algorithm>
#include <thread>

#include "common/time_source.h"
#include "common/units.h"
#include "config/config_compare.h"
#include "plugin_host/create_check.h"
#include "plugin_host/file_digest.h"
#include "plugin_host/isolated_sensor.h"
#include "plugin_host/plugin_options.h"
#include "plugin_host/sensor_fingerprint.h"

namespace gwd {

std::string list_available_plugins(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".so") names.push_back(entry.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

namespace {
std::filesystem::path plugin_path(const std::filesystem::path& dir, const std::string& plugin) {
    return dir / (plugin + ".so");
}

std::string explain_load_error(const std::filesystem::path& dir, const std::string& plugin, const std::string& error) {
    std::string message = error;
    std::error_code ec;
    if (!std::filesystem::exists(plugin_path(dir, plugin), ec)) {
        message += " (plugin_dir = " + dir.string() + "; plugins there: " + list_available_plugins(dir) + ")";
    }
    return message;
}

// A file being copied in place grows for a while; loading it half-written
// would refuse a plugin that is fine. Stable: same size, time and inode
// across kStableChecks looks kStableEvery apart, within kStableWithin.
constexpr auto kStableEvery = std::chrono::milliseconds(100);
constexpr int kStableChecks = 2;
constexpr auto kStableWithin = std::chrono::seconds(10);

bool wait_until_stable(const std::filesystem::path& file) {
    struct stat last {};
    if (::stat(file.c_str(), &last) != 0) return false;
    int same = 0;
    const auto give_up = std::chrono::steady_clock::now() + kStableWithin;
    while (std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(kStableEvery);
        struct stat now {};
        if (::stat(file.c_str(), &now) != 0) return false;
        const bool unchanged = now.st_size == last.st_size && now.st_ino == last.st_ino &&
                               now.st_mtim.tv_sec == last.st_mtim.tv_sec && now.st_mtim.tv_nsec == last.st_mtim.tv_nsec;
        same = unchanged ? same + 1 : 0;
        last = now;
        if (same >= kStableChecks && now.st_size > 0) return true;
    }
    return false;
}

std::filesystem::path normalized(const std::filesystem::path& file) {
    return std::filesystem::absolute(file).lexically_normal();
}

bool is_quarantined(const std::optional<SensorStatus>& disabled) {
    return disabled && disabled->state == SensorState::quarantined;
}

// Runs `work(i)` for i in [0, n) side by side and waits for all.
template <typename Work>
void side_by_side(size_t n, Work work) {
    if (n == 1) {
        work(0);
        return;
    }
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        try {
            threads.emplace_back([&work, i] { work(i); });
        } catch (const std::system_error&) {
            work(i);  // no thread to spare: one after the other
        }
    }
    for (auto& t : threads) t.join();
}
}  // namespace

PluginHost::PluginHost(ReadingSink& sink, Logger log, std::vector<CrashRecord> crashes)
    : sink_(sink), log_(std::move(log)), crashes_(std::move(crashes)) {}

PluginHost::~PluginHost() { stop(Clock::now() + limits_.call_timeout); }  // at once if stopped

std::filesystem::path PluginHost::plugin_file(const std::string& plugin) const {
    return plugin_path(plugin_dir_, plugin);
}

std::shared_ptr<PluginLibrary> PluginHost::library_for(const std::string& plugin, std::string& error, bool& blocked) {
    std::lock_guard lock(libraries_mutex_);
    auto it = libraries_.find(plugin);
    if (it != libraries_.end()) return it->second;
    if (auto b = blocked_.find(plugin); b != blocked_.end()) {
        error = b->second;
        blocked = true;
        return nullptr;
    }
    PluginRollback::Choice choice{plugin_file(plugin), {}};
    if (rollback_) choice = rollback_->choose(plugin, plugin_file(plugin));
    if (!choice.note.empty()) {
        log_.error("plugin " + plugin + ": " + choice.note);
        set_plugin_note(plugin, choice.note);
    }
    if (choice.load.empty()) {
        blocked_[plugin] = error = choice.note;
        blocked = true;
        return nullptr;
    }
    auto library = PluginLibrary::load(choice.load, error, images_dir_);
    if (!library && !choice.note.empty()) error = choice.note + "; but the kept version cannot be loaded: " + error;
    if (library) libraries_[plugin] = library;
    return library;
}

PluginHost::Entry PluginHost::launch(const SensorConfig& sensor, std::shared_ptr<PluginLibrary> library) {
    Entry entry{sensor, nullptr, std::nullopt, {}};
    const std::string label = "sensor '" + sensor.name + "'";
    auto disable = [&](const std::string& why, SensorState state = SensorState::failed) {
        log_.error(Diagnostic{sensor.plugin_where, label + " disabled: " + why}.str());
        SensorStatus s;
        s.name = sensor.name;
        s.plugin = sensor.plugin;
        s.state = state;
        s.error = why;
        entry.disabled = s;
        return std::move(entry);
    };
    if (!sensor.enabled) {
        log_.info(label + " is disabled in the configuration");
        SensorStatus s;
        s.name = sensor.name;
        s.plugin = sensor.plugin;
        s.state = SensorState::stopped;
        s.error = "enabled = false";
        entry.disabled = s;
        return entry;
    }
    entry.fingerprint = sensor_fingerprint(sensor, plugin_file(sensor.plugin));
    if (auto why = quarantine_reason(crashes_, sensor.name, entry.fingerprint)) {
        return disable("quarantined: " + *why, SensorState::quarantined);
    }
    std::string error;
    bool blocked = false;
    if (!library) library = library_for(sensor.plugin, error, blocked);
    if (!library && blocked) return disable(error, SensorState::quarantined);
    if (!library) return disable(explain_load_error(plugin_dir_, sensor.plugin, error));
    Diagnostics option_problems;
    check_plugin_options(sensor.options, library->options(), sensor.plugin, label, option_problems);
    if (!option_problems.empty()) {
        for (const auto& d : option_problems.items()) log_.error(d.str());
        return disable("its options have " + std::to_string(option_problems.items().size()) +
                       " problem(s), listed above");
    }
    std::shared_ptr<SensorRunner> instance;
    if (sensor.isolation == Isolation::process) {
        instance = std::make_shared<IsolatedSensor>(sensor, gateway_id_, library, sink_,
                                                    log_.child("sensor " + sensor.name), limits_);
    } else {
        instance =
            std::make_shared<SensorInstance>(sensor, gateway_id_, library, sink_, log_.child("sensor " + sensor.name),
                                             limits_, crash_record_tail(sensor.name, sensor.plugin, entry.fingerprint));
    }
    if (instance->create(Clock::now() + limits_.call_timeout) && instance->start(Clock::now() + limits_.call_timeout)) {
        log_.info(label + " started (plugin " + sensor.plugin + " " + library->version_label() +
                  (instance->polled() ? ", polled every " + format_duration(sensor.interval) : "") +
                  (sensor.isolation == Isolation::process ? ", in a process of its own" : "") + ")");
    }
    entry.instance = std::move(instance);  // a failed one keeps its status visible
    return entry;
}

std::vector<PluginHost::Entry> PluginHost::launch_all(const std::vector<SensorConfig>& sensors) {
    std::vector<Entry> entries(sensors.size());
    side_by_side(sensors.size(), [&](size_t i) { entries[i] = launch(sensors[i]); });
    return entries;
}

void PluginHost::retire_all(std::vector<std::shared_ptr<SensorRunner>> instances, Clock::time_point deadline) {
    std::erase(instances, nullptr);
    std::vector<char> clean(instances.size(), 0);
    side_by_side(instances.size(), [&](size_t i) { clean[i] = instances[i]->shutdown(deadline) ? 1 : 0; });
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < instances.size(); ++i)
        if (!clean[i]) graveyard_.push_back(instances[i]);
}

size_t PluginHost::start(const Config& config) {
    std::lock_guard lifecycle(lifecycle_mutex_);
    {
        std::lock_guard lock(mutex_);
        gateway_id_ = config.gateway.id;
        plugin_dir_ = config.gateway.plugin_dir;
        images_dir_ = config.gateway.state_dir / "plugin-images";
        limits_.call_timeout = config.gateway.plugin_timeout;
        limits_.max_reading_size = config.gateway.max_reading_size;
    }
    // Copies left by an earlier run that ended without unloading them.
    std::error_code ec;
    std::filesystem::remove_all(images_dir_, ec);
    rollback_ = std::make_unique<PluginRollback>(config.gateway.state_dir / "plugin-rollback");
    std::set<std::string> plugins;
    for (const auto& sensor : config.sensors)
        if (sensor.enabled) plugins.insert(sensor.plugin);
    for (const auto& plugin : plugins) {
        if (auto q = rollback_->settle_swap(plugin, crashes_, system_now_ms())) {
            log_.error("plugin " + plugin + ": QUARANTINED version " + (q->version.empty() ? "?" : q->version) +
                       " (sha256 " + q->sha.substr(0, 8) + ") of " + plugin_file(plugin).string() + ": " + q->reason +
                       "; it is tried again only once that file changes");
        }
    }
    std::vector<Entry> launched = launch_all(config.sensors);
    size_t running = 0;
    for (const auto& e : launched)
        if (e.instance && e.instance->status().state == SensorState::running) ++running;
    std::lock_guard lock(mutex_);
    entries_ = std::move(launched);
    return running;
}

SensorChanges PluginHost::apply(const Config& next) {
    std::lock_guard lifecycle(lifecycle_mutex_);
    SensorChanges changes;
    // A new gateway id or plugin directory changes what every sensor sees.
    const bool everything = next.gateway.id != gateway_id_ || next.gateway.plugin_dir != plugin_dir_;
    {
        std::lock_guard lock(mutex_);
        gateway_id_ = next.gateway.id;
        plugin_dir_ = next.gateway.plugin_dir;
        images_dir_ = next.gateway.state_dir / "plugin-images";
        limits_.call_timeout = next.gateway.plugin_timeout;
        limits_.max_reading_size = next.gateway.max_reading_size;
    }
    if (everything) {
        // Another plugin_dir: its files are other files. Within one, a
        // replaced file is plugin_file_changed()'s, which keeps a way back.
        std::lock_guard lock(libraries_mutex_);
        libraries_.clear();
        blocked_.clear();
    }
    std::vector<Entry> current;
    {
        std::lock_guard lock(mutex_);
        current = entries_;
    }
    std::vector<std::optional<Entry>> result(next.sensors.size());
    std::vector<SensorConfig> to_launch;
    std::vector<size_t> launch_slots;
    std::vector<std::shared_ptr<SensorRunner>> to_retire;
    for (size_t i = 0; i < next.sensors.size(); ++i) {
        const SensorConfig& sensor = next.sensors[i];
        auto old =
            std::find_if(current.begin(), current.end(), [&](const Entry& e) { return e.config.name == sensor.name; });
        const bool found = old != current.end();
        if (found && !everything && same_settings(old->config, sensor)) {
            const SensorState state = old->instance ? old->instance->status().state : SensorState::failed;
            const bool alive = old->instance && !old->instance->abandoned() &&
                               (state == SensorState::running || state == SensorState::stuck);
            // A quarantine lasts while the block and the plugin file stay as they were.
            const bool still_quarantined = is_quarantined(old->disabled) &&
                                           sensor_fingerprint(sensor, plugin_file(sensor.plugin)) == old->fingerprint;
            if (alive || still_quarantined) {
                old->config = sensor;  // same settings; keep the new source positions
                result[i] = std::move(*old);
                current.erase(old);
                ++changes.unchanged;
                continue;
            }
        }
        if (found) {
            to_retire.push_back(old->instance);
            current.erase(old);
            ++changes.restarted;
        } else {
            ++changes.started;
        }
        to_launch.push_back(sensor);
        launch_slots.push_back(i);
    }
    for (Entry& gone : current) {
        to_retire.push_back(gone.instance);
        ++changes.stopped;
        log_.info("sensor '" + gone.config.name + "' stopped: no longer in the configuration");
    }
    retire_all(std::move(to_retire), Clock::now() + limits_.call_timeout);
    std::vector<Entry> launched = launch_all(to_launch);
    for (size_t k = 0; k < launched.size(); ++k) result[launch_slots[k]] = std::move(launched[k]);
    std::lock_guard lock(mutex_);
    entries_.clear();
    for (auto& e : result) entries_.push_back(std::move(*e));
    return changes;
}

size_t PluginHost::stop(Clock::time_point deadline) {
    std::lock_guard lifecycle(lifecycle_mutex_);
    if (stopped_) return abandoned();
    stopped_ = true;
    std::vector<std::shared_ptr<SensorRunner>> instances;
    {
        std::lock_guard lock(mutex_);
        for (auto& e : entries_)
            if (e.instance) instances.push_back(e.instance);
    }
    retire_all(std::move(instances), deadline);
    return abandoned();
}

size_t PluginHost::abandoned() const {
    std::lock_guard lock(mutex_);
    return graveyard_.size();
}

void PluginHost::watch() {
    std::vector<std::shared_ptr<SensorRunner>> instances;
    {
        std::lock_guard lock(mutex_);
        for (auto& e : entries_)
            if (e.instance) instances.push_back(e.instance);
    }
    for (auto& i : instances) i->watch(Clock::now());
}

CommandOutcome PluginHost::run_command(const Command& command) {
    std::shared_ptr<SensorRunner> instance;
    Duration timeout{};
    {
        std::lock_guard lock(mutex_);
        timeout = limits_.call_timeout;
        auto e = std::find_if(entries_.begin(), entries_.end(),
                              [&](const Entry& entry) { return entry.config.name == command.instance; });
        if (e == entries_.end()) {
            return CommandOutcome::failure(CommandOutcome::Status::unsupported,
                                           "no [[sensor]] is named '" + command.instance + "'");
        }
        if (!e->instance) {
            return CommandOutcome::failure(
                CommandOutcome::Status::unsupported,
                "sensor '" + command.instance + "' is disabled" +
                    (e->disabled && !e->disabled->error.empty() ? ": " + e->disabled->error : ""));
        }
        instance = e->instance;  // a reload may retire it meanwhile; it answers "not running" then
    }
    return instance->command(command, Clock::now() + timeout);
}

std::vector<SensorStatus> PluginHost::status() const {
    std::lock_guard lock(mutex_);
    std::vector<SensorStatus> out;
    for (const auto& entry : entries_) {
        out.push_back(entry.instance ? entry.instance->status() : *entry.disabled);
        if (auto note = plugin_notes_.find(entry.config.plugin); note != plugin_notes_.end())
            out.back().plugin_note = note->second;
    }
    return out;
}

std::vector<PluginFileStatus> PluginHost::plugin_status() const {
    std::lock_guard lock(mutex_);
    std::vector<PluginFileStatus> out;
    for (const auto& e : entries_) {
        if (!e.config.enabled) continue;
        auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.name == e.config.plugin; });
        if (it == out.end()) {
            PluginFileStatus p;
            p.name = e.config.plugin;
            p.path = plugin_file(e.config.plugin);
            if (auto note = plugin_notes_.find(p.name); note != plugin_notes_.end()) p.note = note->second;
            out.push_back(std::move(p));
            it = out.end() - 1;
        }
        it->sensors.push_back(e.config.name);
        if (!e.instance || it->loaded) continue;
        const PluginLibrary& library = *e.instance->library();
        it->loaded = true;
        it->version = library.descriptor().version != nullptr ? library.descriptor().version : "";
        it->abi_version = library.descriptor().abi_version;
        it->sha256 = library.sha256();
        it->loaded_at = library.loaded_at();
    }
    return out;
}

std::set<std::filesystem::path> PluginHost::plugin_files() const {
    std::lock_guard lock(mutex_);
    std::set<std::filesystem::path> files;
    for (const auto& e : entries_)
        if (e.config.enabled) files.insert(normalized(plugin_file(e.config.plugin)));
    return files;
}

void PluginHost::set_plugin_note(const std::string& plugin, std::string note) {
    std::lock_guard lock(mutex_);
    if (note.empty())
        plugin_notes_.erase(plugin);
    else
        plugin_notes_[plugin] = std::move(note);
}

void PluginHost::plugin_file_changed(const std::filesystem::path& file) {
    std::lock_guard lifecycle(lifecycle_mutex_);
    if (stopped_) return;
    const std::string plugin = file.stem().string();
    std::vector<Entry> users;
    {
        std::lock_guard lock(mutex_);
        for (const auto& e : entries_)
            if (e.config.enabled && e.config.plugin == plugin && normalized(plugin_file(plugin)) == file)
                users.push_back(e);
    }
    if (users.empty()) return;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        const bool running = std::any_of(users.begin(), users.end(), [](const Entry& e) { return e.instance; });
        if (!running) return;
        const std::string note =
            "its plugin file " + file.string() + " was removed; the sensors keep running the version loaded before";
        log_.warning("plugin " + plugin + ": " + note);
        set_plugin_note(plugin, note);
        return;
    }
    if (!wait_until_stable(file)) {
        log_.notice("plugin " + plugin + ": " + file.string() +
                    " is still changing; it is loaded once it has been left alone (the running version stays)");
        return;
    }
    if (auto q = rollback_ ? rollback_->quarantined(plugin) : std::nullopt) {
        const std::string sha = file_sha256(file);
        if (sha.empty() || sha == q->sha) {
            log_.notice("plugin " + plugin + ": " + file.string() +
                        (sha.empty() ? " cannot be read" : " still holds the quarantined version " + q->version) +
                        "; it is not loaded");
            return;
        }
        rollback_->lift_quarantine(plugin);
        {
            std::lock_guard lock(libraries_mutex_);
            blocked_.erase(plugin);
        }
        log_.notice("plugin " + plugin + ": " + file.string() + " no longer holds the quarantined version " +
                    q->version + "; loading it");
    }
    std::string error;
    auto fresh = PluginLibrary::load(file, error, images_dir_);
    std::shared_ptr<PluginLibrary> old;
    for (const auto& e : users)
        if (e.instance) old = e.instance->library();
    if (!fresh) {
        // A half-written or broken file: refused, and tried again when it changes.
        const std::string note = "a new plugin file was refused: " + error +
                                 (old ? "; version " + old->version_label() + " keeps running" : "");
        log_.error("plugin " + plugin + ": " + note);
        set_plugin_note(plugin, note);
        return;
    }
    if (old && old->sha256() == fresh->sha256()) {
        // The code that runs already (touched, or put back): the running
        // sensors stay as they are; those that do not run (quarantined,
        // failed) are tried again.
        set_plugin_note(plugin, {});
        std::vector<Entry> idle;
        for (const auto& e : users)
            if (!e.instance || e.instance->status().state == SensorState::failed) idle.push_back(e);
        if (!idle.empty()) swap_plugin(plugin, idle, old, false);
        return;
    }
    swap_plugin(plugin, users, std::move(fresh));
}

void PluginHost::swap_plugin(const std::string& plugin, const std::vector<Entry>& users,
                             std::shared_ptr<PluginLibrary> fresh, bool new_build) {
    const auto started_at = Clock::now();
    std::shared_ptr<PluginLibrary> old;
    std::vector<std::shared_ptr<SensorRunner>> old_instances;
    for (const auto& e : users) {
        if (!e.instance) continue;
        old = e.instance->library();
        old_instances.push_back(e.instance);
    }
    auto refuse = [&](const std::string& why) {
        const std::string note = "version " + fresh->version_label() + " of " + fresh->path().string() +
                                 " was refused: " + why +
                                 (old ? "; version " + old->version_label() + " keeps running" : "");
        log_.error("plugin " + plugin + ": " + note);
        set_plugin_note(plugin, note);
    };
    // Every sensor of the plugin must accept the new version's options
    // before anything stops.
    for (const auto& e : users) {
        Diagnostics problems;
        check_plugin_options(e.config.options, fresh->options(), plugin, "sensor '" + e.config.name + "'", problems);
        if (!problems.empty()) {
            refuse(problems.items().front().message);
            return;
        }
    }
    for (const auto& e : users)
        if (is_quarantined(e.disabled))
            log_.notice("sensor '" + e.config.name + "': its plugin file " + fresh->path().string() +
                        " changed; trying it again");
    // Before any of its code runs: the way back, should it crash gatewayd.
    std::optional<std::string> previous_swap;
    if (new_build && rollback_) {
        previous_swap = rollback_->swap_record(plugin);
        if (std::string problem = rollback_->remember_swap(plugin, old.get(), *fresh, system_now_ms());
            !problem.empty())
            log_.warning("plugin " + plugin + ": if version " + fresh->version_label() +
                         " crashes gatewayd there is no way back to the running one: " + problem);
    }
    retire_all(old_instances, Clock::now() + limits_.call_timeout);
    std::vector<Entry> launched(users.size());
    side_by_side(users.size(), [&](size_t i) { launched[i] = launch(users[i].config, fresh); });
    std::string failure;
    for (size_t i = 0; i < launched.size() && failure.empty(); ++i) {
        const auto& e = launched[i];
        if (!e.instance) continue;  // quarantined again, or disabled for its own reasons
        const SensorStatus s = e.instance->status();
        if (s.state == SensorState::failed) failure = "sensor '" + s.name + "' did not start with it: " + s.error;
    }
    if (!failure.empty() && old) {
        // One version per plugin: every sensor goes back to the one that ran.
        std::vector<std::shared_ptr<SensorRunner>> new_instances;
        for (const auto& e : launched)
            if (e.instance) new_instances.push_back(e.instance);
        retire_all(new_instances, Clock::now() + limits_.call_timeout);
        side_by_side(users.size(), [&](size_t i) { launched[i] = launch(users[i].config, old); });
        if (new_build && rollback_) rollback_->restore_swap(plugin, previous_swap);
        refuse(failure);
    } else {
        {
            std::lock_guard lock(libraries_mutex_);
            libraries_[plugin] = fresh;
        }
        set_plugin_note(plugin, {});
        std::string names;
        for (const auto& e : users) names += (names.empty() ? "'" : ", '") + e.config.name + "'";
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_at).count();
        log_.notice("plugin " + plugin + ": now version " + fresh->version_label() +
                    (old ? " (was " + old->version_label() + ")" : "") + " for sensor" +
                    (users.size() == 1 ? " " : "s ") + names + "; the swap took " + std::to_string(ms) + " ms");
    }
    std::lock_guard lock(mutex_);
    for (auto& fresh_entry : launched) {
        auto e = std::find_if(entries_.begin(), entries_.end(),
                              [&](const Entry& entry) { return entry.config.name == fresh_entry.config.name; });
        if (e != entries_.end()) *e = std::move(fresh_entry);
    }
}

void PluginHost::check(const Config& config, Diagnostics& diags) {
    std::map<std::string, std::shared_ptr<PluginLibrary>> loaded;
    for (const SensorConfig& sensor : config.sensors) {
        if (!sensor.enabled) continue;
        const std::string label = "sensor '" + sensor.name + "'";
        std::shared_ptr<PluginLibrary> library;
        if (auto it = loaded.find(sensor.plugin); it != loaded.end()) {
            library = it->second;
        } else {
            std::string error;
            library = PluginLibrary::load(plugin_path(config.gateway.plugin_dir, sensor.plugin), error);
            if (!library) {
                diags.error(sensor.plugin_where,
                            label + ": " + explain_load_error(config.gateway.plugin_dir, sensor.plugin, error));
                continue;
            }
            loaded[sensor.plugin] = library;
        }
        Diagnostics option_problems;
        check_plugin_options(sensor.options, library->options(), sensor.plugin, label, option_problems);
        // Only options that pass the specs reach create(): it may rely on their types.
        if (option_problems.empty())
            check_sensor_create(sensor, config.gateway.id, library, config.gateway.plugin_timeout, diags);
        diags.append(option_problems);
    }
}

}  // namespace gwd
