#include "common/whole_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/error_text.h"

namespace gwd {

bool read_whole_file(const std::filesystem::path& path, std::string& out) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    out.clear();
    char buffer[64 * 1024];
    while (true) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int saved = errno;
            ::close(fd);
            errno = saved;
            return false;
        }
        if (n == 0) break;
        out.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return true;
}

bool write_all(int fd, std::string_view bytes) {
    size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) {
            errno = EIO;
            return false;
        }
        written += static_cast<size_t>(n);
    }
    return true;
}

std::string replace_file_durably(const std::filesystem::path& path, std::string_view bytes, mode_t mode) {
    const std::filesystem::path tmp = path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return "cannot create " + tmp.string() + ": " + error_text(errno);
    std::string error;
    if (!write_all(fd, bytes) || ::fsync(fd) != 0) error = "cannot write " + tmp.string() + ": " + error_text(errno);
    if (::close(fd) != 0 && error.empty()) error = "cannot write " + tmp.string() + ": " + error_text(errno);
    if (error.empty() && ::rename(tmp.c_str(), path.c_str()) != 0)
        error = "cannot replace " + path.string() + ": " + error_text(errno);
    if (!error.empty()) {
        ::unlink(tmp.c_str());
        return error;
    }
    // The rename itself must survive a power cut too.
    const int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return {};
}

}  // namespace gwd
