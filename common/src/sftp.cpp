#include "nasops/sftp.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "ssh_internal.hpp"

namespace nasops {

namespace {

unsigned int path_length(std::string_view path) {
    return static_cast<unsigned int>(path.size());
}

bool is_missing(unsigned long status) {
    return status == LIBSSH2_FX_NO_SUCH_FILE || status == LIBSSH2_FX_NO_SUCH_PATH;
}

// An Error for a failed SFTP call: "<what>: <why>". A missing file gets
// `missing_code`, a lost connection ExitCode::unavailable, anything else `code`.
Error sftp_error(LIBSSH2_SESSION* session, int socket, LIBSSH2_SFTP* sftp, int rc, std::string_view what, ExitCode code,
                 ExitCode missing_code) {
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
        const unsigned long status = libssh2_sftp_last_error(sftp);
        ExitCode exit = code;
        if (is_missing(status))
            exit = missing_code;
        else if (status == LIBSSH2_FX_NO_CONNECTION || status == LIBSSH2_FX_CONNECTION_LOST) {
            ssh_detail::abandon(session, socket);
            exit = ExitCode::unavailable;
        }
        return Error{fmt::format("{}: {} (SFTP status {})", what, ssh_detail::sftp_status_text(status), status), exit};
    }
    return ssh_detail::session_error(session, socket, rc, what, code);
}

int last_errno(LIBSSH2_SESSION* session) {
    const int rc = libssh2_session_last_errno(session);
    return rc != 0 ? rc : LIBSSH2_ERROR_SOCKET_NONE;
}

}  // namespace

// ---- SftpFile ---------------------------------------------------------------

SftpFile::SftpFile(LIBSSH2_SESSION* session, int socket, LIBSSH2_SFTP* sftp, LIBSSH2_SFTP_HANDLE* handle,
                   std::string path, std::uint64_t offset)
    : m_session(session), m_socket(socket), m_sftp(sftp), m_handle(handle), m_path(std::move(path)), m_offset(offset) {}

Result<void> SftpFile::pump(std::size_t limit) {
    while (m_window.size() - m_window_start > limit) {
        // libssh2 skips the bytes it already has in flight, sends the rest as
        // new WRITE requests, and returns how many bytes the server acknowledged.
        const ssize_t rc =
            libssh2_sftp_write(m_handle.get(), m_window.data() + m_window_start, m_window.size() - m_window_start);
        if (rc <= 0) {
            m_failed = true;
            if (rc == 0)
                return fail(ExitCode::io_error,
                            fmt::format("cannot write {} on the NAS: the server accepted no data", m_path));
            return std::unexpected(sftp_error(m_session, m_socket, m_sftp, static_cast<int>(rc),
                                              fmt::format("cannot write {} on the NAS", m_path), ExitCode::io_error,
                                              ExitCode::io_error));
        }
        m_window_start += static_cast<std::size_t>(rc);
    }
    if (m_window_start == m_window.size()) {
        m_window.clear();
        m_window_start = 0;
    } else if (m_window_start >= m_window.size() / 2) {
        m_window.erase(0, m_window_start);  // amortised: at most as many bytes moved as acknowledged
        m_window_start = 0;
    }
    return {};
}

Result<void> SftpFile::write(std::string_view data) {
    if (m_failed || !m_handle)
        return fail(ExitCode::io_error,
                    fmt::format("cannot write {} on the NAS: an earlier write failed or the file is closed", m_path));
    m_offset += data.size();
    m_window.append(data);
    return pump(k_in_flight);
}

Result<void> SftpFile::flush() {
    if (m_failed || !m_handle)
        return fail(ExitCode::io_error,
                    fmt::format("cannot write {} on the NAS: an earlier write failed or the file is closed", m_path));
    return pump(0);
}

Result<void> SftpFile::fsync() {
    if (auto flushed = flush(); !flushed) return flushed;
    if (const int rc = libssh2_sftp_fsync(m_handle.get()); rc != 0)
        return std::unexpected(sftp_error(m_session, m_socket, m_sftp, rc,
                                          fmt::format("cannot fsync {} on the NAS", m_path), ExitCode::io_error,
                                          ExitCode::io_error));
    return {};
}

