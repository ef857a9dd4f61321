#include "plugin_host/isolated_sensor.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>

#include "common/text.h"
#include "common/units.h"
#include "topics/topic_template.h"

extern char** environ;

namespace gwd {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kPumpWait = milliseconds(250);
// The child's status thread beats every second; this long without a byte
// while the daemon listened means the process is frozen.
constexpr auto kSilenceLimit = std::chrono::seconds(10);
// How long a child may take to answer beyond its own bound on the plugin call.
constexpr auto kAnswerSlack = std::chrono::seconds(2);
constexpr auto kAckSendLimit = std::chrono::seconds(5);
constexpr auto kRestartFloor = milliseconds(100);

BackoffConfig restart_backoff() {
    BackoffConfig c;
    c.initial = milliseconds(1000);
    c.max = milliseconds(60000);
    c.stable_after = milliseconds(30000);
    return c;
}

double uniform01() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::string exit_text(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const char* abbrev = sigabbrev_np(WTERMSIG(status));
        return std::string("died of ") +
               (abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(WTERMSIG(status)));
    }
    return "ended (wait status " + std::to_string(status) + ")";
}

std::string ms_text(Clock::duration d) { return format_duration(std::chrono::duration_cast<Duration>(d)); }

LogLevel clamp_level(int level) {
    return static_cast<LogLevel>(
        std::clamp(level, static_cast<int>(LogLevel::error), static_cast<int>(LogLevel::debug)));
}

}  // namespace

IsolatedSensor::IsolatedSensor(SensorConfig config, std::string gateway_id, std::shared_ptr<PluginLibrary> library,
                               ReadingSink& sink, Logger log, SensorLimits limits)
    : config_(std::move(config)),
      gateway_id_(std::move(gateway_id)),
      library_(std::move(library)),
      sink_(sink),
      log_(std::move(log)),
      limits_(limits),
      backoff_(restart_backoff(), uniform01) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

IsolatedSensor::~IsolatedSensor() {
    if (thread_.joinable()) shutdown(Clock::now() + std::chrono::seconds(1));
    if (child_) end_child("gatewayd let go of the sensor");
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void IsolatedSensor::set_phase(Phase phase, std::string note) {
    std::lock_guard lock(mutex_);
    phase_ = phase;
    note_ = std::move(note);
}

bool IsolatedSensor::stop_requested() const {
    std::lock_guard lock(mutex_);
    return stop_;
}

bool IsolatedSensor::spawn(Clock::time_point deadline) {
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
        log_.error(std::string("cannot make a socket pair for the plugin process: ") + strerror(errno));
        return false;
    }
    int child_end = ends[1];
    if (child_end == 3) {  // dup2(3, 3) would leave close-on-exec set
        child_end = ::fcntl(ends[1], F_DUPFD_CLOEXEC, 10);
        ::close(ends[1]);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, child_end, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::string parent = std::to_string(::getpid());
    std::string arg0 = "gatewayd", arg1 = "--plugin-worker", arg2 = config_.name;
    char* argv[] = {arg0.data(), arg1.data(), arg2.data(), parent.data(), nullptr};
    pid_t pid = -1;
    // The running image, even when a package upgrade replaced the file.
    const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(child_end);
    if (rc != 0) {
        ::close(ends[0]);
        log_.error(std::string("cannot start the plugin process: ") + strerror(rc));
        return false;
    }
    ::fcntl(ends[0], F_SETFL, ::fcntl(ends[0], F_GETFL) | O_NONBLOCK);
    child_ = std::make_unique<Child>();
    child_->pid = pid;
    child_->started = Clock::now();
    child_->channel = std::make_shared<FrameChannel>(ends[0]);
    child_->frames = worker::FrameSplitter(static_cast<std::uint32_t>(
        std::min<std::uint64_t>(limits_.max_reading_size + (64u << 10), std::uint64_t(1) << 31)));
    std::weak_ptr<FrameChannel> channel = child_->channel;
    child_->acks = std::make_shared<StoredNotifier>(
        [channel](void* ack_context, bool stored) {
            if (auto c = channel.lock()) {
                const auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(ack_context));
                c->send(worker::encode(worker::Ack{id, stored}), Clock::now() + kAckSendLimit);
            }
        },
        "a-" + config_.name);
    {
        std::lock_guard lock(mutex_);
        child_status_ = {};
        channel_ = child_->channel;
    }
    worker::Init init;
    init.gateway_id = gateway_id_;
    init.image = library_->image_file().string();
    init.log_threshold = log_.enabled(LogLevel::debug)    ? 7
                         : log_.enabled(LogLevel::info)   ? 6
                         : log_.enabled(LogLevel::notice) ? 5
                                                          : 4;
    init.call_timeout_ms = limits_.call_timeout.count();
    init.max_reading_size = limits_.max_reading_size;
    init.sensor = config_;
    if (!send(init, deadline)) {
        end_child("it did not take its settings");
        return false;
    }
    return true;
}

