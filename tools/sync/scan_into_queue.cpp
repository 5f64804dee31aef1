#include "scan_into_queue.hpp"

#include "nasops/core/log.hpp"

namespace nasops::sync {

Result<ScanCounts> scan_into_queue(const RunOptions& options, Queue& queue, Reporter& reporter,
                                   const std::function<void()>& found_work) {
    ScanCounts counts;
    LogBatch log(logger());  // a line per new file: written a few hundred at a time
    constexpr std::uint64_t k_lines_per_write = 256;
    for (const auto& source : options.sources) {
        const std::string src = source.string();
        TRY(queue.begin_scan(options.adopt));
        std::optional<Error> db_failure;
        auto stats = scan_source(source, options.filter, [&](const ScannedFile& file) -> Result<void> {
            auto registered = queue.register_file(src, file);
            if (!registered) {
                db_failure = registered.error();
                return std::unexpected(registered.error());
            }
            switch (*registered) {
                case Registered::unchanged: break;
                case Registered::added:
                case Registered::changed: {
                    const bool added = *registered == Registered::added;
                    (added ? counts.added : counts.changed) += 1;
                    if (queue.stable_now(file.version)) found_work();
                    const auto path = (source / file.rel_path).string();
                    log.audit(AuditEvent::file_discovered,
                              {{"path", path}, {"size", file.version.size}, {"changed", !added}});
                    if ((counts.added + counts.changed) % k_lines_per_write == 0) log.flush();
                    FileRow row;
                    row.source = src;
                    row.rel_path = file.rel_path;
                    reporter.transfer(row, FileState::pending,
                                      {{"reason", added ? "discovered" : "changed"}, {"bytes", file.version.size}});
                    break;
                }
                case Registered::conflict:
                    ++counts.conflicts;
                    log.warning("not queueing {}: another source already has a file at {} on the target",
                                (source / file.rel_path).string(), file.rel_path);
                    break;
            }
            return {};
        });
        TRY(queue.end_scan());
        if (db_failure) return std::unexpected(*db_failure);
        if (!stats) {
            log.error("{}", stats.error().message);
            ++counts.errors;
            continue;
        }
        counts.scanned += stats->files;
        counts.errors += stats->errors;
        log.debug("scanned {}: {} files, {} folders, {} excluded, {} links skipped, {} unreadable", src, stats->files,
                  stats->folders, stats->excluded, stats->symlinks, stats->errors);
    }
    return counts;
}

}  // namespace nasops::sync
