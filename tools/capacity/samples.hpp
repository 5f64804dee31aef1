#pragma once

// The usage samples in SQLite (table capacity_samples of <state>/nasops.db),
// and their downsampling: every sample for a day, then the last of each hour
// for 30 days, then the last of each day until the retention; older ones go.

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
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

// nasops-sync's queue at one time, from read_transfer_queue (nasops/db/transfer_stats.hpp):
// the files (and their bytes) still to upload (pending or transferring) and
// those uploaded.
struct MediaCounts {
    std::int64_t ts = 0;
    std::uint64_t pending_files = 0;
    std::uint64_t pending_bytes = 0;
    std::uint64_t completed_files = 0;
    std::uint64_t completed_bytes = 0;
};

// nasops-sync's queue in `db` now (stamped `ts`); nullopt when the database
// has no nasops-sync tables.
Result<std::optional<MediaCounts>> read_media_counts(SQLite::Database& db, std::int64_t ts);

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
    // add (and the media counts, when there are some), then downsample, in one
    // transaction (one commit, one fsync): what every record run does. Media
    // counts older than the retention go; the others are kept as taken.
    Result<Pruned> add_and_downsample(std::span<const TargetSample> samples, const std::optional<MediaCounts>& media,
                                      std::int64_t now, Duration retention);
    // The media counts recorded at or after `since`, oldest first.
    Result<std::vector<MediaCounts>> media(std::int64_t since = 0);
    // The targets with samples, sorted.
    Result<std::vector<std::string>> targets();
    // The samples of `target` at or after `since`, oldest first.
    Result<std::vector<Sample>> samples(const std::string& target, std::int64_t since = 0);

private:
    SQLite::Database* m_db;
};

}  // namespace nasops::capacity