bool IsolatedSensor::send(const worker::Frame& frame, Clock::time_point deadline) {
    return child_ && child_->channel->send(worker::encode(frame), deadline);
}

bool IsolatedSensor::pump(Clock::duration wait) {
    Child& c = *child_;
    pollfd fds[2] = {{c.channel->fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(std::chrono::ceil<milliseconds>(wait).count()));
    if (n == 0) {
        c.silent += wait;
        return true;
    }
    if (n < 0) return errno == EINTR;
    if (fds[1].revents != 0) {
        std::uint64_t count = 0;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &count, sizeof count);
    }
    if (fds[0].revents == 0) return true;
    c.silent = {};
    thread_local std::string buffer(64 * 1024, '\0');
    bool open = true;
    // A bounded number of reads per round, so a flood cannot starve a stop.
    for (int round = 0; round < 64; ++round) {
        const ssize_t r = ::read(c.channel->fd(), buffer.data(), buffer.size());
        if (r > 0) {
            c.frames.feed(std::string_view(buffer.data(), static_cast<size_t>(r)));
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else {
            if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                open = false;
                c.eof = true;
            }
            break;
        }
        std::string error;
        while (std::optional<std::string_view> body = c.frames.take(error)) {
            std::optional<worker::Frame> frame = worker::decode(*body, error);
            if (!frame) break;
            handle(std::move(*frame));
            if (!c.ended.empty()) return false;
        }
        if (!error.empty()) {
            c.ended = "it wrote " + error + " to gatewayd's socket (a plugin must not touch descriptor 3)";
            return false;
        }
    }
    return open;
}

void IsolatedSensor::handle(worker::Frame&& frame) {
    if (auto* reading = std::get_if<worker::Reading>(&frame)) {
        take_reading(std::move(*reading));
    } else if (auto* line = std::get_if<worker::LogLine>(&frame)) {
        log_.log(clamp_level(line->level), plugin_log_text(line->text));
    } else if (auto* status = std::get_if<worker::Status>(&frame)) {
        child_->status = *status;
        std::lock_guard lock(mutex_);
        child_status_ = *status;
    } else if (auto* result = std::get_if<worker::StepResult>(&frame)) {
        step_result_ = std::move(*result);
    } else if (auto* reply = std::get_if<worker::CommandReply>(&frame)) {
        std::lock_guard lock(mutex_);
        auto it = commands_.find(reply->id);
        if (it == commands_.end()) return;  // answered too late: the caller gave up
        CommandOutcome outcome;
        const int status = std::clamp(reply->status, 0, static_cast<int>(CommandOutcome::Status::failed));
        outcome.status = static_cast<CommandOutcome::Status>(status);
        outcome.result = std::move(reply->result);
        outcome.message = plugin_log_text(reply->message);
        it->second = std::move(outcome);
        cv_.notify_all();
    } else {
        child_->ended = "it sent a message only gatewayd sends (a plugin must not touch descriptor 3)";
    }
}

