#include "nasops/ssh/ssh_library.hpp"

#include <mutex>

#include "nasops/core/error.hpp"

namespace nasops {

namespace {

// libssh2_init/libssh2_exit update an unsynchronised counter; this lock is the
// only state shared between sessions, and it guards nothing of ours.
std::mutex& library_mutex() {
    static std::mutex mutex;
    return mutex;
}

void acquire() {
    const std::lock_guard lock(library_mutex());
    if (libssh2_init(0) != 0)
        throw Fatal{Error{"cannot initialise libssh2 (its crypto back end failed to start)", ExitCode::software}};
}

}  // namespace

Libssh2Library::Libssh2Library() {
    acquire();
}

Libssh2Library::Libssh2Library(const Libssh2Library& /*other*/) {
    acquire();
}

Libssh2Library& Libssh2Library::operator=(const Libssh2Library& /*other*/) {
    return *this;
}

Libssh2Library::~Libssh2Library() {
    const std::lock_guard lock(library_mutex());
    libssh2_exit();
}

void Libssh2Deleter::operator()(LIBSSH2_SESSION* session) const noexcept {
    libssh2_session_free(session);
}

void Libssh2Deleter::operator()(LIBSSH2_KNOWNHOSTS* hosts) const noexcept {
    libssh2_knownhost_free(hosts);
}

void Libssh2Deleter::operator()(LIBSSH2_AGENT* agent) const noexcept {
    libssh2_agent_disconnect(agent);
    libssh2_agent_free(agent);
}

void Libssh2Deleter::operator()(LIBSSH2_CHANNEL* channel) const noexcept {
    libssh2_channel_free(channel);
}

void Libssh2Deleter::operator()(LIBSSH2_SFTP* sftp) const noexcept {
    libssh2_sftp_shutdown(sftp);
}

void Libssh2Deleter::operator()(LIBSSH2_SFTP_HANDLE* handle) const noexcept {
    libssh2_sftp_close_handle(handle);
}

}  // namespace nasops
