#include "local_target.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nasops/core/log.hpp"
#include "nasops/util/sha256.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops::sync {

namespace {

std::string errno_text() {
    return std::strerror(errno);
}

class LocalFile final : public TargetFile {
public:
    LocalFile(UniqueFd fd, std::string where) : m_fd(std::move(fd)), m_where(std::move(where)) {}

    Result<void> write(std::string_view data) override {
        while (!data.empty()) {
            const ssize_t n = ::write(m_fd.get(), data.data(), data.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                return fail(errno == ENOSPC || errno == EDQUOT ? ExitCode::cant_create : ExitCode::io_error,
                            fmt::format("cannot write {}: {}", m_where, errno_text()));
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return {};
    }

    Result<bool> finish(std::int64_t mtime_ns) override {
        const bool timed = set_mtime(mtime_ns);
        if (::fsync(m_fd.get()) != 0)
            return fail(ExitCode::io_error, fmt::format("cannot fsync {}: {}", m_where, errno_text()));
        if (m_fd.close() != 0)
            return fail(ExitCode::io_error, fmt::format("cannot close {}: {}", m_where, errno_text()));
        return timed;
    }

private:
    // Whether the file system let the modification time be set.
    bool set_mtime(std::int64_t mtime_ns) {
        const timespec times[2] = {
            {.tv_sec = 0, .tv_nsec = UTIME_OMIT},
            {.tv_sec = static_cast<time_t>(mtime_ns / 1'000'000'000),
             .tv_nsec = static_cast<long>(mtime_ns % 1'000'000'000)},
        };
        if (::futimens(m_fd.get(), times) == 0) return true;
        logger().debug("cannot set the mtime of {}: {}", m_where, errno_text());
        return false;
    }

    UniqueFd m_fd;
    std::string m_where;
};

}  // namespace

LocalTarget::LocalTarget(std::filesystem::path root) : m_root(std::move(root)) {}

std::string LocalTarget::describe() const {
    return m_root.string();
}

std::filesystem::path LocalTarget::path_of(std::string_view rel_path) const {
    return rel_path.empty() ? m_root : m_root / std::string(rel_path);
}

std::string LocalTarget::location(std::string_view rel_path) const {
    return path_of(rel_path).string();
}

std::vector<Result<TargetEntry>> LocalTarget::stat(std::span<const std::string> rel_paths) {
    return one_at_a_time<TargetEntry>(rel_paths, [&](const std::string& p) { return stat_one(p); });
}

Result<TargetEntry> LocalTarget::stat_one(std::string_view rel_path) {
    struct stat st {};
    const auto p = path_of(rel_path);
    if (::stat(p.c_str(), &st) != 0) {
        if (errno == ENOENT) return TargetEntry{};
        return fail(ExitCode::io_error, fmt::format("cannot stat {}: {}", p.string(), errno_text()));
    }
    return TargetEntry{
        .exists = true, .is_regular = S_ISREG(st.st_mode), .size = static_cast<std::uint64_t>(st.st_size)};
}

Result<void> LocalTarget::make_dirs(std::string_view rel_path) {
    struct stat st {};
    if (::stat(path_of(rel_path).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
    std::string prefix;
    std::size_t start = 0;
    while (start <= rel_path.size()) {
        const auto slash = rel_path.find('/', start);
        const auto end = slash == std::string_view::npos ? rel_path.size() : slash;
        const auto part = rel_path.substr(start, end - start);
        start = end + 1;
        if (part.empty()) {
            if (slash == std::string_view::npos) break;
            continue;
        }
        const auto parent = prefix;
        prefix = join_path(prefix, part);
        const auto p = path_of(prefix);
        if (::mkdir(p.c_str(), 0755) == 0) {
            m_dirty_folders.insert(parent);
        } else if (errno != EEXIST) {
            return fail(ExitCode::cant_create, fmt::format("cannot create folder {}: {}", p.string(), errno_text()));
        } else if (::stat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            return fail(ExitCode::cant_create,
                        fmt::format("cannot create folder {}: a file of that name is in the way", p.string()));
        }
        if (slash == std::string_view::npos) break;
    }
    return {};
}

Result<std::unique_ptr<TargetFile>> LocalTarget::open_write(std::string_view rel_path, std::uint64_t offset) {
    const auto p = path_of(rel_path);
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd)
        return fail(ExitCode::cant_create, fmt::format("cannot open {} for writing: {}", p.string(), errno_text()));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return fail(ExitCode::io_error, fmt::format("cannot stat {}: {}", p.string(), errno_text()));
    if (static_cast<std::uint64_t>(st.st_size) < offset)
        return fail(ExitCode::data_error,
                    fmt::format("cannot resume {} at byte {}: it holds only {} bytes", p.string(), offset, st.st_size));
    if (::ftruncate(fd.get(), static_cast<off_t>(offset)) != 0)
        return fail(ExitCode::io_error, fmt::format("cannot truncate {}: {}", p.string(), errno_text()));
    if (::lseek(fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
        return fail(ExitCode::io_error, fmt::format("cannot seek in {}: {}", p.string(), errno_text()));
    m_dirty_folders.insert(std::string(parent_of(rel_path)));
    return std::make_unique<LocalFile>(std::move(fd), p.string());
}

std::vector<Result<bool>> LocalTarget::write_files(std::span<const WholeFile> files) {
    return write_each(*this, files);
}

std::vector<Result<void>> LocalTarget::rename(std::span<const RenamePair> renames) {
    return one_at_a_time<void>(renames, [&](const RenamePair& r) { return rename_one(r); });
}

Result<void> LocalTarget::rename_one(const RenamePair& pair) {
    const auto& [from, to] = pair;
    const auto a = path_of(from);
    const auto b = path_of(to);
    if (::rename(a.c_str(), b.c_str()) != 0)
        return fail(errno == ENOENT ? ExitCode::no_input : ExitCode::cant_create,
                    fmt::format("cannot rename {} to {}: {}", a.string(), b.string(), errno_text()));
    m_dirty_folders.insert(std::string(parent_of(from)));
    m_dirty_folders.insert(std::string(parent_of(to)));
    return {};
}

Result<void> LocalTarget::remove(std::string_view rel_path) {
    const auto p = path_of(rel_path);
    if (::unlink(p.c_str()) != 0)
        return fail(errno == ENOENT ? ExitCode::no_input : ExitCode::io_error,
                    fmt::format("cannot remove {}: {}", p.string(), errno_text()));
    m_dirty_folders.insert(std::string(parent_of(rel_path)));
    return {};
}

Result<void> LocalTarget::commit() {
    for (const auto& folder : m_dirty_folders) {
        const auto p = path_of(folder);
        UniqueFd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd) {
            if (errno == ENOENT) continue;
            return fail(ExitCode::io_error,
                        fmt::format("cannot open folder {} to sync it: {}", p.string(), errno_text()));
        }
        if (::fsync(fd.get()) != 0)
            return fail(ExitCode::io_error, fmt::format("cannot fsync folder {}: {}", p.string(), errno_text()));
    }
    m_dirty_folders.clear();
    return {};
}

Result<std::uint64_t> LocalTarget::available_space(std::string_view rel_folder) {
    const auto folder = path_of(rel_folder);
    struct statvfs st {};
    if (::statvfs(folder.c_str(), &st) != 0)
        return fail(ExitCode::io_error,
                    fmt::format("cannot read the free space of {}: {}", folder.string(), errno_text()));
    return static_cast<std::uint64_t>(st.f_bavail) * static_cast<std::uint64_t>(st.f_frsize);
}

Result<PendingDigests> LocalTarget::sha256(std::span<const std::string> rel_paths) {
    return PendingDigests(
        [this, paths = std::vector<std::string>(rel_paths.begin(), rel_paths.end())] { return hash_files(paths); });
}

Result<std::optional<Digests>> LocalTarget::hash_files(std::span<const std::string> rel_paths) {
    Digests out;
    out.reserve(rel_paths.size());
    for (const auto& rel : rel_paths) {
        auto digest = sha256_file(path_of(rel));
        if (digest) {
            out.emplace_back(std::move(*digest));
        } else if (digest.error().code == ExitCode::no_input) {
            out.emplace_back(std::nullopt);
        } else {
            return std::unexpected(digest.error());
        }
    }
    return out;
}

}  // namespace nasops::sync