Result<void> SftpFile::close() {
    if (!m_handle) return {};
    if (m_failed) {
        m_handle.reset();
        return fail(ExitCode::io_error, fmt::format("cannot complete {} on the NAS: an earlier write failed", m_path));
    }
    if (auto flushed = flush(); !flushed) return flushed;
    if (const int rc = libssh2_sftp_close_handle(m_handle.release()); rc != 0)
        return std::unexpected(sftp_error(m_session, m_socket, m_sftp, rc,
                                          fmt::format("cannot close {} on the NAS", m_path), ExitCode::io_error,
                                          ExitCode::io_error));
    return {};
}

Result<std::size_t> SftpFile::read(std::span<char> buffer) {
    if (!m_handle)
        return fail(ExitCode::io_error, fmt::format("cannot read {} on the NAS: the file is closed", m_path));
    const ssize_t rc = libssh2_sftp_read(m_handle.get(), buffer.data(), buffer.size());
    if (rc < 0)
        return std::unexpected(sftp_error(m_session, m_socket, m_sftp, static_cast<int>(rc),
                                          fmt::format("cannot read {} on the NAS", m_path), ExitCode::io_error,
                                          ExitCode::no_input));
    m_offset += static_cast<std::uint64_t>(rc);
    return static_cast<std::size_t>(rc);
}

// ---- Sftp -------------------------------------------------------------------

Sftp::Sftp(LIBSSH2_SESSION* session, int socket, Libssh2Ptr<LIBSSH2_SFTP> sftp)
    : m_session(session), m_socket(socket), m_sftp(std::move(sftp)) {}

Result<RemoteStat> Sftp::stat(std::string_view path) {
    const std::string p(path);
    LIBSSH2_SFTP_ATTRIBUTES attrs{};
    const int rc = libssh2_sftp_stat_ex(m_sftp.get(), p.c_str(), path_length(p), LIBSSH2_SFTP_STAT, &attrs);
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && is_missing(libssh2_sftp_last_error(m_sftp.get()))) return RemoteStat{};
    if (rc != 0)
        return std::unexpected(sftp_error(m_session, m_socket, m_sftp.get(), rc,
                                          fmt::format("cannot stat {} on the NAS", p), ExitCode::io_error,
                                          ExitCode::no_input));
    RemoteStat st;
    st.exists = true;
    if ((attrs.flags & LIBSSH2_SFTP_ATTR_SIZE) != 0) st.size = attrs.filesize;
    if ((attrs.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) != 0) {
        st.permissions = static_cast<std::uint32_t>(attrs.permissions);
        st.is_directory = LIBSSH2_SFTP_S_ISDIR(attrs.permissions);
        st.is_regular = LIBSSH2_SFTP_S_ISREG(attrs.permissions);
    }
    if ((attrs.flags & LIBSSH2_SFTP_ATTR_ACMODTIME) != 0)
        st.mtime = std::chrono::sys_seconds(std::chrono::seconds(static_cast<std::int64_t>(attrs.mtime)));
    return st;
}

Result<void> Sftp::mkdir_p(std::string_view path, int mode) {
    const std::string target(path);
    if (target.empty()) return fail(ExitCode::cant_create, "cannot create a remote folder with an empty name");
    const auto not_a_folder = [&](const std::string& p) {
        return fail(ExitCode::cant_create,
                    fmt::format("cannot create folder {} on the NAS: {} exists and is not a folder", target, p));
    };
    auto whole = stat(target);
    if (!whole) return std::unexpected(whole.error());
    if (whole->exists) return whole->is_directory ? Result<void>{} : not_a_folder(target);

    std::string prefix = target.front() == '/' ? "/" : "";
    std::size_t pos = 0;
    while (pos < target.size()) {
        const std::size_t end = std::min(target.find('/', pos), target.size());
        const std::string_view part = std::string_view(target).substr(pos, end - pos);
        pos = end + 1;
        if (part.empty() || part == ".") continue;
        if (!prefix.empty() && prefix.back() != '/') prefix.push_back('/');
        prefix.append(part);

        auto st = stat(prefix);
        if (!st) return std::unexpected(st.error());
        if (st->exists) {
            if (!st->is_directory) return not_a_folder(prefix);
            continue;
        }
        const int rc = libssh2_sftp_mkdir_ex(m_sftp.get(), prefix.c_str(), path_length(prefix), mode);
        if (rc == 0) continue;
        Error failure =
            sftp_error(m_session, m_socket, m_sftp.get(), rc, fmt::format("cannot create folder {} on the NAS", prefix),
                       ExitCode::cant_create, ExitCode::cant_create);
        // Another client may have created it meanwhile.
        auto again = (failure.code == ExitCode::unavailable) ? Result<RemoteStat>{} : stat(prefix);
        if (again && again->exists && again->is_directory) continue;
        return std::unexpected(std::move(failure));
    }
    return {};
}

