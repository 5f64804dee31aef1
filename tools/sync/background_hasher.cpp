#include "background_hasher.hpp"

namespace nasops::sync {

BackgroundHasher::BackgroundHasher() : m_thread([this] { run(); }) {}

BackgroundHasher::~BackgroundHasher() {
    {
        std::unique_lock lock(m_mutex);
        wait_idle(lock);
        m_stop = true;
    }
    m_changed.notify_all();
    m_thread.join();
}

void BackgroundHasher::wait_idle(std::unique_lock<std::mutex>& lock) {
    m_changed.wait(lock, [this] { return !m_busy; });
}

void BackgroundHasher::update(std::string_view chunk) {
    {
        std::unique_lock lock(m_mutex);
        wait_idle(lock);
        m_chunk = chunk;
        m_busy = true;
    }
    m_changed.notify_all();
}

std::string BackgroundHasher::hex_digest() {
    std::unique_lock lock(m_mutex);
    wait_idle(lock);
    return m_hash.hex_digest();
}

void BackgroundHasher::run() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_changed.wait(lock, [this] { return m_busy || m_stop; });
        if (m_busy) {
            const auto chunk = m_chunk;
            lock.unlock();
            m_hash.update(chunk);
            lock.lock();
            m_busy = false;
            m_changed.notify_all();
            continue;
        }
        return;
    }
}

}  // namespace nasops::sync
