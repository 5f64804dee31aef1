#include "nasops/ssh/sftp.hpp"

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

// An Error for a failed SFTP call: "<what>: <why>". A missing file gets
// `missing_code`, a lost connection ExitCode::unavailable, anything else `code`.
Error sftp_error(LIBSSH2_SESSION* session, int socket, LIBSSH2_SFTP* sftp, int rc, std::string_view what, ExitCode code,
                 ExitCode missing_code) {
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
        const unsigned long status = libssh2_sftp_last_error(sftp);
        ExitCode exit = code;
        if (ssh_detail::sftp_is_missing(status))
            exit = missing_code;
        else if (status == LIBSSH2_FX_NO_CONNECTION || status == LIBSSH2_FX_CONNECTION_LOST) {
            ssh_detail::abandon(session, socket);
            exit = ExitCode::unavailable;
        }
        return Error{fmt::format("{}: {} (SFTP status {})", what, ssh_detail::sftp_status_text(status), status), exit};
    }
    return ssh_detail::session_error(session, socket, rc, what, code);
}

}  // namespace

// ---- Sftp -------------------------------------------------------------------

Sftp::Sftp(LIBSSH2_SESSION* session, int socket, Libssh2Ptr<LIBSSH2_SFTP> sftp)
    : m_session(session), m_socket(socket), m_sftp(std::move(sftp)) {}

Result<RemoteStat> Sftp::stat(std::string_view path) {
    const std::string p(path);
    LIBSSH2_SFTP_ATTRIBUTES attrs{};
    const int rc = libssh2_sftp_stat_ex(m_sftp.get(), p.c_str(), path_length(p), LIBSSH2_SFTP_STAT, &attrs);
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && ssh_detail::sftp_is_missing(libssh2_sftp_last_error(m_sftp.get())))
        return RemoteStat{};
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
    TRY_ASSIGN(auto whole, stat(target));
    if (whole.exists) {
        if (whole.is_directory) return {};
        return fail(ExitCode::cant_create,
                    fmt::format("cannot create folder {} on the NAS: it exists and is not a folder", target));
    }
    // The folder is made first and its parents only when it cannot be: a new
    // folder in one that exists (a run's usual case) costs two round trips,
    // not one per path component.
    const auto make = [&] { return libssh2_sftp_mkdir_ex(m_sftp.get(), target.c_str(), path_length(target), mode); };
    int rc = make();
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && ssh_detail::sftp_is_missing(libssh2_sftp_last_error(m_sftp.get()))) {
        const auto slash = target.find_last_of('/');
        if (slash != std::string::npos && slash > 0) {
            TRY(mkdir_p(std::string_view(target).substr(0, slash), mode));
            rc = make();
        }
    }
    if (rc == 0) return {};
    Error failure =
        sftp_error(m_session, m_socket, m_sftp.get(), rc, fmt::format("cannot create folder {} on the NAS", target),
                   ExitCode::cant_create, ExitCode::cant_create);
    // Another client may have created it meanwhile.
    auto again = (failure.code == ExitCode::unavailable) ? Result<RemoteStat>{} : stat(target);
    if (again && again->exists && again->is_directory) return {};
    return std::unexpected(std::move(failure));
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
    TRY_ASSIGN(auto target, stat(dst));
    if (!target.exists || target.is_directory) return std::unexpected(std::move(failure));
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

Result<FsStat> Sftp::statvfs(std::string_view path) {
    const std::string p(path);
    LIBSSH2_SFTP_STATVFS st{};
    if (const int rc = libssh2_sftp_statvfs(m_sftp.get(), p.c_str(), p.size(), &st); rc != 0)
        return std::unexpected(
            sftp_error(m_session, m_socket, m_sftp.get(), rc,
                       fmt::format("cannot read the free space of {} on the NAS (statvfs@openssh.com)", p),
                       ExitCode::io_error, ExitCode::no_input));
    return fs_stat_of(st);
}

}  // namespace nasops