Result<void> Sftp::rename(std::string_view from, std::string_view to) {
    const std::string src(from);
    const std::string dst(to);
    const auto attempt = [&] {
        return libssh2_sftp_rename_ex(
            m_sftp.get(), src.c_str(), path_length(src), dst.c_str(), path_length(dst),
            LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE);
    };
    const std::string what = fmt::format("cannot rename {} to {} on the NAS", src, dst);
    int rc = attempt();
    if (rc == 0) return {};
    Error failure = sftp_error(m_session, m_socket, m_sftp.get(), rc, what, ExitCode::cant_create, ExitCode::no_input);
    if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL) return std::unexpected(std::move(failure));
    const unsigned long status = libssh2_sftp_last_error(m_sftp.get());
    if (status != LIBSSH2_FX_FAILURE && status != LIBSSH2_FX_FILE_ALREADY_EXISTS && status != LIBSSH2_FX_OP_UNSUPPORTED)
        return std::unexpected(std::move(failure));

    // SFTP v3 (OpenSSH) never replaces an existing file: remove it, then retry.
    auto target = stat(dst);
    if (!target) return std::unexpected(target.error());
    if (!target->exists || target->is_directory) return std::unexpected(std::move(failure));
    if (auto removed = remove(dst); !removed) return removed;
    rc = attempt();
    if (rc != 0)
        return std::unexpected(
            sftp_error(m_session, m_socket, m_sftp.get(), rc, what, ExitCode::cant_create, ExitCode::no_input));
    return {};
}

Result<void> Sftp::remove(std::string_view path) {
    const std::string p(path);
    if (const int rc = libssh2_sftp_unlink_ex(m_sftp.get(), p.c_str(), path_length(p)); rc != 0)
        return std::unexpected(sftp_error(m_session, m_socket, m_sftp.get(), rc,
                                          fmt::format("cannot remove {} on the NAS", p), ExitCode::io_error,
                                          ExitCode::no_input));
    return {};
}

Result<void> Sftp::set_mtime(std::string_view path, std::chrono::sys_seconds mtime) {
    const std::string p(path);
    const std::int64_t seconds = mtime.time_since_epoch().count();
    // SFTP v3 carries times as unsigned 32-bit seconds.
    if (seconds < 0 || seconds > std::int64_t{std::numeric_limits<std::uint32_t>::max()})
        return fail(ExitCode::data_error,
                    fmt::format("cannot set the mtime of {} on the NAS: {} is outside SFTP's time range", p, seconds));
    LIBSSH2_SFTP_ATTRIBUTES attrs{};
    attrs.flags = LIBSSH2_SFTP_ATTR_ACMODTIME;
    attrs.atime = static_cast<unsigned long>(seconds);
    attrs.mtime = static_cast<unsigned long>(seconds);
    if (const int rc = libssh2_sftp_stat_ex(m_sftp.get(), p.c_str(), path_length(p), LIBSSH2_SFTP_SETSTAT, &attrs);
        rc != 0)
        return std::unexpected(sftp_error(m_session, m_socket, m_sftp.get(), rc,
                                          fmt::format("cannot set the mtime of {} on the NAS", p), ExitCode::io_error,
                                          ExitCode::no_input));
    return {};
}

