#pragma once

// `vacuum`: rebuild the file when its free pages pass the threshold (or when
// forced), or write a compact copy with VACUUM INTO.

#include <filesystem>
#include <optional>

#include "options.hpp"
#include "step.hpp"

namespace nasops::dbmaint {

struct VacuumRequest {
    double threshold = 0.2;  // of free pages over all pages
    Force force = Force::no;
    std::optional<std::filesystem::path> into;
    bool dry_run = false;
};

// Free bytes for an unprivileged writer on the file system of `dir`.
Result<std::uint64_t> free_bytes(const std::filesystem::path& dir);

// Refuses (ExitCode::cant_create) when the target's file system has less
// free space than the database's size, saying both. A copy INTO an existing
// file is refused too. The report says what was reclaimed, or why nothing was done.
Result<StepReport> vacuum_database(const std::filesystem::path& database, const VacuumRequest& request);

}  // namespace nasops::dbmaint
