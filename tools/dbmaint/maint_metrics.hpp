#pragma once

// What nasops-dbmaint writes for node_exporter's textfile collector after
// `check` and `daily`, the commands that check the database
// (nasops_dbmaint.prom; every family is in nasops-metrics(7)).

#include <string>

#include "nasops/core/error.hpp"
#include "nasops/util/clock.hpp"
#include "options.hpp"

namespace nasops::dbmaint {

// The exposition after a check whose outcome was `check_status`, at `now`:
// the database's size, the backups in the backup folder, the check.
Result<std::string> maint_metrics(const Settings& settings, ExitCode check_status, SystemTimePoint now);

}  // namespace nasops::dbmaint
