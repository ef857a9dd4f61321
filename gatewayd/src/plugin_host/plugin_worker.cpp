#include "plugin_host/plugin_worker.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "plugin_host/frame_channel.h"
#include "plugin_host/plugin_library.h"
#include "plugin_host/sensor_instance.h"
#include "plugin_host/worker_frames.h"

namespace gwd {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kStatusEvery = std::chrono::milliseconds(200);
constexpr auto kHeartbeatEvery = std::chrono::seconds(1);

// Log lines go to the daemon, which writes them as the sensor's.
class ChannelLogSink final : public LogSink {
public:
    explicit ChannelLogSink(FrameChannel& channel) : channel_(channel) {}
    void write(LogLevel level, std::string_view, std::string_view message) override {
        channel_.send(worker::encode(worker::LogLine{static_cast<int>(level), std::string(message)}));
    }

private:
    FrameChannel& channel_;
};

// Readings go to the daemon, one frame each; tickets wait for its ack.
class ChannelSink final : public ReadingSink {
public:
    explicit ChannelSink(FrameChannel& channel) : channel_(channel) {}

    EmitOutcome accept(const ReadingView& reading, const StoreTicketPtr& ticket) override {
        std::uint64_t id = 0;
        if (ticket) {
            ticket->hold();
            std::lock_guard lock(mutex_);
            id = next_id_++;
            tickets_.emplace(id, ticket);
        }
        thread_local std::string frame;
        frame.clear();
        worker::encode_reading(reading, id, frame);
        if (!channel_.send(frame)) _exit(0);  // the daemon is gone
        return EmitOutcome::accepted;
    }

