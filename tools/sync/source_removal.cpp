#include "source_removal.hpp"

#include <vector>

#include "engine.hpp"

namespace nasops::sync {

namespace {

constexpr std::size_t k_page = 1000;

}  // namespace

bool removable(const FileRow& row) noexcept {
    return row.state == FileState::completed && !row.removed_at &&
           (row.verified_by == "sha256" || row.verified_by == "size");
}

Result<std::uint64_t> remove_local_copies(std::span<const FileRow> rows, SourceFiles& files, Queue& queue,
                                          LogBatch& log) {
    std::vector<std::int64_t> gone;
    for (const auto& row : rows) {
        if (!removable(row)) continue;
        const auto path = local_path(row);
        auto unlinked = files.remove(row.source, row.rel_path, row.version);
        if (unlinked) {
            gone.push_back(row.id);
            log.info("removed {} (its copy on the NAS is verified by {})", path, *row.verified_by);
            log.audit(AuditEvent::file_removed,
                      {{"path", path}, {"sha256", row.sha256.value_or("")}, {"verified_by", *row.verified_by}});
        } else if (unlinked.error().code == ExitCode::no_input) {
            // Not there: removed by someone else, or its source is not
            // mounted. It is not marked removed, so that a file that comes
            // back with its source is known again, not a new file to upload.
            log.debug("{}", unlinked.error().message);
        } else {
            log.warning("{}", unlinked.error().message);
        }
    }
    TRY(queue.mark_removed(gone));
    return gone.size();
}

Result<void> for_each_removable_page(const RunOptions& options, Queue& queue,
                                     const std::function<Result<void>(std::span<const FileRow>)>& visit) {
    for (const auto& source : options.sources) {
        std::int64_t after = 0;
        for (;;) {
            TRY_ASSIGN(auto page, queue.removable(source.string(), after, k_page));
            if (page.empty()) break;
            after = page.back().id;
            std::erase_if(page, [&](const FileRow& row) { return !options.filter.takes_file(row.rel_path); });
            TRY(visit(page));
        }
    }
    return {};
}

Result<std::uint64_t> remove_completed_sources(const RunOptions& options, Queue& queue) {
    LogBatch log(logger());
    SourceFiles files;
    std::uint64_t removed = 0;
    TRY(for_each_removable_page(options, queue, [&](std::span<const FileRow> page) -> Result<void> {
        TRY_ASSIGN(const auto n, remove_local_copies(page, files, queue, log));
        removed += n;
        log.flush();
        return {};
    }));
    return removed;
}

}  // namespace nasops::sync
