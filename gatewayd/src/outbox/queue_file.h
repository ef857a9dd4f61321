// The durable half of the outbox: one SQLite database in WAL mode per
// upstream, holding records (see record_codec.h) under increasing ids.
//
// Two connections: the writer (used by one committer thread) and the reader
// (used under its own lock by the consumer and status), so reading the
// backlog never waits for a commit. SQLite's WAL frames carry checksums, so a
// write torn by power loss is dropped at open back to the last whole commit;
// a file SQLite finds damaged is moved aside and every readable row is
// copied into a fresh one.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "outbox/id_ranges.h"
#include "outbox/outbox_policy.h"

namespace gwd {

class QueueFile {
public:
    struct Row {
        std::uint64_t id = 0;
        std::string record;
    };
    struct RowSize {
        std::uint64_t id = 0;
        std::uint64_t size = 0;  // record bytes
    };
    // What the file held at open.
    struct Contents {
        std::uint64_t rows = 0;
        std::uint64_t record_bytes = 0;
        std::uint64_t first_id = 0;  // 0 when empty
        std::uint64_t last_id = 0;
        IdRanges gaps;                  // ids between first and last that hold no row
        std::uint64_t salvaged = 0;     // the file was damaged and this many readings were copied out
        std::uint64_t unreadable = 0;   // rows of a damaged file that did not pass the record check
        std::string damage;             // what was wrong with the file at open, when something was
        std::filesystem::path kept_as;  // where the damaged file was moved
    };
    enum class Result { ok, full, failed };

    // Opens or creates `file`. nullptr with `error` when it cannot be used.
    static std::unique_ptr<QueueFile> open(const std::filesystem::path& file, FsyncPolicy fsync, const Logger& log,
                                           std::string& error);
    ~QueueFile();
    QueueFile(const QueueFile&) = delete;
    QueueFile& operator=(const QueueFile&) = delete;

    const Contents& contents() const { return contents_; }
    const std::filesystem::path& path() const { return path_; }

    // Writer side: one transaction at a time, from one thread.
    Result begin();
    Result insert(std::uint64_t id, std::string_view record);
    Result erase(std::uint64_t first, std::uint64_t last);  // ids in [first, last)
    Result commit();
    void rollback();
    // Up to `limit` rows from `from` on, oldest first, with their sizes.
    Result head_sizes(std::uint64_t from, size_t limit, std::vector<RowSize>& out);
    // Makes every commit so far durable (fdatasync of the WAL).
    bool sync();
    // Gives up to `pages` free pages back to the file system.
    void release_free_pages(int pages);
    // Folds the WAL into the database and truncates it to zero bytes.
    bool checkpoint();
    // A few MiB set aside next to the file, so that on a full disk the queue
    // still has room to delete its oldest rows and fold its WAL.
    void create_reserve();
    bool release_reserve();  // true when there was one to release
    // The last writer error, for logs.
    std::string last_error() const;

    // Reader side; thread-safe.
    // Rows with first <= id < below, oldest first, at most `limit`.
    Result read(std::uint64_t first, std::uint64_t below, size_t limit, std::vector<Row>& out);
    // ok with `out` unset when there is no such row; failed when it cannot be read.
    Result read_one(std::uint64_t id, std::optional<std::string>& out);
    std::optional<std::uint64_t> record_size(std::uint64_t id);

private:
    QueueFile() = default;
    bool open_connections(FsyncPolicy fsync, std::string& error);
    bool scan(std::string& error);
    Result step_done(sqlite3_stmt* stmt);

    std::filesystem::path path_;
    Contents contents_;
    sqlite3* writer_ = nullptr;
    sqlite3* reader_ = nullptr;
    sqlite3_stmt* insert_ = nullptr;
    sqlite3_stmt* erase_ = nullptr;
    sqlite3_stmt* head_sizes_ = nullptr;
    sqlite3_stmt* begin_ = nullptr;
    sqlite3_stmt* commit_ = nullptr;
    sqlite3_stmt* read_ = nullptr;
    sqlite3_stmt* read_one_ = nullptr;
    sqlite3_stmt* record_size_ = nullptr;
    std::mutex reader_mutex_;
    mutable std::mutex error_mutex_;
    std::string last_error_;
    void set_error(std::string text);
};

}  // namespace gwd
