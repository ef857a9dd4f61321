#include "plugin_host/plugin_library.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "common/error_text.h"
#include "common/whole_file.h"
#include "plugin_host/crash_guard.h"
#include "plugin_host/file_digest.h"

namespace gwd {

namespace {

// Why `bytes` cannot be a whole shared object, or empty. dlopen() maps the
// segments a file's headers promise: one cut short (still being copied)
// would fault inside dlopen when a missing page is touched.
std::string truncation_problem(const std::string& bytes) {
    const std::string cut = "it is cut short at " + std::to_string(bytes.size()) + " bytes (still being copied?)";
    if (bytes.size() < EI_NIDENT || bytes.compare(0, SELFMAG, ELFMAG) != 0) {
        return bytes.size() < SELFMAG ? cut : "it is not an ELF shared object";
    }
    if (bytes[EI_CLASS] != ELFCLASS64) return {};  // not ours to judge; dlopen will say
    if (bytes.size() < sizeof(Elf64_Ehdr)) return cut;
    Elf64_Ehdr header;
    std::memcpy(&header, bytes.data(), sizeof header);
    const std::uint64_t table_end = header.e_phoff + static_cast<std::uint64_t>(header.e_phnum) * header.e_phentsize;
    if (header.e_phentsize != sizeof(Elf64_Phdr) || table_end > bytes.size()) return cut;
    for (unsigned i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr segment;
        std::memcpy(&segment, bytes.data() + header.e_phoff + i * sizeof segment, sizeof segment);
        if (segment.p_type == PT_LOAD && segment.p_offset + segment.p_filesz > bytes.size()) return cut;
    }
    return {};
}

// Writes `bytes` to a new file in `dir`, readable and writable by us only.
std::filesystem::path write_private_copy(const std::filesystem::path& dir, const std::string& stem,
                                         const std::string& bytes, std::string& error) {
    static std::atomic<unsigned> sequence{0};
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    ::chmod(dir.c_str(), 0700);
    const auto copy = dir / (stem + "." + std::to_string(::getpid()) + "." + std::to_string(++sequence) + ".so");
    const int fd = ::open(copy.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = "cannot make a private copy in " + dir.string() + ": " + error_text(errno);
        return {};
    }
    const bool written = write_all(fd, bytes);
    const bool ok = ::close(fd) == 0 && written;
    if (!ok) {
        error = "cannot write a private copy in " + dir.string() + ": " + error_text(errno);
        std::filesystem::remove(copy, ec);
        return {};
    }
    return copy;
}

}  // namespace

PluginLibrary::PluginLibrary(std::filesystem::path path, void* handle, const gwd_plugin* descriptor,
                             std::vector<OptionSpec> options, int crash_image, std::string sha256,
                             std::filesystem::path private_copy)
    : path_(std::move(path)),
      handle_(handle),
      descriptor_(descriptor),
      options_(std::move(options)),
      crash_image_(crash_image),
      sha256_(std::move(sha256)),
      private_copy_(std::move(private_copy)) {}

std::string PluginLibrary::version_label() const {
    std::string label = descriptor_->version != nullptr ? descriptor_->version : "?";
    if (!sha256_.empty()) label += " (sha256 " + sha256_.substr(0, 8) + ")";
    return label;
}

PluginLibrary::~PluginLibrary() {
    crash_guard::release_image(crash_image_);
    if (handle_ != nullptr) dlclose(handle_);
    // Only now: while the image is mapped its inode stays taken, so a later
    // copy can never look like this one to dlopen().
    std::error_code ec;
    if (!private_copy_.empty()) std::filesystem::remove(private_copy_, ec);
}

std::string PluginLibrary::check_file_safety(const std::filesystem::path& path) {
    const uid_t me = geteuid();
    auto check = [&](const std::filesystem::path& p, const char* what) -> std::string {
        struct stat st {};
        if (stat(p.c_str(), &st) != 0) return std::string(what) + " " + p.string() + ": " + gwd::error_text(errno);
        if (st.st_uid != 0 && st.st_uid != me) {
            return std::string(what) + " " + p.string() + " is owned by uid " + std::to_string(st.st_uid) +
                   ", not by root or the daemon's user; refusing to load code others control (chown it)";
        }
        // A sticky directory (like /tmp) lets others create files but not replace ours.
        const bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && !sticky_dir) {
            return std::string(what) + " " + p.string() +
                   " is writable by group or others; refusing to load code others can change (chmod go-w)";
        }
        return {};
    };
    std::string problem = check(path, "plugin file");
    if (!problem.empty()) return problem;
    return check(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path(), "plugin directory");
}

