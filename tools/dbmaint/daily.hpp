#pragma once

// `daily`: the handbook's nightly round in one command: check, purge, vacuum
// (when the free pages passed the threshold), analyze, checkpoint, backup and
// retention, stopping at the first step that fails, with its exit code.

#include "nasops/util/clock.hpp"
#include "options.hpp"
#include "step.hpp"

namespace nasops::dbmaint {

// One maint record per step (json), or one summary line (text). A step's
// WARNING lets the round go on; the exit code is then the worst status.
Result<ExitCode> run_daily(Reporter& reporter, const Settings& settings, SystemTimePoint now);

// backup, then retention: the second only once the first is verified.
Result<ExitCode> backup_and_prune(Reporter& reporter, const Settings& settings, SystemTimePoint now);

}  // namespace nasops::dbmaint
