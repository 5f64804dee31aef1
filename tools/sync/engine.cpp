#include "engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "empty_folders.hpp"
#include "nasops/core/log.hpp"
#include "nasops/core/output.hpp"
#include "nasops/obs/trace.hpp"
#include "run_state.hpp"
#include "scan_into_queue.hpp"
#include "source_removal.hpp"
#include "worker.hpp"

namespace nasops::sync {

namespace {

// The first connection to the target, made on a thread of its own while the
// scan goes on, once there is something to upload: the handshake then costs
// no time of its own. A run with nothing to upload connects to nothing.
class FirstConnection {
public:
    explicit FirstConnection(const TargetFactory& make_target) : m_make_target(make_target) {}
    FirstConnection(const FirstConnection&) = delete;
    FirstConnection& operator=(const FirstConnection&) = delete;
    // Waits for a connection begun and not taken, and closes it.
    ~FirstConnection() = default;

    void start() {
        if (!m_connecting.valid()) m_connecting = std::async(std::launch::async, m_make_target);
    }
    // The connection begun, or one made now.
    Result<std::unique_ptr<Target>> take() { return m_connecting.valid() ? m_connecting.get() : m_make_target(); }

private:
    const TargetFactory& m_make_target;
    std::future<Result<std::unique_ptr<Target>>> m_connecting;
};

}  // namespace

TargetFactory traced_connect(const TargetFactory& make_target, const Span* run_span) {
    if (run_span == nullptr || !run_span->active()) return make_target;
    return [&make_target, run_span]() -> Result<std::unique_ptr<Target>> {
        Span span(*run_span, "sync connect", SpanKind::client);
        auto target = make_target();
        if (target)
            span.set_attribute("sync.target", (*target)->describe());
        else
            span.set_error(target.error().message);
        return target;
    };
}

namespace {

// The scan in a `sync scan` span under the run's.
Result<ScanCounts> traced_scan(const RunOptions& options, Queue& queue, Reporter& reporter,
                               const std::function<void()>& found_work, const Span* run_span) {
    auto span = child_span(run_span, "sync scan");
    auto scanned = scan_into_queue(options, queue, reporter, found_work);
    if (!span) return scanned;
    if (!scanned) {
        span->set_error(scanned.error().message);
        return scanned;
    }
    span->set_attribute("sync.sources", options.sources.size());
    span->set_attribute("sync.scanned", scanned->scanned);
    span->set_attribute("sync.added", scanned->added);
    span->set_attribute("sync.changed", scanned->changed);
    span->set_attribute("sync.source_errors", scanned->errors);
    if (scanned->errors > 0) span->set_error(fmt::format("{} sources or entries could not be read", scanned->errors));
    return scanned;
}

// --delete-empty-src-dirs, after the uploads: the folders of every source left empty.
Result<std::uint64_t> remove_empty_source_folders(const RunOptions& options, Queue& queue, SystemTimePoint run_started,
                                                  SystemTimePoint now) {
    std::uint64_t removed = 0;
    for (const auto& source : options.sources) {
        TRY_ASSIGN(const auto files, queue.removed_since(source.string(), run_started));
        std::set<std::string> emptied;
        for (const auto& rel_path : files) emptied.emplace(parent_of(rel_path));
        const EmptyFolderRules rules{
            .filter = options.filter, .changed_after = now - options.min_age, .emptied = emptied};
        removed += remove_empty_folders(source, rules).removed;
    }
    return removed;
}

}  // namespace

ExitCode RunSummary::exit_code() const noexcept {
    if (interrupted) return ExitCode::interrupted;
    if (target_unavailable) return ExitCode::unavailable;
    if (held_no_space > 0) return ExitCode::cant_create;
    if (failed_attempts > 0) return ExitCode::io_error;
    if (source_errors > 0) return ExitCode::no_input;
    return ExitCode::ok;
}

Result<RunSummary> run_sync(const RunOptions& options, Queue& queue, const Clock& clock,
                            const TargetFactory& make_target, const RunOutputs& outputs) {
    const auto started = Steady::now();
    const auto run_started = clock.now();
    RunState run(options, queue, clock, outputs);

    TRY_ASSIGN(auto recovered, queue.recover_interrupted());
    if (recovered > 0) logger().info("{} transfers were interrupted by an earlier run; they will resume", recovered);
    run.summary.recovered = recovered;

    const auto connect = traced_connect(make_target, outputs.trace);
    FirstConnection connection(connect);
    TRY_ASSIGN(auto waiting_before, queue.count_eligible());
    if (waiting_before.files > 0) connection.start();
    TRY_ASSIGN(auto scanned, traced_scan(
                                 options, queue, run.reporter, [&] { connection.start(); }, outputs.trace));
    run.summary.scanned = scanned.scanned;
    run.summary.added = scanned.added;
    run.summary.changed = scanned.changed;
    run.summary.conflicts = scanned.conflicts;
    run.summary.source_errors = scanned.errors;
    // Files completed by earlier runs go first: they need no connection, and
    // free room on the local disk at once.
    if (options.remove_source == RemoveSource::yes) {
        TRY_ASSIGN(run.summary.removed, remove_completed_sources(options, queue));
    }

    TRY_ASSIGN(auto backlog, queue.count_eligible());
    // The first connection is made alone: a refused host key or login fails
    // once, and an accepted new host key is recorded once, not by every worker.
    std::unique_ptr<Target> first;
    if (backlog.files > 0) {
        auto target = connection.take();
        if (!target) {
            if (!run.target_lost(target.error())) return std::unexpected(target.error());
        } else {
            first = std::move(*target);
        }
    }
    if (first) {
        const int jobs = static_cast<int>(std::min<std::uint64_t>(std::max(options.jobs, 1), backlog.files));
        std::vector<std::thread> threads;
        std::atomic<int> running{jobs};
        std::mutex done_mutex;
        std::condition_variable done;
        for (int i = 0; i < jobs; ++i) {
            threads.emplace_back([&, target = i == 0 ? std::move(first) : nullptr]() mutable {
                run_worker(run, connect, std::move(target));
                {
                    std::lock_guard lock(done_mutex);
                    --running;
                }
                done.notify_all();
            });
        }
        ProgressLine progress(stderr, outputs.progress);
        {
            std::unique_lock lock(done_mutex);
            while (running.load() > 0) {
                done.wait_for(lock, std::chrono::milliseconds(100));
                progress.update(run.files_done.load(), backlog.files, run.bytes_done.load(), backlog.bytes);
            }
        }
        progress.clear();
        for (auto& t : threads) t.join();
    }
    if (auto fatal = run.fatal_error()) return std::unexpected(*fatal);
    std::uint64_t folders_removed = 0;
    if (options.delete_empty_src_dirs == DeleteEmptySrcDirs::yes && !run.interrupted()) {
        TRY_ASSIGN(folders_removed, remove_empty_source_folders(options, queue, run_started, clock.now()));
    }

    TRY_ASSIGN(auto waiting, queue.count_waiting());
    TRY_ASSIGN(auto left, queue.count_eligible());
    RunSummary summary = run.summary;
    summary.waiting = waiting;
    summary.left_pending = left.files;
    summary.bytes_sent = run.bytes_sent.load();
    summary.folders_removed = folders_removed;
    summary.seconds = seconds_since(started);
    return summary;
}

}  // namespace nasops::sync
