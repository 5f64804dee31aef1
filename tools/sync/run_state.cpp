#include "run_state.hpp"

#include <thread>

#include "nasops/core/log.hpp"

namespace nasops::sync {

namespace {

constexpr std::size_t k_rows_per_fetch = 256;  // rows taken from the queue at a time

}  // namespace

double seconds_since(Steady::time_point start) {
    return std::chrono::duration<double>(Steady::now() - start).count();
}

RateLimiter::RateLimiter(RateTimetable timetable, const Clock& clock)
    : m_timetable(std::move(timetable)), m_clock(clock) {}

void RateLimiter::follow_timetable(SystemTimePoint now) {
    const auto minute = std::chrono::floor<std::chrono::minutes>(now);
    if (m_minute == minute) return;
    const auto rate = m_timetable.at(local_minute_of_week(now));
    if (!m_minute || rate != m_rate) {
        logger().info("bandwidth limit {}{}", format_rate_limit(rate), m_timetable.constant() ? "" : " (timetable)");
        m_rate = rate;
        m_started = false;  // the new rate counts from now
        m_total = 0;
    }
    m_minute = minute;
}

RateLimit RateLimiter::rate_in_force() {
    std::lock_guard lock(m_mutex);
    follow_timetable(m_clock.now());
    return m_rate;
}

void RateLimiter::consume(std::size_t bytes) {
    Steady::time_point due;
    {
        std::lock_guard lock(m_mutex);
        follow_timetable(m_clock.now());
        if (!m_rate) return;
        if (!m_started) {
            m_start = Steady::now();
            m_started = true;
        }
        m_total += static_cast<double>(bytes);
        due = m_start + std::chrono::duration_cast<Steady::duration>(
                            std::chrono::duration<double>(m_total / static_cast<double>(*m_rate)));
    }
    std::this_thread::sleep_until(due);
}

void Reporter::transfer(const FileRow& row, FileState state, nlohmann::json fields) {
    if (m_records == nullptr) return;
    nlohmann::json record{{"path", local_path(row)}, {"rel_path", row.rel_path}, {"state", state_name(state)}};
    for (auto& [key, value] : fields.items()) record[key] = std::move(value);
    std::lock_guard lock(m_mutex);
    if (auto written = m_records->write(RecordKind::transfer, record); !written && !m_write_failed) {
        m_write_failed = true;
        logger().error("{}", written.error().message);
    }
}

bool FoldersMade::contains(const std::string& folder) const {
    std::lock_guard lock(m_mutex);
    return m_folders.contains(folder);
}

void FoldersMade::insert(std::string folder) {
    std::lock_guard lock(m_mutex);
    m_folders.insert(std::move(folder));
}

RunState::RunState(const RunOptions& run_options, Queue& run_queue, const Clock& run_clock,
                   const RunOutputs& run_outputs)
    : options(run_options), queue(run_queue), clock(run_clock), outputs(run_outputs), reporter(run_outputs.records) {
    if (options.bwlimit) {
        limiter.emplace(*options.bwlimit, clock);
        static_cast<void>(limiter->rate_in_force());  // logs the rate the run starts with
    }
    if (options.max_duration) deadline = clock.now() + *options.max_duration;
}

Result<std::optional<FileRow>> RunState::next() {
    std::lock_guard lock(m_mutex);
    if (m_buffer.empty() && !m_exhausted) {
        TRY_ASSIGN(auto rows, queue.eligible(m_last_id, k_rows_per_fetch));
        if (rows.size() < k_rows_per_fetch) m_exhausted = true;
        for (auto& r : rows) {
            m_last_id = r.id;
            m_buffer.push_back(std::move(r));
        }
    }
    if (m_buffer.empty()) return std::nullopt;
    FileRow row = std::move(m_buffer.front());
    m_buffer.pop_front();
    return row;
}

bool RunState::stopped_by_interrupt() {
    if (!interrupted()) return false;
    std::lock_guard lock(m_mutex);
    summary.interrupted = true;
    stop = true;
    return true;
}

bool RunState::stopped_by_deadline() {
    if (!deadline || clock.now() < *deadline) return false;
    halt("max-duration");
    return true;
}

bool RunState::may_start() {
    if (stop.load() || stopped_by_interrupt() || stopped_by_deadline()) return false;
    if (options.max_bytes && bytes_sent.load() + bytes_batched.load() >= *options.max_bytes) {
        halt("max-bytes");
        return false;
    }
    return true;
}

bool RunState::must_abandon() {
    return stopped_by_interrupt() || stopped_by_deadline();
}

void RunState::halt(std::string_view why) {
    std::lock_guard lock(m_mutex);
    if (!summary.stopped_by) {
        summary.stopped_by = std::string(why);
        logger().info("stopping: {} reached", why);
    }
    stop = true;
}

bool RunState::target_lost(const Error& error) {
    if (error.code != ExitCode::unavailable) return false;
    std::lock_guard lock(m_mutex);
    if (!summary.target_unavailable) {
        summary.target_unavailable = true;
        summary.unavailable_error = error.message;
        logger().error("{}", error.message);
    }
    return true;
}

void RunState::fatal(Error error) {
    std::lock_guard lock(m_mutex);
    if (!m_fatal) m_fatal = std::move(error);
    stop = true;
}

std::optional<Error> RunState::fatal_error() {
    std::lock_guard lock(m_mutex);
    return m_fatal;
}

}  // namespace nasops::sync
