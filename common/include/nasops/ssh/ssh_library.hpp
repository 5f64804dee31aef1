#pragma once

// Ownership of libssh2's process-wide state and of its handles. Every nasops
// object that talks to libssh2 holds a Libssh2Library, so the library stays
// initialised while any of them lives, and its handles in Libssh2Ptr.

#include <libssh2.h>
#include <libssh2_sftp.h>

#include <memory>

namespace nasops {

// One reference to libssh2's global state (libssh2_init / libssh2_exit).
// libssh2 counts references itself but not thread-safely, so construction and
// destruction are serialised here. Copies and moves take another reference.
// Throws Fatal when libssh2_init fails (its crypto back end cannot start).
class Libssh2Library {
public:
    Libssh2Library();
    Libssh2Library(const Libssh2Library& other);
    Libssh2Library& operator=(const Libssh2Library& other);
    ~Libssh2Library();
};

// Frees a libssh2 handle, waiting on the network at most the session's
// timeout. When a connection fails, the ssh modules shut its socket down, so
// that freeing the handles of a dead session fails fast instead of waiting.
struct Libssh2Deleter {
    void operator()(LIBSSH2_SESSION* session) const noexcept;
    void operator()(LIBSSH2_KNOWNHOSTS* hosts) const noexcept;
    void operator()(LIBSSH2_AGENT* agent) const noexcept;
    void operator()(LIBSSH2_CHANNEL* channel) const noexcept;
    void operator()(LIBSSH2_SFTP* sftp) const noexcept;
    void operator()(LIBSSH2_SFTP_HANDLE* handle) const noexcept;
};

template <class T>
using Libssh2Ptr = std::unique_ptr<T, Libssh2Deleter>;

}  // namespace nasops
