#include "plan.hpp"

#include "nasops/core/log.hpp"
#include "source_removal.hpp"

namespace nasops::sync {

Result<DryRunSummary> plan_sync(const RunOptions& options, Queue* queue, const QueuePolicy& policy, const Clock& clock,
                                const std::function<void(const PlannedFile&)>& visit) {
    DryRunSummary summary;
    const Eligibility eligible(clock.now(), policy.min_age);
    if (options.remove_source == RemoveSource::yes && queue != nullptr) {
        SourceFiles files;
        TRY(for_each_removable_page(options, *queue, [&](std::span<const FileRow> page) -> Result<void> {
            for (const auto& row : page) {
                if (!removable(row) || !files.check_removable(row.source, row.rel_path, row.version)) continue;
                ++summary.would_remove;
                visit(PlannedFile{row.source, row.rel_path, row.version.size, PlannedFile::Action::remove, true,
                                  row.verified_by.value_or("")});
            }
            return {};
        }));
    }
    for (const auto& source : options.sources) {
        const std::string src = source.string();
        auto stats = scan_source(source, options.filter, [&](const ScannedFile& file) -> Result<void> {
            std::optional<FileRow> row;
            if (queue != nullptr) {
                TRY_ASSIGN(auto found, queue->find(src, file.rel_path));
                row = std::move(found);
            }
            PlannedFile plan{src, file.rel_path, file.version.size, PlannedFile::Action::upload, row.has_value()};
            if (!row || row->version != file.version) {
                ++summary.would_queue;
                plan.action =
                    eligible.stable(file.version) ? PlannedFile::Action::upload : PlannedFile::Action::queue_new;
            } else if (row->state == FileState::transferring) {
                plan.action = PlannedFile::Action::upload;  // a crashed run's file: recovered first
            } else if (row->state == FileState::pending) {
                plan.action = eligible(*row) ? PlannedFile::Action::upload : PlannedFile::Action::wait;
            } else {
                return {};  // completed or failed, unchanged: nothing to do
            }
            if (plan.action == PlannedFile::Action::upload) {
                ++summary.would_upload;
                summary.upload_bytes += plan.size;
            } else {
                ++summary.would_wait;
            }
            visit(plan);
            return {};
        });
        if (!stats) {
            if (stats.error().code != ExitCode::no_input) return std::unexpected(stats.error());
            logger().error("{}", stats.error().message);
            ++summary.source_errors;
            continue;
        }
        summary.source_errors += stats->errors;
    }
    return summary;
}

}  // namespace nasops::sync
