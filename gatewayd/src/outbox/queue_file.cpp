#include "outbox/queue_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error_text.h"
#include "outbox/record_codec.h"

namespace gwd {

namespace {

constexpr int kApplicationId = 0x47574451;  // "GWDQ": a gatewayd queue
constexpr int kSchemaVersion = 1;
constexpr off_t kReserveBytes = 2 * 1024 * 1024;
// Only the outbox's own two connections share the file; a lock held longer
// than this is a stuck writer, and waiting on would hide it.
constexpr int kBusyTimeoutMs = 5000;
// Records salvaged from a damaged file are committed this many at a time.
constexpr std::uint64_t kSalvageBatch = 10000;

bool is_damage(int rc) {
    const int primary = rc & 0xFF;
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

std::string describe(sqlite3* db, int rc) {
    std::string text = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (db != nullptr) {
        if (const int e = sqlite3_system_errno(db); e != 0 && (rc & 0xFF) != SQLITE_CORRUPT) {
            text += std::string(" (") + gwd::error_text(e) + ")";
        }
    }
    return text;
}

// Runs SQL that returns nothing we need, or one value we return as text.
int exec(sqlite3* db, const char* sql, std::string* value = nullptr) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (value != nullptr && sqlite3_column_count(stmt) > 0) {
            const auto* text = sqlite3_column_text(stmt, 0);
            *value = text != nullptr ? reinterpret_cast<const char*>(text) : "";
        }
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void close_db(sqlite3*& db) {
    if (db != nullptr) sqlite3_close_v2(db);
    db = nullptr;
}

std::filesystem::path with_suffix(const std::filesystem::path& p, const char* suffix) {
    return std::filesystem::path(p.string() + suffix);
}

}  // namespace

std::unique_ptr<QueueFile> QueueFile::open(const std::filesystem::path& file, FsyncPolicy fsync, const Logger& log,
                                           std::string& error) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) {
        error = "cannot create " + file.parent_path().string() + ": " + ec.message();
        return nullptr;
    }
    chmod(file.parent_path().c_str(), 0700);

    std::unique_ptr<QueueFile> q(new QueueFile());
    q->path_ = file;
    // SQLite takes an empty file for a new database; but gatewayd writes the
    // schema the moment it creates one, so an empty queue file lost what it
    // held (a crash or a full disk before its first write reached the disk).
    const bool was_empty = std::filesystem::exists(file, ec) && std::filesystem::file_size(file, ec) == 0 && !ec;
    std::string problem;
    if (q->open_connections(fsync, problem) && q->scan(problem)) {
        if (was_empty) {
            q->contents_.damage = "was empty (0 bytes): whatever it held is lost";
            log.warning(file.string() +
                        " was empty (0 bytes) although it existed: whatever it held is lost (a crash "
                        "or a full disk before its first write reached the disk); it starts anew");
        }
        q->create_reserve();
        return q;
    }
    if (problem.rfind("damaged: ", 0) != 0) {
        error = file.string() + ": " + problem;
        return nullptr;
    }

    // Damaged: keep the file for inspection, copy out what SQLite can still read.
    const std::string damage = problem.substr(9);
    close_db(q->writer_);
    close_db(q->reader_);
    q.reset(new QueueFile());
    q->path_ = file;
    const auto aside = with_suffix(file, ".damaged");
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(with_suffix(aside, suffix), ec);
    std::filesystem::rename(file, aside, ec);
    if (ec) {
        error = "cannot move the damaged " + file.string() + " aside: " + ec.message();
        return nullptr;
    }
    std::filesystem::rename(with_suffix(file, "-wal"), with_suffix(aside, "-wal"), ec);
    std::filesystem::remove(with_suffix(file, "-shm"), ec);
    if (!q->open_connections(fsync, problem)) {
        error = file.string() + ": " + problem;
        return nullptr;
    }