void IsolatedSensor::take_reading(worker::Reading&& r) {
    // The child checked it as emit() does; what reaches the socket some other
    // way is checked again before anything relies on it.
    std::string problem;
    if (r.payload.size() > limits_.max_reading_size) {
        problem = "its payload of " + std::to_string(r.payload.size()) + " bytes is over max_reading_size";
    } else if (problem = topic_value_problem(r.sensor); !problem.empty()) {
        problem = "sensor name '" + printable(r.sensor) + "' " + problem;
    } else if (r.content_type && !(problem = mqtt_string_problem(*r.content_type)).empty()) {
        problem = "the content type " + problem;
    } else if (r.timestamp_ms < 0) {
        problem = "it has a negative timestamp";
    }
    for (size_t i = 0; i < r.properties.size() && problem.empty(); ++i) {
        problem = mqtt_string_problem(r.properties[i].key);
        if (problem.empty()) problem = mqtt_string_problem(r.properties[i].value);
        if (!problem.empty()) problem = "user property #" + std::to_string(i + 1) + " " + problem;
    }
    if (!problem.empty()) {
        invalid_.fetch_add(1);
        std::uint64_t suppressed = 0;
        if (invalid_log_.allow(Clock::now(), suppressed))
            log_.warning("reading refused: the plugin process sent one that " + problem +
                         (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
        return;
    }
    ++child_->readings;
    thread_local std::vector<PropertyView> properties;
    properties.clear();
    for (const auto& p : r.properties) properties.push_back({p.key, p.value});
    ReadingView view;
    view.sensor = r.sensor;
    view.instance = config_.name;
    view.timestamp_ms = r.timestamp_ms;
    view.payload = r.payload;
    if (r.content_type) view.content_type = std::string_view(*r.content_type);
    view.properties = properties;
    view.message_expiry_s = r.message_expiry_s;
    StoreTicketPtr ticket;
    if (r.id != 0)
        ticket =
            std::make_shared<StoreTicket>(child_->acks, reinterpret_cast<void*>(static_cast<std::uintptr_t>(r.id)));
    const bool queued = tally_.count(sink_.accept(view, ticket));
    if (ticket) ticket->settle(queued);
}

bool IsolatedSensor::await(worker::Step step, Clock::time_point deadline) {
    step_result_.reset();
    while (!step_result_ || step_result_->step != step) {
        if (stop_requested() || Clock::now() >= deadline) return false;
        if (!pump(std::min<Clock::duration>(kPumpWait, deadline - Clock::now()))) return false;
    }
    return step_result_->ok;
}

std::string IsolatedSensor::end_child(const std::string& why) {
    if (!child_) return {};
    Child& c = *child_;
    int status = 0;
    std::string how;
    pid_t r = ::waitpid(c.pid, &status, WNOHANG);
    // It closed its end: it is exiting. Give it a moment to finish.
    for (int i = 0; i < 400 && r == 0 && c.eof; ++i) {
        ::usleep(5000);
        r = ::waitpid(c.pid, &status, WNOHANG);
    }
    if (r == 0) {
        ::kill(c.pid, SIGKILL);
        r = ::waitpid(c.pid, &status, 0);
        how = "was killed: " + (why.empty() ? std::string("it closed its socket but did not exit") : why);
    } else {
        how = exit_text(status) + (why.empty() ? "" : " (" + why + ")");
    }
    c.acks->stop(Clock::now() + std::chrono::seconds(1));
    {
        std::lock_guard lock(mutex_);
        ended_invalid_ += c.status.invalid;
        ended_oversized_ += c.status.oversized;
        ended_no_memory_ += c.status.no_memory;
        ended_poll_errors_ += c.status.poll_errors;
        child_status_ = {};
        channel_.reset();
        for (auto& [id, outcome] : commands_)
            if (!outcome)
                outcome = CommandOutcome::failure(CommandOutcome::Status::failed,
                                                  "the plugin process ended before it answered");
    }
    cv_.notify_all();
    child_.reset();
    return how;
}

bool IsolatedSensor::refused(worker::Step step) const {
    return step_result_ && step_result_->step == step && !step_result_->ok;
}

void IsolatedSensor::mark_unanswered(const char* call, Clock::duration waited) {
    if (child_ && !child_->eof && child_->ended.empty())
        child_->ended = std::string(call) + "() did not answer within " + ms_text(waited);
}

std::string IsolatedSensor::end_launch() {
    if (!child_) return "no process could be started";
    const std::string pid = std::to_string(child_->pid);
    const std::uint64_t readings = child_->readings;
    const std::string why = child_->ended;
    return "(pid " + pid + ") " + end_child(why) + " before it ran; it had sent " + std::to_string(readings) +
           " readings";
}

std::string IsolatedSensor::relaunch_failure(worker::Step step, const char* call, Clock::duration waited) {
    if (refused(step)) {
        // At a restart the plugin may refuse what it took before (its device
        // is gone): tried again, with backoff.
        const std::string why = step_result_->error;
        end_child("it refused");
        return "refused to " + std::string(call) + ": " + why;
    }
    mark_unanswered(call, waited);
    return end_launch();
}

bool IsolatedSensor::create(Clock::time_point deadline) {
    set_phase(Phase::starting);
    const auto started = Clock::now();
    if (!spawn(deadline)) {
        set_phase(Phase::failed, "could not start its plugin process (see the log)");
        return false;
    }
    if (await(worker::Step::created, deadline + kAnswerSlack)) return true;
    if (refused(worker::Step::created)) {
        // The plugin refused its settings (it logged why): as in the daemon,
        // the sensor stays disabled until its block or its plugin changes.
        const std::string why = step_result_->error;
        end_child("it refused its settings");
        set_phase(Phase::failed, why);
        log_.error("disabled: " + why);
        return false;
    }
    // It crashed or hung in create(): start() hands it to the restarts.
    mark_unanswered("create", Clock::now() - started);
    return true;
}

bool IsolatedSensor::start(Clock::time_point deadline) {
    const auto started = Clock::now();
    if (child_ && !child_->eof && child_->ended.empty()) {
        if (send(worker::Start{}, deadline) && await(worker::Step::started, deadline + kAnswerSlack)) {
            backoff_.connected(Clock::now());
            set_phase(Phase::running);
            thread_ = std::thread([this] { supervise(); });
            return true;
        }
        if (refused(worker::Step::started)) {
            const std::string why = step_result_->error;
            end_child("its plugin failed to start");
            set_phase(Phase::failed, why);
            log_.error("disabled: " + why);
            return false;
        }
        mark_unanswered("start", Clock::now() - started);
    }
    // A crash or a hang before it ran is one like any later: restarted with backoff.
    launch_error_ = end_launch();
    thread_ = std::thread([this] { supervise(); });
    return true;
}

void IsolatedSensor::supervise() {
    pthread_setname_np(pthread_self(), ("i-" + config_.name).substr(0, 15).c_str());
    for (;;) {
        if (child_) {
            while (!stop_requested() && pump(kPumpWait)) {
                if (child_->status.state == SensorState::stuck) {
                    child_->ended = child_->status.error;
                    break;
                }
                if (child_->silent >= kSilenceLimit) {
                    child_->ended = "it sent nothing for " + ms_text(child_->silent) + ", not even its heartbeat";
                    break;
                }
            }
        }
        if (stop_requested()) break;
        std::string how;
        if (child_) {
            const pid_t pid = child_->pid;
            const std::uint64_t readings = child_->readings;
            const auto ran = Clock::now() - child_->started;
            const std::string why = child_->ended;
            how = "(pid " + std::to_string(pid) + ") " + end_child(why) + "; it had sent " + std::to_string(readings) +
                  " readings in " + ms_text(ran);
        } else {
            how = launch_error_;
        }
        backoff_.disconnected(Clock::now());
        const Duration delay = backoff_.next_delay(kRestartFloor);
        log_.error("its plugin process " + how + " (plugin " + config_.plugin + " " + library_->version_label() +
                   "). gatewayd and every other sensor carry on; starting it again in " + format_duration(delay));
        set_phase(Phase::restarting, "its plugin process " + how + "; starting it again in " + format_duration(delay));
        {
            std::unique_lock lock(mutex_);
            if (cv_.wait_for(lock, delay, [&] { return stop_; })) break;
            ++restarts_;
        }
        const auto deadline = Clock::now() + limits_.call_timeout;
        const auto launched = Clock::now();
        if (!spawn(deadline)) {
            launch_error_ = "could not be started (see the log)";
        } else if (!await(worker::Step::created, deadline + kAnswerSlack)) {
            launch_error_ = relaunch_failure(worker::Step::created, "create", Clock::now() - launched);
        } else if (!send(worker::Start{}, Clock::now() + limits_.call_timeout) ||
                   !await(worker::Step::started, Clock::now() + limits_.call_timeout + kAnswerSlack)) {
            launch_error_ = relaunch_failure(worker::Step::started, "start", Clock::now() - launched);
        } else {
            backoff_.connected(Clock::now());
            set_phase(Phase::running);
            log_.notice("its plugin process runs again (pid " + std::to_string(child_->pid) + ", restart " +
                        std::to_string(restarts_) + ")");
        }
    }
    // Stopping: the plugin stops in its process; what it emits meanwhile is
    // still read, and its acks still sent, until it exits or time is up.
    Clock::time_point deadline;
    {
        std::lock_guard lock(mutex_);
        deadline = stop_deadline_;
        if (phase_ != Phase::failed) phase_ = Phase::stopping;
    }
    if (child_) {
        // The process is killed a little before the deadline, and its plugin
        // told to give up a little before that: what the daemon still does
        // after the sensors stop (commands, upstreams) keeps its time.
        const auto left = std::max<Clock::duration>(deadline - Clock::now(), Clock::duration(0));
        const auto kill_at = deadline - std::min<Clock::duration>(std::chrono::seconds(1), left / 5);
        const auto plugin_left = std::chrono::duration_cast<milliseconds>(kill_at - Clock::now());
        const auto plugin_timeout = plugin_left - std::min<milliseconds>(milliseconds(500), plugin_left / 5);
        bool exited = false;
        if (send(worker::Stop{std::max<std::int64_t>(plugin_timeout.count(), 0)}, kill_at)) {
            while (Clock::now() < kill_at) {
                if (!pump(std::min<Clock::duration>(kPumpWait, kill_at - Clock::now()))) {
                    exited = child_->ended.empty();
                    break;
                }
            }
        }
        const std::string how = end_child(exited ? "" : "it did not stop within " + ms_text(left));
        if (!exited) log_.warning("its plugin process " + how);
    }
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::failed) phase_ = Phase::stopped;
}

bool IsolatedSensor::shutdown(Clock::time_point deadline) {
    if (!thread_.joinable()) {
        // Created but never started (or failed): no thread reads for it.
        if (child_) end_child("the sensor stops before it started");
        std::lock_guard lock(mutex_);
        if (phase_ != Phase::failed) phase_ = Phase::stopped;
        return true;
    }
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
        stop_deadline_ = deadline;
    }
    cv_.notify_all();
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t w = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
    return true;
}

