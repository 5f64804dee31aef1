#include "scanner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fnmatch.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "nasops/core/log.hpp"
#include "nasops/util/sha256.hpp"

namespace nasops::sync {

namespace {

constexpr std::string_view k_temp_prefix = ".nasops-";
constexpr std::string_view k_temp_suffix = ".part";
constexpr std::size_t k_name_max = 255;

std::string normalise_pattern(std::string pattern) {
    while (!pattern.empty() && pattern.front() == '/') pattern.erase(0, 1);
    while (!pattern.empty() && pattern.back() == '/') pattern.pop_back();
    return pattern;
}

bool glob(const std::string& pattern, const std::string& text) {
    return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

// Whether `pattern` matches `rel_path` or a folder above it (see Filter).
bool matches(const std::string& pattern, std::string_view rel_path) {
    const bool by_path = pattern.find('/') != std::string::npos;
    std::size_t start = 0;
    while (start <= rel_path.size()) {
        const auto slash = rel_path.find('/', start);
        const auto end = slash == std::string_view::npos ? rel_path.size() : slash;
        const std::string part(by_path ? rel_path.substr(0, end) : rel_path.substr(start, end - start));
        if (glob(pattern, part)) return true;
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return false;
}

std::string join_rel(std::string_view prefix, std::string_view name) {
    if (prefix.empty()) return std::string(name);
    std::string out;
    out.reserve(prefix.size() + 1 + name.size());
    out.append(prefix).push_back('/');
    out.append(name);
    return out;
}

struct Frame {
    DirPtr dir;
    std::string rel;  // of the folder; "" for the source itself
};

}  // namespace

DirPtr open_folder(int parent, const char* name) {
    const int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return nullptr;
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
        const int saved = errno;
        ::close(fd);
        errno = saved;
    }
    return DirPtr(dir);
}

FileVersion file_version(const struct stat& st) noexcept {
    return FileVersion{
        .size = static_cast<std::uint64_t>(st.st_size),
        .mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
        .inode = static_cast<std::uint64_t>(st.st_ino),
    };
}

Filter::Filter(std::vector<std::string> include, std::vector<std::string> exclude) {
    for (auto& p : include) m_include.push_back(normalise_pattern(std::move(p)));
    for (auto& p : exclude) m_exclude.push_back(normalise_pattern(std::move(p)));
}

bool Filter::takes_file(std::string_view rel_path) const {
    return !excluded_by(rel_path) && included(rel_path);
}

bool Filter::prunes_folder(std::string_view rel_path) const {
    return excluded_by(rel_path).has_value();
}

std::optional<std::string> Filter::excluded_by(std::string_view rel_path) const {
    for (const auto& p : m_exclude)
        if (matches(p, rel_path)) return p;
    return std::nullopt;
}

bool Filter::included(std::string_view rel_path) const {
    if (m_include.empty()) return true;
    for (const auto& p : m_include)
        if (matches(p, rel_path)) return true;
    return false;
}

std::string temp_name_for(std::string_view name) {
    if (k_temp_prefix.size() + name.size() + k_temp_suffix.size() <= k_name_max)
        return fmt::format("{}{}{}", k_temp_prefix, name, k_temp_suffix);
    return fmt::format("{}{}{}", k_temp_prefix, sha256_hex(name), k_temp_suffix);
}

bool is_temp_name(std::string_view name) noexcept {
    return name.size() > k_temp_prefix.size() + k_temp_suffix.size() && name.starts_with(k_temp_prefix) &&
           name.ends_with(k_temp_suffix);
}

Result<ScanStats> scan_source(const std::filesystem::path& source, const Filter& filter,
                              const std::function<Result<void>(const ScannedFile&)>& on_file) {
    // The source itself may be a link: the operator named it.
    const int root_fd = ::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return fail(ExitCode::no_input,
                    fmt::format("cannot read source folder {}: {}", source.string(), std::strerror(errno)));
    DirPtr root(::fdopendir(root_fd));
    if (!root) {
        ::close(root_fd);
        return fail(ExitCode::no_input,
                    fmt::format("cannot read source folder {}: {}", source.string(), std::strerror(errno)));
    }

    ScanStats stats;
    std::vector<Frame> stack;
    stack.push_back(Frame{std::move(root), {}});
    stats.folders = 1;
    auto& log = logger();
    const auto where = [&](const std::string& rel) { return (source / rel).string(); };

    while (!stack.empty()) {
        Frame& frame = stack.back();
        errno = 0;
        const dirent* entry = ::readdir(frame.dir.get());
        if (entry == nullptr) {
            if (errno != 0) {
                ++stats.errors;
                log.warning("cannot read folder {}: {}", where(frame.rel), std::strerror(errno));
            }
            stack.pop_back();
            continue;
        }
        const std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        const int dir_fd = ::dirfd(frame.dir.get());
        std::string rel = join_rel(frame.rel, name);

        unsigned char type = entry->d_type;
        struct stat st {};
        bool have_stat = false;
        if (type == DT_UNKNOWN || type == DT_REG) {
            if (::fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno != ENOENT) {  // a file removed while we walk is simply gone
                    ++stats.errors;
                    log.warning("cannot stat {}: {}", where(rel), std::strerror(errno));
                }
                continue;
            }
            have_stat = true;
            type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_FIFO;
        }

        if (type == DT_LNK) {
            ++stats.symlinks;
            log.debug("skipping symbolic link {}", where(rel));
            continue;
        }
        if (type == DT_DIR) {
            if (filter.prunes_folder(rel)) {
                ++stats.excluded;
                continue;
            }
            if (stack.size() >= k_max_scan_depth) {
                ++stats.errors;
                log.warning("skipping {}: deeper than {} folders", where(rel), k_max_scan_depth);
                continue;
            }
            DirPtr child = open_folder(dir_fd, entry->d_name);
            if (!child) {
                if (errno == ELOOP || errno == ENOTDIR) {  // replaced by a link since readdir
                    ++stats.symlinks;
                    log.debug("skipping symbolic link {}", where(rel));
                } else if (errno != ENOENT) {
                    ++stats.errors;
                    log.warning("cannot read folder {}: {}", where(rel), std::strerror(errno));
                }
                continue;
            }
            ++stats.folders;
            stack.push_back(Frame{std::move(child), std::move(rel)});  // `frame` is invalid from here
            continue;
        }
        if (type != DT_REG) {
            ++stats.other;
            log.debug("skipping {}: not a regular file", where(rel));
            continue;
        }
        if (is_temp_name(name)) {
            ++stats.temp_files;
            log.info("skipping {}: named like nasops's own partial uploads (.nasops-*.part)", where(rel));
            continue;
        }
        if (!filter.takes_file(rel)) {
            ++stats.excluded;
            continue;
        }
        if (!have_stat) continue;  // unreachable: DT_REG entries are always stat'ed
        ++stats.files;
        TRY(on_file(ScannedFile{std::move(rel), file_version(st)}));
    }
    return stats;
}

Result<SourceParent> open_source_parent(const std::filesystem::path& source, std::string_view rel_path) {
    const auto failure = [&](int err) {
        return fail(ExitCode::no_input,
                    fmt::format("cannot open {}: {}", (source / std::string(rel_path)).string(),
                                err == ELOOP ? "a symbolic link is in the way" : std::strerror(err)));
    };
    if (rel_path.empty() || rel_path.front() == '/') return failure(EINVAL);
    UniqueFd folder(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!folder) return failure(errno);
    std::size_t start = 0;
    for (;;) {
        const auto slash = rel_path.find('/', start);
        const std::string part(
            rel_path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
        if (part.empty() || part == "." || part == "..") return failure(EINVAL);
        if (slash == std::string_view::npos) return SourceParent{std::move(folder), part};
        UniqueFd next(::openat(folder.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) return failure(errno == ENOTDIR ? ELOOP : errno);
        folder = std::move(next);
        start = slash + 1;
    }
}

Result<std::pair<int, std::string>> SourceFiles::folder_of(const std::filesystem::path& source,
                                                           std::string_view rel_path) {
    const auto slash = rel_path.rfind('/');
    std::string key = source.string();
    key.push_back('\0');
    if (slash != std::string_view::npos) key.append(rel_path.substr(0, slash));
    if (!m_folder || key != m_folder_key) {
        m_folder_key.clear();
        TRY_ASSIGN(auto parent, open_source_parent(source, rel_path));
        m_folder = std::move(parent.folder);
        m_folder_key = std::move(key);
        return std::pair{m_folder.get(), std::move(parent.name)};
    }
    const std::string name(slash == std::string_view::npos ? rel_path : rel_path.substr(slash + 1));
    if (name.empty() || name == "." || name == "..")
        return fail(ExitCode::no_input, fmt::format("cannot open {}: {}", (source / std::string(rel_path)).string(),
                                                    std::strerror(EINVAL)));
    return std::pair{m_folder.get(), name};
}

Result<SourceFiles::Opened> SourceFiles::open(const std::filesystem::path& source, std::string_view rel_path) {
    TRY_ASSIGN(auto folder, folder_of(source, rel_path));
    const auto where = (source / std::string(rel_path)).string();
    // O_NONBLOCK: a FIFO put in the file's place must not hang the run; on the
    // regular files let through, it changes nothing.
    Opened opened{UniqueFd(::openat(folder.first, folder.second.c_str(),
                                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)),
                  {}};
    if (!opened.fd)
        return fail(ExitCode::no_input, fmt::format("cannot open {}: {}", where,
                                                    errno == ELOOP ? "it is a symbolic link" : std::strerror(errno)));
    if (::fstat(opened.fd.get(), &opened.st) != 0)
        return fail(ExitCode::io_error, fmt::format("cannot stat {}: {}", where, std::strerror(errno)));
    if (!S_ISREG(opened.st.st_mode))
        return fail(ExitCode::no_input, fmt::format("cannot upload {}: not a regular file", where));
    return opened;
}

Result<void> SourceFiles::check_removable(const std::filesystem::path& source, std::string_view rel_path,
                                          const FileVersion& expected) {
    TRY_ASSIGN(auto folder, folder_of(source, rel_path));
    const auto where = (source / std::string(rel_path)).string();
    struct stat st {};
    if (::fstatat(folder.first, folder.second.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return fail(ExitCode::no_input, fmt::format("cannot remove {}: {}", where, std::strerror(errno)));
    if (!S_ISREG(st.st_mode) || file_version(st) != expected)
        return fail(ExitCode::data_error,
                    fmt::format("not removing {}: it changed after it was uploaded; it will be uploaded again", where));
    return {};
}

Result<void> SourceFiles::remove(const std::filesystem::path& source, std::string_view rel_path,
                                 const FileVersion& expected) {
    TRY(check_removable(source, rel_path, expected));
    TRY_ASSIGN(auto folder, folder_of(source, rel_path));  // the one check_removable opened: kept
    if (::unlinkat(folder.first, folder.second.c_str(), 0) != 0)
        return fail(ExitCode::io_error, fmt::format("cannot remove {}: {}", (source / std::string(rel_path)).string(),
                                                    std::strerror(errno)));
    return {};
}

}  // namespace nasops::sync
