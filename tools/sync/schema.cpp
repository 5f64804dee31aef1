#include "schema.hpp"

namespace nasops::sync {

namespace {

// Timestamps are RFC 3339 UTC text with milliseconds (rfc3339_millis): fixed
// width, so that text comparison orders them in time.
constexpr std::string_view k_v1 = R"sql(
CREATE TABLE media_files (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    rel_path TEXT NOT NULL,
    size INTEGER,
    mtime_ns INTEGER,
    inode INTEGER,
    state TEXT NOT NULL CHECK (state IN ('pending', 'transferring', 'completed', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sha256 TEXT,
    discovered_at TEXT,
    stable_since TEXT,
    started_at TEXT,
    completed_at TEXT,
    bytes_sent INTEGER,
    seconds REAL,
    next_attempt_at TEXT,
    UNIQUE (source, rel_path)
);
CREATE INDEX media_files_state ON media_files (state, next_attempt_at);
CREATE INDEX media_files_rel_path ON media_files (rel_path);
CREATE INDEX media_files_completed_at ON media_files (completed_at);
CREATE TABLE sync_attempts (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES media_files (id) ON DELETE CASCADE,
    finished_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('completed', 'failed')),
    bytes INTEGER NOT NULL DEFAULT 0,
    seconds REAL NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX sync_attempts_finished_at ON sync_attempts (finished_at);
CREATE INDEX sync_attempts_file_id ON sync_attempts (file_id);
)sql";

// What nasops-dbmaint may purge (purge_declarations, store.hpp): completed
// uploads only, never a pending, transferring or failed file.
constexpr std::string_view k_v2 = R"sql(
INSERT OR REPLACE INTO purge_declarations (table_name, component, time_column, keep_condition, default_retention)
VALUES ('media_files', 'sync', 'completed_at', 'state <> ''completed''', '30d');
)sql";

// --remove-source for files completed by earlier runs: how each completed
// copy was verified (NULL for rows completed before this version, which are
// never removed: their verify is unknown), and when its local file was
// removed, so that a removed file is not looked for again and one that comes
// back at the same path is a new file. The partial index keeps the rows still
// to remove few to read however many completed rows the table holds; its
// condition is Queue::removable's, word for word, so that SQLite uses it.
constexpr std::string_view k_v3 = R"sql(
ALTER TABLE media_files ADD COLUMN verified_by TEXT;
ALTER TABLE media_files ADD COLUMN removed_at TEXT;
CREATE INDEX media_files_removable ON media_files (source, id)
    WHERE state = 'completed' AND removed_at IS NULL AND verified_by IN ('sha256', 'size');
)sql";

// Adoption after a lost database: a file registered by a run that found the
// database new is looked for on the target before it is sent, and taken as
// completed when the target has it already (worker.cpp). The mark stays on
// the row until then, so that a run stopped half-way leaves the rest to the next.
constexpr std::string_view k_v4 = R"sql(
ALTER TABLE media_files ADD COLUMN adopt INTEGER NOT NULL DEFAULT 0;
)sql";

// The NAS host keys each run verified at connect (common/db/host_keys): one
// row per distinct key of an endpoint, the key it replaced, and when a change
// was acknowledged (nasops-sync hostkey --accept), for nasops-health's
// security check. Rows are few (one per key ever seen): never purged.
constexpr std::string_view k_v5 = R"sql(
CREATE TABLE nas_host_keys (
    id INTEGER PRIMARY KEY,
    endpoint TEXT NOT NULL,
    key_type TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    previous_id INTEGER REFERENCES nas_host_keys (id),
    acknowledged_at TEXT,
    UNIQUE (endpoint, key_type, fingerprint)
);
)sql";

// The queue is taken in id order, state by state (Queue::eligible). An index
// on (state, next_attempt_at) holds a state's rows in retry-time order, so
// each fetch of the next rows read every pending row and sorted them: a
// backlog of n files cost n^2/256 row reads. An index on state alone holds
// them in id order (SQLite appends the rowid to every index): each fetch
// reads only the rows it returns.
constexpr std::string_view k_v6 = R"sql(
DROP INDEX media_files_state;
CREATE INDEX media_files_state ON media_files (state);
)sql";

// Why a copy was verified by size only (--verify size, or what the NAS
// answered when asked to run sha256sum), so that an operator whose NAS
// silently dropped to size verification sees why in ls and why.
constexpr std::string_view k_v7 = R"sql(
ALTER TABLE media_files ADD COLUMN verify_reason TEXT;
)sql";

constexpr Migration k_migrations[] = {
    {"sync", 1, k_v1}, {"sync", 2, k_v2}, {"sync", 3, k_v3}, {"sync", 4, k_v4},
    {"sync", 5, k_v5}, {"sync", 6, k_v6}, {"sync", 7, k_v7},
};

}  // namespace

std::span<const Migration> migrations() {
    return k_migrations;
}

}  // namespace nasops::sync