    void settle(std::uint64_t id, bool stored) {
        StoreTicketPtr ticket;
        {
            std::lock_guard lock(mutex_);
            auto it = tickets_.find(id);
            if (it == tickets_.end()) return;
            ticket = std::move(it->second);
            tickets_.erase(it);
        }
        ticket->settle(stored);
    }

private:
    FrameChannel& channel_;
    std::mutex mutex_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, StoreTicketPtr> tickets_;
};

bool read_exactly(int fd, char* out, size_t n) {
    size_t done = 0;
    while (done < n) {
        const ssize_t r = ::read(fd, out + done, n - done);
        if (r > 0) {
            done += static_cast<size_t>(r);
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else {
            return false;
        }
    }
    return true;
}

// The next frame from the daemon; nullopt once it is gone.
std::optional<worker::Frame> next_frame(int fd) {
    char prefix[4];
    if (!read_exactly(fd, prefix, 4)) return std::nullopt;
    std::uint32_t length = 0;
    for (int i = 0; i < 4; ++i) length |= std::uint32_t(static_cast<unsigned char>(prefix[i])) << (8 * i);
    if (length > (64u << 20)) return std::nullopt;
    std::string body(length, '\0');
    if (!read_exactly(fd, body.data(), length)) return std::nullopt;
    std::string error;
    return worker::decode(body, error);
}

worker::Status status_frame(const SensorStatus& s) {
    worker::Status f;
    f.state = s.state;
    f.error = s.error;
    f.invalid = s.invalid;
    f.oversized = s.oversized;
    f.no_memory = s.no_memory;
    f.poll_errors = s.poll_errors;
    f.counters = s.counters;
    return f;
}

bool same(const worker::Status& a, const worker::Status& b) {
    return a.state == b.state && a.error == b.error && a.invalid == b.invalid && a.oversized == b.oversized &&
           a.no_memory == b.no_memory && a.poll_errors == b.poll_errors && a.counters == b.counters;
}

}  // namespace

int run_plugin_worker(int fd, pid_t parent) {
    // Gone with the daemon, whatever way it goes: its end of the socket
    // closes, and this thread, which always reads it, exits. (Not
    // PR_SET_PDEATHSIG: it fires when the daemon *thread* that started us
    // ends, and sensors are started on short-lived threads.)
    if (::getppid() != parent) return 0;
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // commands the plugin runs do not get it
    // The daemon's blocked signals and handlers are not ours.
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    // A crash ends this process by its signal, for the daemon to report,
    // even in a sanitizer build (whose handlers would exit with status 1).
    for (int fatal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(fatal, SIG_DFL);
    pthread_setname_np(pthread_self(), "plugin-worker");

    FrameChannel channel(fd);
    std::optional<worker::Frame> first = next_frame(fd);
    if (!first || !std::holds_alternative<worker::Init>(*first)) return 2;
    auto& init = std::get<worker::Init>(*first);

    Logger log(std::make_shared<ChannelLogSink>(channel), static_cast<LogLevel>(init.log_threshold), "worker");
    auto step = [&](worker::Step s, bool ok, std::string error) {
        channel.send(worker::encode(worker::StepResult{s, ok, std::move(error)}));
    };
    std::string error;
    std::shared_ptr<PluginLibrary> library = PluginLibrary::load(init.image, error);
    if (!library) {
        step(worker::Step::created, false, error);
        return 1;
    }
    SensorLimits limits;
    limits.call_timeout = Duration(init.call_timeout_ms);
    limits.max_reading_size = init.max_reading_size;
    ChannelSink sink(channel);
    auto instance = std::make_shared<SensorInstance>(init.sensor, init.gateway_id, library, sink, log, limits);
    const bool created = instance->create(Clock::now() + limits.call_timeout);
    step(worker::Step::created, created, created ? "" : instance->status().error);
    if (!created) return 1;

    // Status when it changes, and a heartbeat: the daemon knows the process is
    // alive and which call of the plugin, if any, has overstayed.
    std::mutex status_mutex;
    std::condition_variable status_cv;
    bool status_stop = false;
    std::thread status_thread;
    auto start_status = [&] {
        status_thread = std::thread([&] {
            pthread_setname_np(pthread_self(), "status");
            worker::Status last;
            auto sent_at = Clock::time_point{};
            std::unique_lock lock(status_mutex);
            while (!status_stop) {
                lock.unlock();
                worker::Status now = status_frame(instance->status());
                if (!same(now, last) || Clock::now() - sent_at >= kHeartbeatEvery) {
                    channel.send(worker::encode(now));
                    last = now;
                    sent_at = Clock::now();
                }
                lock.lock();
                status_cv.wait_for(lock, kStatusEvery, [&] { return status_stop; });
            }
        });
    };

    while (std::optional<worker::Frame> frame = next_frame(fd)) {
        if (std::holds_alternative<worker::Start>(*frame)) {
            const bool started = instance->start(Clock::now() + limits.call_timeout);
            step(worker::Step::started, started, started ? "" : instance->status().error);
            if (!started) return 1;
            start_status();
        } else if (auto* ack = std::get_if<worker::Ack>(&*frame)) {
            sink.settle(ack->id, ack->stored);
        } else if (auto* request = std::get_if<worker::CommandRequest>(&*frame)) {
            // On a thread of its own: acks must keep flowing while it runs.
            std::thread([&channel, instance, request = *request] {
                Command command;
                command.instance = instance->name();
                command.sensor = request.sensor;
                command.name = request.name;
                command.params = request.params;
                const CommandOutcome outcome =
                    instance->command(command, Clock::now() + std::chrono::milliseconds(request.timeout_ms));
                channel.send(worker::encode(worker::CommandReply{request.id, static_cast<int>(outcome.status),
                                                                 outcome.result, outcome.message}));
            }).detach();
        } else if (auto* stop = std::get_if<worker::Stop>(&*frame)) {
            // Acks keep arriving while the plugin stops (its stop() may wait
            // for them): the shutdown runs beside this loop.
            std::thread([&, timeout = stop->timeout_ms] {
                const bool clean = instance->shutdown(Clock::now() + std::chrono::milliseconds(timeout));
                {
                    std::lock_guard lock(status_mutex);
                    status_stop = true;
                }
                status_cv.notify_all();
                if (status_thread.joinable()) status_thread.join();
                step(worker::Step::stopped, clean, clean ? "" : instance->status().error);
                // Nothing of the plugin runs its static destructors under a
                // thread it left behind.
                _exit(0);
            }).detach();
        }
    }
    _exit(0);  // the daemon closed the socket: it is gone or wants us gone
}

}  // namespace gwd
