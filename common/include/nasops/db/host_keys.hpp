#pragma once

// The NAS host keys nasops-sync verified when it connected, kept in the state
// database (nas_host_keys, declared by sync's migration 5) so that a key that
// changed between two runs is noticed afterwards, by nasops-health's security
// check, even though known_hosts was updated to let the run connect. Each
// distinct key of an endpoint is one row, first and last seen; a key seen
// after another one of the same endpoint notes the key it replaced, and stays
// a change until it is acknowledged (nasops-sync hostkey --accept). The first
// key of an endpoint is trusted as first seen, as known_hosts' accept-new is.

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/util/clock.hpp"

namespace nasops {

// A host key as verified at connect: "host:port", the key type
// ("ssh-ed25519") and its SHA256 fingerprint ("SHA256:...").
struct HostKey {
    std::string endpoint;
    std::string type;
    std::string fingerprint;

    bool operator==(const HostKey&) const = default;
    // "ssh-ed25519 SHA256:...", as messages show a key.
    std::string key_text() const { return type + " " + fingerprint; }
};

struct SeenHostKey {
    HostKey key;
    std::string first_seen;  // RFC 3339
    std::string last_seen;
    std::optional<HostKey> replaced;  // the key seen before it; nullopt for the endpoint's first key
    std::string replaced_last_seen;   // when that key was seen last
    std::optional<std::string> acknowledged_at;
    bool latest = false;  // the key its endpoint showed last

    // The endpoint's latest key replaced another, and no one acknowledged it.
    bool unacknowledged_change() const noexcept { return latest && replaced && !acknowledged_at; }
};

// Whether the caller has a transaction open on the connection already (then
// the writes join it) or each call is one of its own.
enum class OpenTransaction : bool { no, yes };

// Records that `key` was verified at `now`. Returns true when it differs from
// the key its endpoint showed last (a change, to be acknowledged).
Result<bool> record_host_key(SQLite::Database& db, const HostKey& key, SystemTimePoint now,
                             OpenTransaction open = OpenTransaction::no);

// Every key seen, by endpoint, each endpoint's latest last.
Result<std::vector<SeenHostKey>> read_host_keys(SQLite::Database& db);

// The key each endpoint showed last, where it replaced another and the change
// is not acknowledged. Empty where nasops-sync never recorded a key.
Result<std::vector<SeenHostKey>> unacknowledged_host_key_changes(SQLite::Database& db);

// Acknowledges every change unacknowledged_host_key_changes lists, read and
// acknowledged in one transaction; returns those changes.
Result<std::vector<SeenHostKey>> acknowledge_host_key_changes(SQLite::Database& db, SystemTimePoint now);

}  // namespace nasops