Result<RemoteFsStat> Sftp::statvfs(std::string_view path) {
    const std::string p(path);
    LIBSSH2_SFTP_STATVFS st{};
    if (const int rc = libssh2_sftp_statvfs(m_sftp.get(), p.c_str(), p.size(), &st); rc != 0)
        return std::unexpected(
            sftp_error(m_session, m_socket, m_sftp.get(), rc,
                       fmt::format("cannot read the free space of {} on the NAS (statvfs@openssh.com)", p),
                       ExitCode::io_error, ExitCode::no_input));
    const std::uint64_t block = st.f_frsize != 0 ? st.f_frsize : st.f_bsize;
    RemoteFsStat out;
    out.total_bytes = st.f_blocks * block;
    out.free_bytes = st.f_bfree * block;
    out.available_bytes = st.f_bavail * block;
    out.total_inodes = st.f_files;
    out.free_inodes = st.f_ffree;
    out.available_inodes = st.f_favail;
    return out;
}

Result<SftpFile> Sftp::open(std::string_view path, unsigned long flags, int mode, std::string_view what,
                            ExitCode code) {
    const std::string p(path);
    LIBSSH2_SFTP_HANDLE* handle =
        libssh2_sftp_open_ex(m_sftp.get(), p.c_str(), path_length(p), flags, mode, LIBSSH2_SFTP_OPENFILE);
    if (handle == nullptr)
        return std::unexpected(sftp_error(m_session, m_socket, m_sftp.get(), last_errno(m_session),
                                          fmt::format("cannot open {} for {} on the NAS", p, what), code,
                                          (flags & LIBSSH2_FXF_READ) != 0 ? ExitCode::no_input : code));
    return SftpFile(m_session, m_socket, m_sftp.get(), handle, p, 0);
}

Result<SftpFile> Sftp::open_for_write(std::string_view path, int mode) {
    return open(path, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, mode, "writing",
                ExitCode::cant_create);
}

Result<SftpFile> Sftp::open_for_resume(std::string_view path, std::uint64_t offset, int mode) {
    auto file = open(path, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT, mode, "resuming", ExitCode::cant_create);
    if (!file) return file;
    LIBSSH2_SFTP_ATTRIBUTES attrs{};
    if (const int rc = libssh2_sftp_fstat_ex(file->m_handle.get(), &attrs, 0); rc != 0)
        return std::unexpected(sftp_error(m_session, m_socket, m_sftp.get(), rc,
                                          fmt::format("cannot stat {} on the NAS to resume it", path),
                                          ExitCode::io_error, ExitCode::io_error));
    const std::uint64_t size = (attrs.flags & LIBSSH2_SFTP_ATTR_SIZE) != 0 ? attrs.filesize : 0;
    if (size < offset)
        return fail(ExitCode::data_error,
                    fmt::format("cannot resume {} on the NAS at byte {}: it holds only {} bytes", path, offset, size));
    if (size > offset) {
        // Bytes past the resume point are from an attempt we cannot trust.
        LIBSSH2_SFTP_ATTRIBUTES truncate{};
        truncate.flags = LIBSSH2_SFTP_ATTR_SIZE;
        truncate.filesize = offset;
        if (const int rc = libssh2_sftp_fstat_ex(file->m_handle.get(), &truncate, 1); rc != 0)
            return std::unexpected(
                sftp_error(m_session, m_socket, m_sftp.get(), rc,
                           fmt::format("cannot truncate {} on the NAS to {} bytes to resume it", path, offset),
                           ExitCode::io_error, ExitCode::io_error));
    }
    libssh2_sftp_seek64(file->m_handle.get(), offset);
    file->m_offset = offset;
    return file;
}

Result<SftpFile> Sftp::open_for_read(std::string_view path, std::uint64_t offset) {
    auto file = open(path, LIBSSH2_FXF_READ, 0, "reading", ExitCode::io_error);
    if (!file) return file;
    if (offset > 0) {
        libssh2_sftp_seek64(file->m_handle.get(), offset);
        file->m_offset = offset;
    }
    return file;
}

}  // namespace nasops
