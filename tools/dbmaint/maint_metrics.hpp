#pragma once

// What nasops-dbmaint writes for node_exporter's textfile collector after
// `check`, `backup` and `daily`, the commands that check the database or
// change its backups (nasops_dbmaint.prom; every family is in
// nasops-metrics(7)).

#include <optional>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"
#include "nasops/util/clock.hpp"
#include "options.hpp"

namespace nasops::dbmaint {

// An integrity check's outcome and when it ran (written to the millisecond).
struct CheckOutcome {
    ExitCode status = ExitCode::ok;
    SystemTimePoint at;
};

// The exposition: the database's size, the backups in the backup folder
// and, when there is one, the last check.
Result<std::string> maint_metrics(const Settings& settings, const std::optional<CheckOutcome>& check);

// The check an earlier maint_metrics exposition (the textfile as it is)
// reported, so that a run that does not check (backup) keeps it; nullopt
// when the text holds none.
std::optional<CheckOutcome> published_check(std::string_view exposition);

}  // namespace nasops::dbmaint
