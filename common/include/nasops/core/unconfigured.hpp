#pragma once

// A fresh install sets up nothing: its nasops.toml names no media source.
// Such a tool has no work, which is not a failure: run from cron it exits 0
// without a word (cron would mail every word), and nasops-health says it once
// per run as a WARNING, where monitoring sees it.

#include <optional>
#include <string>

#include "nasops/core/config.hpp"

namespace nasops {

// Why nasops-sync has nothing to upload as configured ("nasops-sync is not
// configured: ..."), or nothing when [sync] names its sources.
std::optional<std::string> sync_not_configured(const Config& config);

}  // namespace nasops
