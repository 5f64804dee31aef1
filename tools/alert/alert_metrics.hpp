#pragma once

// What nasops-alert writes for node_exporter's textfile collector after an
// evaluation or a flush (nasops_alert.prom; every family is in
// nasops-metrics(7)): the alerts firing by severity and the outbox.

#include <string>

#include "alert/state_store.hpp"
#include "nasops/core/error.hpp"

namespace nasops::alert {

// The exposition of `alerts` (the state after the run) and of `store`'s outbox.
Result<std::string> alert_metrics(const AlertMap& alerts, AlertStore& store);

}  // namespace nasops::alert
