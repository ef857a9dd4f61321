// The durable outbox alone, as the daemon uses it: how many readings per
// second it takes in (append, committed to the queue file) and lets go of
// (acknowledged and deleted), with fsync = "batch" by default.
//
//   bench_outbox [--readings N] [--runs R] [--payload BYTES] [--fsync batch|always|never] [--dir PATH]
//
// Each run starts from an empty queue file and has two phases:
//   append     N readings appended, then flush(): all committed to SQLite
//   ack-delete all N taken in windows of 1000 (like a session with Receive
//              Maximum 1000), acknowledged, then close(): deletes committed
//              and synced
// and prints readings/s per phase; the last lines are the medians. The
// readings are built before the clock starts: this measures the queue, not
// the normalizer.
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/log.h"
#include "outbox/disk_outbox.h"

using namespace gwd;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    size_t readings = 200000;
    int runs = 5;
    size_t payload = 64;
    FsyncPolicy fsync = FsyncPolicy::batch;
    std::filesystem::path dir;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "bench_outbox: %s\nusage: bench_outbox [--readings N] [--runs R] [--payload BYTES] "
                 "[--fsync batch|always|never] [--dir PATH]\n",
                 why);
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
        const std::string value = argv[++i];
        if (arg == "--readings")
            o.readings = std::stoul(value);
        else if (arg == "--runs")
            o.runs = std::stoi(value);
        else if (arg == "--payload")
            o.payload = std::stoul(value);
        else if (arg == "--dir")
            o.dir = value;
        else if (arg == "--fsync") {
            if (value == "batch")
                o.fsync = FsyncPolicy::batch;
            else if (value == "always")
                o.fsync = FsyncPolicy::always;
            else if (value == "never")
                o.fsync = FsyncPolicy::never;
            else
                usage("--fsync takes batch, always or never");
        } else
            usage(("unknown option " + arg).c_str());
    }
    if (o.readings == 0 || o.runs <= 0) usage("--readings and --runs must be positive");
    return o;
}

// A typical reading after normalization: a JSON payload of `size` bytes,
// a content type and two user properties.
std::shared_ptr<const Message> reading(size_t seq, size_t size) {
    auto m = std::make_shared<Message>();
    m->sensor = "boiler";
    m->instance = "boiler-1";
    m->accepted_ms = 1'700'000'000'000 + static_cast<std::int64_t>(seq);
    m->timestamp_ms = m->accepted_ms;
    m->content_type = "application/json";
    m->utf8 = true;
    m->properties = {{"site", "plant-7"}, {"unit", "celsius"}};
    std::string p = "{\"seq\":" + std::to_string(seq) + ",\"t\":21.5}";
    p.resize(std::max(size, p.size()), ' ');
    m->payload = std::move(p);
    return m;
}

double per_second(size_t n, Clock::duration d) {
    return static_cast<double>(n) / std::chrono::duration<double>(d).count();
}

std::shared_ptr<DiskOutbox> open_outbox(const Options& o, const std::filesystem::path& file) {
    std::filesystem::remove(file);
    std::filesystem::remove(file.string() + "-wal");
    std::filesystem::remove(file.string() + "-shm");
    DiskOutbox::Settings s;
    s.file = file;
    s.max_bytes = std::uint64_t(8) << 30;
    s.fsync = o.fsync;
    std::string error;
    auto outbox = DiskOutbox::open(s, Logger(std::make_shared<StderrSink>(), LogLevel::warning, "bench"), error);
    if (!outbox) {
        std::fprintf(stderr, "bench_outbox: cannot open %s: %s\n", file.c_str(), error.c_str());
        std::exit(1);
    }
    return outbox;
}

// Takes and acknowledges everything queued, 1000 at a time.
size_t drain(Outbox& outbox) {
    size_t done = 0;
    std::vector<OutboxEntry> window;
    for (;;) {
        window.clear();
        if (outbox.take(1000, window) == 0) return done;
        for (const auto& e : window) done += outbox.acknowledge(e.id) ? 1 : 0;
    }
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    std::filesystem::path dir = o.dir;
    if (dir.empty()) dir = std::filesystem::temp_directory_path() / ("bench_outbox." + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "bench.db";

    std::vector<std::shared_ptr<const Message>> readings;
    readings.reserve(o.readings);
    for (size_t i = 0; i < o.readings; ++i) readings.push_back(reading(i, o.payload));

    const char* fsync_name = o.fsync == FsyncPolicy::batch    ? "batch"
                             : o.fsync == FsyncPolicy::always ? "always"
                                                              : "never";
    std::printf("outbox benchmark: %zu readings of %zu payload bytes, fsync = %s, %d runs, file %s\n", o.readings,
                o.payload, fsync_name, o.runs, file.c_str());
    std::vector<double> appends, deletes;
    for (int run = 1; run <= o.runs; ++run) {
        auto outbox = open_outbox(o, file);
        auto t0 = Clock::now();
        for (const auto& r : readings) outbox->append(r);
        if (!outbox->flush(std::chrono::minutes(5))) {
            std::fprintf(stderr, "bench_outbox: appends not committed within 5 minutes\n");
            return 1;
        }
        const double a = per_second(o.readings, Clock::now() - t0);
        const auto file_bytes = std::filesystem::file_size(file) + std::filesystem::file_size(file.string() + "-wal");

        t0 = Clock::now();
        const size_t acked = drain(*outbox);
        outbox->close();
        const double d = per_second(acked, Clock::now() - t0);
        if (acked != o.readings || outbox->stats().queued != 0) {
            std::fprintf(stderr, "bench_outbox: acknowledged %zu of %zu, %llu still queued\n", acked, o.readings,
                         static_cast<unsigned long long>(outbox->stats().queued));
            return 1;
        }
        outbox.reset();

        appends.push_back(a);
        deletes.push_back(d);
        std::printf("run %d: append %.0f readings/s (%.1f MB on disk), ack-delete %.0f readings/s\n", run, a,
                    static_cast<double>(file_bytes) / 1e6, d);
        std::fflush(stdout);
    }
    std::filesystem::remove_all(dir.string() == o.dir.string() ? file : dir);
    std::printf("median append:     %.0f readings/s\n", median(appends));
    std::printf("median ack-delete: %.0f readings/s\n", median(deletes));
    return 0;
}
