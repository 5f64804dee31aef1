#pragma once

// What nasops-sync writes for node_exporter's textfile collector after each
// run (nasops_sync.prom; every family is in nasops-metrics(7)). The counters
// are the totals of the database, not of the run, so that they only grow from
// one run to the next (a purge of old attempts by nasops-dbmaint is a counter
// reset, which rate() and increase() take in their stride).

#include <SQLiteCpp/Database.h>

#include <string>

#include "engine.hpp"
#include "nasops/core/error.hpp"
#include "nasops/util/clock.hpp"

namespace nasops::sync {

// The exposition after `run`, which ended at `now`, read from `db`.
Result<std::string> run_metrics(SQLite::Database& db, const RunSummary& run, SystemTimePoint now);

}  // namespace nasops::sync