    std::uint64_t salvaged = 0, unreadable = 0;
    sqlite3* old = nullptr;
    if (sqlite3_open_v2(aside.c_str(), &old, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) == SQLITE_OK) {
        // Lets SQLite read a file shorter than its header says (a truncated
        // file); we only read from it.
        sqlite3_exec(old, "PRAGMA writable_schema=ON", nullptr, nullptr, nullptr);
        sqlite3_stmt* select = nullptr;
        if (sqlite3_prepare_v2(old, "SELECT id, record FROM queue WHERE id >= ?1 ORDER BY id", -1, &select, nullptr) ==
            SQLITE_OK) {
            // Read on past damage: after a failure, probe ever further ahead.
            std::uint64_t from = 0;
            std::uint64_t skip = 1;
            int attempts = 0;
            q->begin();
            while (attempts < 64) {
                sqlite3_bind_int64(select, 1, static_cast<sqlite3_int64>(from));
                int rc;
                bool any = false;
                while ((rc = sqlite3_step(select)) == SQLITE_ROW) {
                    const auto id = static_cast<std::uint64_t>(sqlite3_column_int64(select, 0));
                    const auto* data = static_cast<const char*>(sqlite3_column_blob(select, 1));
                    const int size = sqlite3_column_bytes(select, 1);
                    const std::string_view record(data != nullptr ? data : "", static_cast<size_t>(size));
                    if (id < from) continue;  // a damaged b-tree may repeat itself
                    from = id + 1;
                    any = true;
                    // What damaged pages yield (an id-0 row of 0 bytes) is not
                    // a reading: only records that pass their CRC are copied.
                    std::string why;
                    if (id == 0 || !decode_record(record, why)) {
                        ++unreadable;
                        continue;
                    }
                    q->insert(id, record);
                    if (++salvaged % kSalvageBatch == 0) {
                        q->commit();
                        q->begin();
                    }
                }
                sqlite3_reset(select);
                if (rc == SQLITE_DONE) break;
                ++attempts;
                skip = any ? 1 : skip * 4;
                from += skip;
            }
            q->commit();
            sqlite3_finalize(select);
        }
    }
    close_db(old);
    if (!q->scan(problem)) {
        error = file.string() + ": " + problem;
        return nullptr;
    }
    // The count is what the new file holds, not what was read.
    q->contents_.salvaged = q->contents_.rows;
    q->contents_.unreadable = unreadable;
    q->contents_.damage = damage.empty() ? "damaged" : damage;
    q->contents_.kept_as = aside;
    q->create_reserve();
    log.error(file.string() + " was damaged (" + q->contents_.damage + "); " + std::to_string(q->contents_.rows) +
              " readings were recovered from it" +
              (unreadable > 0 ? " (" + std::to_string(unreadable) + " damaged records could not be)" : "") +
              "; the damaged file is kept as " + aside.string());
    return q;
}

QueueFile::~QueueFile() {
    for (sqlite3_stmt* s : {insert_, erase_, head_sizes_, begin_, commit_, read_, read_one_, record_size_})
        sqlite3_finalize(s);
    close_db(reader_);
    close_db(writer_);
}

