#include "nasops/db/host_keys.hpp"

#include <SQLiteCpp/Statement.h>

#include "nasops/db/store.hpp"

namespace nasops {

namespace {

bool has_host_keys_table(SQLite::Database& db) {
    SQLite::Statement q(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'nas_host_keys'");
    return q.executeStep();
}

std::optional<std::string> opt_text(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getString();
}

// Each row with the key it replaced; `latest` is 1 on the row each endpoint showed last.
constexpr const char* k_select =
    "SELECT k.endpoint, k.key_type, k.fingerprint, k.first_seen, k.last_seen, p.key_type, p.fingerprint, "
    "k.acknowledged_at, k.id = (SELECT l.id FROM nas_host_keys l WHERE l.endpoint = k.endpoint "
    "ORDER BY l.last_seen DESC, l.id DESC LIMIT 1) AS latest, p.last_seen "
    "FROM nas_host_keys k LEFT JOIN nas_host_keys p ON p.id = k.previous_id ";

SeenHostKey seen_of(SQLite::Statement& q) {
    SeenHostKey s;
    s.key = {q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString()};
    s.first_seen = q.getColumn(3).getString();
    s.last_seen = q.getColumn(4).getString();
    if (!q.getColumn(5).isNull()) {
        s.replaced = HostKey{s.key.endpoint, q.getColumn(5).getString(), q.getColumn(6).getString()};
        s.replaced_last_seen = q.getColumn(9).getString();
    }
    s.acknowledged_at = opt_text(q.getColumn(7));
    s.latest = q.getColumn(8).getInt() != 0;
    return s;
}

Result<std::vector<SeenHostKey>> select_keys(SQLite::Database& db, std::string_view doing) {
    return db_guard(db, doing, [&]() -> Result<std::vector<SeenHostKey>> {
        std::vector<SeenHostKey> out;
        if (!has_host_keys_table(db)) return out;
        SQLite::Statement q(db, std::string(k_select) + "ORDER BY k.endpoint, latest, k.last_seen, k.id");
        while (q.executeStep()) out.push_back(seen_of(q));
        return out;
    });
}

}  // namespace

Result<bool> record_host_key(SQLite::Database& db, const HostKey& key, SystemTimePoint now, OpenTransaction open) {
    const auto when = rfc3339_millis(now);
    const auto record = [&]() -> Result<bool> {
        SQLite::Statement last(db,
                               "SELECT id, key_type, fingerprint FROM nas_host_keys WHERE endpoint = ? "
                               "ORDER BY last_seen DESC, id DESC LIMIT 1");
        last.bind(1, key.endpoint);
        std::optional<std::int64_t> previous;
        if (last.executeStep()) {
            if (last.getColumn(1).getString() == key.type && last.getColumn(2).getString() == key.fingerprint) {
                SQLite::Statement seen(db, "UPDATE nas_host_keys SET last_seen = ? WHERE id = ?");
                seen.bind(1, when);
                seen.bind(2, last.getColumn(0).getInt64());
                seen.exec();
                return false;
            }
            previous = last.getColumn(0).getInt64();
        }
        // A new key, or one seen before another (a key that came back): a
        // change from the key seen last, unacknowledged again.
        SQLite::Statement upsert(
            db,
            "INSERT INTO nas_host_keys (endpoint, key_type, fingerprint, first_seen, last_seen, previous_id) "
            "VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (endpoint, key_type, fingerprint) DO UPDATE SET "
            "last_seen = excluded.last_seen, previous_id = excluded.previous_id, acknowledged_at = NULL");
        upsert.bind(1, key.endpoint);
        upsert.bind(2, key.type);
        upsert.bind(3, key.fingerprint);
        upsert.bind(4, when);
        if (previous) upsert.bind(5, *previous);
        upsert.exec();
        return previous.has_value();
    };
    return db_guard(db, "recording the NAS host key", [&]() -> Result<bool> {
        return open == OpenTransaction::yes ? record() : in_transaction(db, record);
    });
}

Result<std::vector<SeenHostKey>> read_host_keys(SQLite::Database& db) {
    return select_keys(db, "reading the NAS host keys");
}

Result<std::vector<SeenHostKey>> unacknowledged_host_key_changes(SQLite::Database& db) {
    TRY_ASSIGN(auto keys, select_keys(db, "reading the NAS host key changes"));
    std::erase_if(keys, [](const SeenHostKey& k) { return !k.unacknowledged_change(); });
    return keys;
}

Result<std::vector<SeenHostKey>> acknowledge_host_key_changes(SQLite::Database& db, SystemTimePoint now) {
    return db_guard(db, "acknowledging the NAS host key changes", [&]() -> Result<std::vector<SeenHostKey>> {
        return in_transaction(db, [&]() -> Result<std::vector<SeenHostKey>> {
            TRY_ASSIGN(auto changes, unacknowledged_host_key_changes(db));
            SQLite::Statement ack(db,
                                  "UPDATE nas_host_keys SET acknowledged_at = ? WHERE endpoint = ? AND key_type = ? "
                                  "AND fingerprint = ?");
            for (const auto& c : changes) {
                ack.bind(1, rfc3339_millis(now));
                ack.bind(2, c.key.endpoint);
                ack.bind(3, c.key.type);
                ack.bind(4, c.key.fingerprint);
                ack.exec();
                ack.reset();
            }
            return changes;
        });
    });
}

}  // namespace nasops