std::string PluginLibrary::check_descriptor(const gwd_plugin* d, std::vector<OptionSpec>* options) {
    if (d == nullptr) return "its entry function returned no descriptor";
    if (d->abi_version < GWD_PLUGIN_ABI_MIN_VERSION || d->abi_version > GWD_PLUGIN_ABI_VERSION) {
        return "it was built for plugin ABI version " + std::to_string(d->abi_version) +
               ", but this gatewayd supports versions " + std::to_string(GWD_PLUGIN_ABI_MIN_VERSION) + " to " +
               std::to_string(GWD_PLUGIN_ABI_VERSION) + "; rebuild it against this gatewayd's plugin.h";
    }
    if (d->name == nullptr || d->name[0] == '\0') return "its descriptor has no name";
    if (d->create == nullptr || d->destroy == nullptr)
        return "its descriptor lacks the required create or destroy function";
    if ((d->flags & GWD_PLUGIN_POLLED) != 0 && d->poll == nullptr)
        return "it is a polled plugin without a poll function";
    if ((d->flags & ~GWD_PLUGIN_POLLED) != 0) return "its descriptor sets flags this gatewayd does not know";
    for (void* r : d->reserved) {
        if (r != nullptr) return "its descriptor fills reserved fields this gatewayd does not know";
    }
    // ABI 1 descriptors had a reserved field where stored() is now.
    if (d->abi_version < 2 && d->stored != nullptr)
        return "its descriptor fills reserved fields this gatewayd does not know";
    // ... and ABI 1 and 2 ones where command() is now.
    if (d->abi_version < 3 && d->command != nullptr)
        return "its descriptor fills reserved fields this gatewayd does not know";
    std::vector<OptionSpec> specs;
    if (std::string problem = read_option_specs(*d, specs); !problem.empty()) return problem;
    if (options != nullptr) *options = std::move(specs);
    return {};
}

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::filesystem::path& path, std::string& error,
                                                   const std::filesystem::path& private_copy_dir) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        error = "plugin file " + path.string() + " does not exist";
        return nullptr;
    }
    if (std::string problem = check_file_safety(path); !problem.empty()) {
        error = problem;
        return nullptr;
    }
    std::string bytes;
    if (!read_whole_file(path, bytes)) {
        error = "cannot read plugin file " + path.string() + ": " + error_text(errno);
        return nullptr;
    }
    if (std::string problem = truncation_problem(bytes); !problem.empty()) {
        error = "cannot load plugin file " + path.string() + ": " + problem;
        return nullptr;
    }
    std::filesystem::path copy;
    if (!private_copy_dir.empty()) {
        copy = write_private_copy(private_copy_dir, path.stem().string(), bytes, error);
        if (copy.empty()) return nullptr;
    }
    auto discard_copy = [&] {
        if (!copy.empty()) std::filesystem::remove(copy, ec);
    };
    const std::filesystem::path& image = copy.empty() ? path : copy;
    dlerror();
    void* handle = dlopen(image.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        error = "cannot load plugin file " + path.string() + ": " + (why ? why : "unknown dlopen error");
        // A private copy's name says nothing to the reader: name the file.
        if (!copy.empty()) {
            const std::string copy_name = copy.string();
            for (size_t at; (at = error.find(copy_name)) != std::string::npos;)
                error.replace(at, copy_name.size(), "it");
        }
        discard_copy();
        return nullptr;
    }
    dlerror();
    void* symbol = dlsym(handle, GWD_PLUGIN_ENTRY_SYMBOL);
    if (symbol == nullptr) {
        dlclose(handle);
        discard_copy();
        error = "plugin file " + path.string() +
                " has no entry symbol '" GWD_PLUGIN_ENTRY_SYMBOL
                "'; is it a gatewayd sensor plugin? (plugins export it with GWD_PLUGIN_EXPORT)";
        return nullptr;
    }
    auto entry = reinterpret_cast<gwd_plugin_entry_fn>(symbol);
    const int crash_image = crash_guard::register_image(path.stem().string(), symbol);
    const gwd_plugin* descriptor = nullptr;
    std::vector<OptionSpec> options;
    {
        crash_guard::InPlugin marker(-1, "gwd_plugin_entry");
        descriptor = entry();
    }
    if (std::string problem = check_descriptor(descriptor, &options); !problem.empty()) {
        crash_guard::release_image(crash_image);
        dlclose(handle);
        discard_copy();
        error = "refusing plugin file " + path.string() + ": " + problem;
        return nullptr;
    }
    return std::shared_ptr<PluginLibrary>(new PluginLibrary(path, handle, descriptor, std::move(options), crash_image,
                                                            sha256_hex(bytes), std::move(copy)));
}

}  // namespace gwd