SensorStatus IsolatedSensor::status() const {
    SensorStatus s;
    s.name = config_.name;
    s.plugin = config_.plugin;
    s.plugin_version = library_->version_label();
    s.isolated = true;
    {
        std::lock_guard lock(mutex_);
        switch (phase_) {
            case Phase::idle:
            case Phase::starting: s.state = SensorState::created; break;
            case Phase::running:
                s.state = child_status_.state == SensorState::created ? SensorState::running : child_status_.state;
                s.error = child_status_.error;
                break;
            case Phase::restarting:
                s.state = SensorState::degraded;
                s.error = note_;
                break;
            case Phase::stopping:
            case Phase::stopped: s.state = SensorState::stopped; break;
            case Phase::failed:
                s.state = SensorState::failed;
                s.error = note_;
                break;
        }
        s.invalid = ended_invalid_ + child_status_.invalid;
        s.oversized = ended_oversized_ + child_status_.oversized;
        s.no_memory = ended_no_memory_ + child_status_.no_memory;
        s.poll_errors = ended_poll_errors_ + child_status_.poll_errors;
        s.restarts = restarts_;
        s.counters = child_status_.counters;
    }
    s.invalid += invalid_.load();
    tally_.report(s);
    return s;
}

CommandOutcome IsolatedSensor::command(const Command& command, Clock::time_point deadline) {
    using Status = CommandOutcome::Status;
    const gwd_plugin& d = library_->descriptor();
    if (d.abi_version < 3 || d.command == nullptr)
        return CommandOutcome::failure(Status::unsupported, "plugin '" + config_.plugin + "' takes no commands");
    std::shared_ptr<FrameChannel> channel;
    std::uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        if (phase_ != Phase::running || !channel_)
            return CommandOutcome::failure(Status::unsupported, "sensor '" + config_.name + "' is not running");
        channel = channel_;
        id = next_command_++;
        commands_[id];
    }
    worker::CommandRequest request;
    request.id = id;
    request.timeout_ms = std::max<std::int64_t>(
        std::chrono::duration_cast<milliseconds>(deadline - Clock::now() - milliseconds(200)).count(), 0);
    request.sensor = command.sensor;
    request.name = command.name;
    request.params = command.params;
    channel->send(worker::encode(request), deadline);
    std::unique_lock lock(mutex_);
    cv_.wait_until(lock, deadline, [&] { return commands_[id].has_value(); });
    std::optional<CommandOutcome> outcome = std::move(commands_[id]);
    commands_.erase(id);
    if (!outcome) return CommandOutcome::failure(Status::failed, "the plugin did not answer in time");
    return std::move(*outcome);
}

}  // namespace gwd