bool QueueFile::open_connections(FsyncPolicy fsync, std::string& error) {
    auto fail = [&](sqlite3* db, int rc, const std::string& what) {
        error = (is_damage(rc) ? "damaged: " : "") + what + ": " + describe(db, rc);
        return false;
    };
    int rc = sqlite3_open_v2(path_.c_str(), &writer_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) return fail(writer_, rc, "cannot open");
    chmod(path_.c_str(), 0600);
    sqlite3_busy_timeout(writer_, kBusyTimeoutMs);
    std::string mode;
    // auto_vacuum only takes effect before the first table exists.
    if ((rc = exec(writer_, "PRAGMA auto_vacuum=INCREMENTAL")) != SQLITE_OK) return fail(writer_, rc, "cannot set up");
    if ((rc = exec(writer_, "PRAGMA journal_mode=WAL", &mode)) != SQLITE_OK) return fail(writer_, rc, "cannot set up");
    if (mode != "wal") {
        error = "cannot switch to WAL mode (journal_mode is '" + mode + "')";
        return false;
    }
    const char* sync = fsync == FsyncPolicy::always  ? "PRAGMA synchronous=FULL"
                       : fsync == FsyncPolicy::never ? "PRAGMA synchronous=OFF"
                                                     : "PRAGMA synchronous=NORMAL";
    // A small page cache (256 KiB per connection): the queue is read and
    // written at its two ends only, and the backlog must live on disk, not in
    // memory. A WAL folded back every 1 MiB stays smaller than the reserve, so
    // on a full disk the reserve is always enough to fold it.
    for (const char* sql :
         {sync, "PRAGMA cache_size=-256", "PRAGMA wal_autocheckpoint=256", "PRAGMA journal_size_limit=1048576"}) {
        if ((rc = exec(writer_, sql)) != SQLITE_OK) return fail(writer_, rc, "cannot set up");
    }
    std::string app_id, version;
    if ((rc = exec(writer_, "PRAGMA application_id", &app_id)) != SQLITE_OK) return fail(writer_, rc, "cannot read");
    if ((rc = exec(writer_, "PRAGMA user_version", &version)) != SQLITE_OK) return fail(writer_, rc, "cannot read");
    if (app_id == "0") {
        if ((rc = exec(writer_, "CREATE TABLE IF NOT EXISTS queue(id INTEGER PRIMARY KEY, record BLOB NOT NULL)")) !=
            SQLITE_OK)
            return fail(writer_, rc, "cannot create the queue table");
        const std::string stamp = "PRAGMA application_id=" + std::to_string(kApplicationId) +
                                  "; PRAGMA user_version=" + std::to_string(kSchemaVersion);
        if ((rc = sqlite3_exec(writer_, stamp.c_str(), nullptr, nullptr, nullptr)) != SQLITE_OK)
            return fail(writer_, rc, "cannot create");
    } else if (app_id != std::to_string(kApplicationId)) {
        error = "damaged: not a gatewayd queue (application_id " + app_id + ")";
        return false;
    } else if (std::stoi(version.empty() ? "0" : version) > kSchemaVersion) {
        error = "was written by a newer gatewayd (queue format " + version + "); this version reads format " +
                std::to_string(kSchemaVersion);
        return false;
    }

    rc = sqlite3_open_v2(path_.c_str(), &reader_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) return fail(reader_, rc, "cannot open for reading");
    sqlite3_busy_timeout(reader_, kBusyTimeoutMs);
    exec(reader_, "PRAGMA cache_size=-256");

    struct Statement {
        sqlite3* db;
        const char* sql;
        sqlite3_stmt** out;
    };
    for (const Statement& s : {
             Statement{writer_, "INSERT OR REPLACE INTO queue(id, record) VALUES(?1, ?2)", &insert_},
             Statement{writer_, "DELETE FROM queue WHERE id >= ?1 AND id < ?2", &erase_},
             Statement{writer_, "SELECT id, length(record) FROM queue WHERE id >= ?1 ORDER BY id LIMIT ?2",
                       &head_sizes_},
             Statement{writer_, "BEGIN", &begin_},
             Statement{writer_, "COMMIT", &commit_},
             Statement{reader_, "SELECT id, record FROM queue WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3", &read_},
             Statement{reader_, "SELECT record FROM queue WHERE id = ?1", &read_one_},
             Statement{reader_, "SELECT length(record) FROM queue WHERE id = ?1", &record_size_},
         }) {
        rc = sqlite3_prepare_v3(s.db, s.sql, -1, SQLITE_PREPARE_PERSISTENT, s.out, nullptr);
        if (rc != SQLITE_OK) return fail(s.db, rc, "cannot prepare");
    }
    return true;
}

bool QueueFile::scan(std::string& error) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(writer_, "SELECT id, length(record) FROM queue ORDER BY id", -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        error = (is_damage(rc) ? "damaged: " : "") + describe(writer_, rc);
        return false;
    }
    Contents c;
    std::uint64_t previous = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const auto id = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 0));
        if (c.rows == 0)
            c.first_id = id;
        else if (id > previous + 1)
            c.gaps.insert(previous + 1, id);
        previous = id;
        c.last_id = id;
        ++c.rows;
        c.record_bytes += static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 1));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        error = (is_damage(rc) ? "damaged: " : "") + describe(writer_, rc);
        return false;
    }
    contents_ = std::move(c);
    return true;
}

QueueFile::Result QueueFile::step_done(sqlite3_stmt* stmt) {
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Result::ok;
    set_error(describe(writer_, rc));
    const bool no_space =
        (rc & 0xFF) == SQLITE_FULL || ((rc & 0xFF) == SQLITE_IOERR && sqlite3_system_errno(writer_) == ENOSPC);
    return no_space ? Result::full : Result::failed;
}

QueueFile::Result QueueFile::begin() { return step_done(begin_); }

QueueFile::Result QueueFile::insert(std::uint64_t id, std::string_view record) {
    sqlite3_bind_int64(insert_, 1, static_cast<sqlite3_int64>(id));
    sqlite3_bind_blob64(insert_, 2, record.data(), record.size(), SQLITE_STATIC);
    const Result r = step_done(insert_);
    sqlite3_clear_bindings(insert_);
    return r;
}

QueueFile::Result QueueFile::erase(std::uint64_t first, std::uint64_t last) {
    sqlite3_bind_int64(erase_, 1, static_cast<sqlite3_int64>(first));
    sqlite3_bind_int64(erase_, 2, static_cast<sqlite3_int64>(last));
    return step_done(erase_);
}

QueueFile::Result QueueFile::commit() {
    const Result r = step_done(commit_);
    if (r != Result::ok) rollback();
    return r;
}

void QueueFile::rollback() {
    if (sqlite3_get_autocommit(writer_) == 0) sqlite3_exec(writer_, "ROLLBACK", nullptr, nullptr, nullptr);
}

