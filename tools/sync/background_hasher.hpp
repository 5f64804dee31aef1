#pragma once

// SHA-256 of a stream of chunks, computed on a thread of its own, in order,
// so that the thread uploading a large file only reads and sends: on a NAS
// link as fast as the CPU, hashing in line would slow the upload by the
// hash's own time. A chunk handed to update() must stay unchanged until the
// next update() or hex_digest() returns: two buffers used in turn suffice.

#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "nasops/util/sha256.hpp"

namespace nasops::sync {

class BackgroundHasher {
public:
    BackgroundHasher();
    ~BackgroundHasher();
    BackgroundHasher(const BackgroundHasher&) = delete;
    BackgroundHasher& operator=(const BackgroundHasher&) = delete;

    // Waits until the chunk before is hashed, then starts on this one.
    void update(std::string_view chunk);
    // Waits until every chunk is hashed; the digest of them all, as Sha256::hex_digest.
    std::string hex_digest();

private:
    void wait_idle(std::unique_lock<std::mutex>& lock);
    void run();

    Sha256 m_hash;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::string_view m_chunk;
    bool m_busy = false;
    bool m_stop = false;
    std::thread m_thread;  // last: started once the rest is ready
};

}  // namespace nasops::sync
