#pragma once

// The usage samples in SQLite (table capacity_samples of <state>/nasops.db),
// and their downsampling: every sample for a day, then the last of each hour
// for 30 days, then the last of each day until the retention; older ones go.

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "forecast.hpp"
#include "nasops/core/error.hpp"
#include "nasops/db/store.hpp"
#include "nasops/util/units.hpp"

namespace nasops::capacity {

// The capacity component's migration steps, for Store::open.
std::span<const Migration> migrations();

// One sample of one target. `target` names what was measured: a local mount
// point or folder ("/srv/media"), or "host:/path" for the NAS share (the names
// nasops-health's disk and nas_disk checks give, so imported and measured
// samples of one file system are one history).
struct TargetSample {
    std::string target;
    Sample sample;
};

struct Pruned {
    std::size_t to_hourly = 0;  // samples dropped because a later one covers their hour
    std::size_t to_daily = 0;   // ... their day
    std::size_t expired = 0;    // older than the retention
};

class SampleStore {
public:
    explicit SampleStore(SQLite::Database& db) : m_db(&db) {}

    // Stores the samples in one transaction; a sample for a target and time
    // already stored replaces it. Returns how many were stored.
    Result<std::size_t> add(std::span<const TargetSample> samples);
    // Downsamples as of `now` (Unix seconds), in one transaction.
    Result<Pruned> downsample(std::int64_t now, Duration retention);
    // add, then downsample, in one transaction (one commit, one fsync): what
    // every record run does.
    Result<Pruned> add_and_downsample(std::span<const TargetSample> samples, std::int64_t now, Duration retention);
    // The targets with samples, sorted.
    Result<std::vector<std::string>> targets();
    // The samples of `target` at or after `since`, oldest first.
    Result<std::vector<Sample>> samples(const std::string& target, std::int64_t since = 0);

private:
    SQLite::Database* m_db;
};

}  // namespace nasops::capacity