QueueFile::Result QueueFile::head_sizes(std::uint64_t from, size_t limit, std::vector<RowSize>& out) {
    sqlite3_bind_int64(head_sizes_, 1, static_cast<sqlite3_int64>(from));
    sqlite3_bind_int64(head_sizes_, 2, static_cast<sqlite3_int64>(limit));
    int rc;
    while ((rc = sqlite3_step(head_sizes_)) == SQLITE_ROW) {
        out.push_back({static_cast<std::uint64_t>(sqlite3_column_int64(head_sizes_, 0)),
                       static_cast<std::uint64_t>(sqlite3_column_int64(head_sizes_, 1))});
    }
    sqlite3_reset(head_sizes_);
    if (rc == SQLITE_DONE) return Result::ok;
    set_error(describe(writer_, rc));
    return Result::failed;
}

bool QueueFile::sync() {
    const int fd = ::open(with_suffix(path_, "-wal").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT;  // nothing written since the last checkpoint
    const bool ok = fdatasync(fd) == 0;
    if (!ok) set_error(std::string("fdatasync: ") + gwd::error_text(errno));
    ::close(fd);
    return ok;
}

void QueueFile::release_free_pages(int pages) {
    const std::string sql = "PRAGMA incremental_vacuum(" + std::to_string(pages) + ")";
    exec(writer_, sql.c_str());
}

bool QueueFile::checkpoint() {
    const int rc = sqlite3_wal_checkpoint_v2(writer_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    if (rc != SQLITE_OK) set_error(describe(writer_, rc));
    return rc == SQLITE_OK;
}

void QueueFile::create_reserve() {
    const auto reserve = with_suffix(path_, ".reserve");
    const int fd = ::open(reserve.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    const bool ok = posix_fallocate(fd, 0, kReserveBytes) == 0;
    ::close(fd);
    if (!ok) unlink(reserve.c_str());  // no room for it now; maybe later
}

bool QueueFile::release_reserve() { return unlink(with_suffix(path_, ".reserve").c_str()) == 0; }

std::string QueueFile::last_error() const {
    std::lock_guard lock(error_mutex_);
    return last_error_;
}

void QueueFile::set_error(std::string text) {
    std::lock_guard lock(error_mutex_);
    last_error_ = std::move(text);
}

QueueFile::Result QueueFile::read(std::uint64_t first, std::uint64_t below, size_t limit, std::vector<Row>& out) {
    std::lock_guard lock(reader_mutex_);
    sqlite3_bind_int64(read_, 1, static_cast<sqlite3_int64>(first));
    sqlite3_bind_int64(read_, 2, static_cast<sqlite3_int64>(below));
    sqlite3_bind_int64(read_, 3, static_cast<sqlite3_int64>(limit));
    int rc;
    while ((rc = sqlite3_step(read_)) == SQLITE_ROW) {
        Row row;
        row.id = static_cast<std::uint64_t>(sqlite3_column_int64(read_, 0));
        const auto* data = static_cast<const char*>(sqlite3_column_blob(read_, 1));
        row.record.assign(data != nullptr ? data : "", static_cast<size_t>(sqlite3_column_bytes(read_, 1)));
        out.push_back(std::move(row));
    }
    sqlite3_reset(read_);  // ends the read transaction, so checkpoints can finish
    if (rc == SQLITE_DONE) return Result::ok;
    set_error(describe(reader_, rc));
    return Result::failed;
}

QueueFile::Result QueueFile::read_one(std::uint64_t id, std::optional<std::string>& out) {
    std::lock_guard lock(reader_mutex_);
    out.reset();
    sqlite3_bind_int64(read_one_, 1, static_cast<sqlite3_int64>(id));
    const int rc = sqlite3_step(read_one_);
    if (rc == SQLITE_ROW) {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(read_one_, 0));
        out.emplace(data != nullptr ? data : "", static_cast<size_t>(sqlite3_column_bytes(read_one_, 0)));
    }
    sqlite3_reset(read_one_);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) return Result::ok;
    set_error(describe(reader_, rc));
    return Result::failed;
}

std::optional<std::uint64_t> QueueFile::record_size(std::uint64_t id) {
    std::lock_guard lock(reader_mutex_);
    sqlite3_bind_int64(record_size_, 1, static_cast<sqlite3_int64>(id));
    std::optional<std::uint64_t> size;
    if (sqlite3_step(record_size_) == SQLITE_ROW)
        size = static_cast<std::uint64_t>(sqlite3_column_int64(record_size_, 0));
    sqlite3_reset(record_size_);
    return size;
}

}  // namespace gwd
