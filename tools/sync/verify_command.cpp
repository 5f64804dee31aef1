#include "verify_command.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "copy_check.hpp"
#include "nasops/core/log.hpp"
#include "scanner.hpp"

namespace nasops::sync {

Result<VerifySummary> verify_completed(Queue& queue, Target& target, Verify verify, DryRun dry_run, std::size_t batch) {
    VerifySummary summary;
    std::int64_t after = 0;
    bool can_hash = verify != Verify::size && verify != Verify::none;
    for (;;) {
        TRY_ASSIGN(auto rows, queue.rows(FileState::completed, after, std::max<std::size_t>(batch, 1)));
        if (rows.empty()) break;
        after = rows.back().id;

        std::vector<std::optional<VerifyProblem>> found(rows.size());
        std::vector<bool> hashed(rows.size(), false);
        // The verdict on the copy of rows[i] that `evidence` gives, kept when it is bad.
        const auto judge = [&](std::size_t i, const CopyEvidence& evidence) {
            const auto& row = rows[i];
            auto problem =
                check_copy(evidence, target.location(row.rel_path), row.version.size, row.sha256.value_or(""));
            if (problem) found[i] = VerifyProblem{row, std::move(problem->what), std::move(problem->detail)};
            return !problem;
        };
        std::vector<std::string> names;
        names.reserve(rows.size());
        for (const auto& row : rows) names.push_back(row.rel_path);
        auto stats = target.stat(names);
        std::vector<std::size_t> to_hash;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            TRY_ASSIGN(auto st, std::move(stats[i]));
            if (judge(i, st) && can_hash && rows[i].sha256) to_hash.push_back(i);
        }
        if (!to_hash.empty()) {
            std::vector<std::string> paths;
            for (auto i : to_hash) paths.push_back(rows[i].rel_path);
            TRY_ASSIGN(auto pending, target.sha256(paths));
            TRY_ASSIGN(auto digests, pending.collect());
            if (!digests) {
                if (verify == Verify::sha256)
                    return fail(ExitCode::unavailable,
                                fmt::format("{} cannot compute SHA-256 (--verify sha256); use --verify auto or size",
                                            target.describe()));
                can_hash = false;
            } else {
                for (std::size_t k = 0; k < to_hash.size(); ++k) {
                    ++summary.hashed;
                    hashed[to_hash[k]] = true;
                    judge(to_hash[k], (*digests)[k]);
                }
            }
        }
        std::vector<std::int64_t> verified_now[2];  // by size, by sha256
        for (std::size_t i = 0; i < rows.size(); ++i) {
            ++summary.checked;
            if (!found[i]) {
                ++summary.ok;
                if (rows[i].verified_by.value_or("none") == "none") verified_now[hashed[i]].push_back(rows[i].id);
                continue;
            }
            auto& problem = *found[i];
            const auto& row = problem.row;
            struct stat st {};
            const auto path = local_path(row);
            const bool local_same =
                ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && file_version(st) == row.version;
            if (local_same && dry_run == DryRun::no) {
                TRY(queue.requeue(row.id, "verify: " + problem.detail));
                problem.requeued = true;
                logger().warning("{}: queued for upload again", problem.detail);
            } else if (!local_same) {
                logger().error("{}; the local file is gone or changed, so it cannot be uploaded again", problem.detail);
            }
            summary.problems.push_back(std::move(problem));
        }
        if (dry_run == DryRun::no) {
            // Not hashed with hashing on: the target could not, or the row has no SHA-256 to compare with.
            const auto reason = can_hash ? std::string("no SHA-256 of the local file was recorded to compare with")
                                         : size_only_reason(verify, target);
            TRY(queue.mark_verified(verified_now[0], "size", reason));
            TRY(queue.mark_verified(verified_now[1], "sha256"));
        }
    }
    return summary;
}

}  // namespace nasops::sync
