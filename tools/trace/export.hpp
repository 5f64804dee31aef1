#pragma once

// nasops-trace export: the spans of traces.jsonl sent to an OTLP/HTTP
// collector in batches, never dropped and never sent twice.
//
// How far the export got is a position in the file (its device and inode,
// the SHA-256 of its first line, and the offset after the last span the
// collector accepted), kept in the database and moved only once a batch is
// accepted. A collector that is down keeps the position where it is, so the
// next run sends the same spans again; a batch the collector refuses as
// malformed (400) is reported and passed over, never retried forever.
// A file rotated between runs is found among its rotations (file.1,
// file.2.gz, ...) by its first line, whether it was renamed (logrotate's
// create), copied and truncated (copytruncate) or compressed since (a
// collector down for longer than the rotation interval); the rest of it is
// sent, then every newer rotation, then the new file.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "nasops/db/store.hpp"
#include "nasops/net/http.hpp"
#include "nasops/util/sha256.hpp"
#include "otlp.hpp"
#include "stop_signals.hpp"

namespace nasops::trace {

// The database tables of nasops-trace.
std::span<const Migration> migrations();

// Where the export stands in one traces file.
struct ExportPosition {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t offset = 0;  // just after the last line sent (or skipped)
    std::string head;          // SHA-256 of the file's first line; empty for an empty file
};

Result<std::optional<ExportPosition>> load_position(SQLite::Database& db, const std::filesystem::path& file);
Result<void> save_position(SQLite::Database& db, const std::filesystem::path& file, const ExportPosition& position);

// What the export has not sent yet of `file` as it is now: the lines (spans)
// and bytes past the stored position, or all of the file when the position
// is in a file rotated since (the rest of that one is not counted).
struct ExportBacklog {
    std::uint64_t spans = 0;
    std::uint64_t bytes = 0;
};
Result<ExportBacklog> export_backlog(SQLite::Database& db, const std::filesystem::path& file);

struct ExportLimits {
    std::size_t batch_spans = 512;
    std::size_t batch_bytes = std::size_t{1} << 20;  // of OTLP JSON, before compression
    int max_attempts = 5;                            // per batch, in one run
    Duration initial_backoff{1'000};
    Duration max_backoff{30'000};  // a longer Retry-After ends the run: the next one goes on
};

struct ExportReport {
    std::uint64_t spans_sent = 0;
    std::uint64_t batches_sent = 0;
    std::uint64_t spans_rejected = 0;  // in batches the collector refused (400)
    std::uint64_t batches_rejected = 0;
    std::uint64_t lines_skipped = 0;  // not span records
    std::uint64_t retries = 0;
    std::optional<Error> stopped;  // why the run ended before the end of the file
};

// Waits between attempts; false when the wait was cut short because the run
// must stop (the batch then stays for the next run).
using RetryWait = std::function<bool(Duration)>;

// Sends what `file` (and its rotation, see above) holds past the stored
// position, and stores the new position after each accepted batch. Waits
// through `wait` between attempts; hashes first lines through `crypto`. An
// Error is a failure of the export itself (the database); a collector that
// cannot take the spans is a report with `stopped` set.
Result<ExportReport> export_spans(const std::filesystem::path& file, Store& store, HttpClient& client,
                                  const Sha256Api& crypto, const OtlpSettings& otlp, const ExportLimits& limits,
                                  const RetryWait& wait, const Clock& clock);

struct FollowSettings {
    Duration flush_interval{5'000};    // the longest a complete line waits to be sent
    Duration poll_interval{200};       // how often the file is looked at
    std::function<void()> after_pass;  // called after each pass, whatever it sent (the textfile's metrics)
};

// export --follow: export_spans, then again whenever the file has grown by a
// batch's worth of bytes (ExportLimits::batch_bytes), was rotated, or has
// held unsent lines for flush_interval; a collector that cannot take the
// spans is tried again after max_backoff. follow.after_pass runs after each
// pass, the last one included. When `stop` fires it makes a last
// pass (which does not wait for a collector that is down) and returns the
// totals of every pass; `stopped` tells whether spans were left unsent.
Result<ExportReport> follow_spans(const std::filesystem::path& file, Store& store, HttpClient& client,
                                  const Sha256Api& crypto, const OtlpSettings& otlp, const ExportLimits& limits,
                                  const FollowSettings& follow, StopSignals& stop, const Clock& clock);

// The delay a Retry-After header asks for (delta-seconds or an HTTP-date),
// nullopt when absent or unreadable.
std::optional<Duration> retry_after(const HttpResponse& response, SystemTimePoint now);

}  // namespace nasops::trace
