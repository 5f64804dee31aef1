#include "backup.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <future>
#include <thread>

#include "check.hpp"
#include "database.hpp"
#include "nasops/core/paths.hpp"
#include "nasops/util/sha256.hpp"
#include "nasops/util/unique_fd.hpp"
#include "nasops/util/units.hpp"
#include "sidecar.hpp"
#include "stream_copy.hpp"

namespace nasops::dbmaint {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_prefix = "nasops-";
constexpr std::string_view k_suffix = ".db";
constexpr std::string_view k_gzip_suffix = ".gz";
// Every temporary name in a backup folder: "." + a backup's name + ... + ".tmp".
constexpr std::string_view k_temp_prefix = ".nasops-";
constexpr std::string_view k_temp_suffix = ".tmp";

// An sqlite3 connection of the C API, closed on scope exit.
class Connection {
public:
    Connection() = default;
    ~Connection() {
        if (m_db != nullptr) sqlite3_close_v2(m_db);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    sqlite3** out() { return &m_db; }
    sqlite3* get() const { return m_db; }
    std::string message() const { return m_db != nullptr ? sqlite3_errmsg(m_db) : "out of memory"; }
    int code() const { return m_db != nullptr ? sqlite3_errcode(m_db) : SQLITE_NOMEM; }
    // Closes now, reporting a failure to close (unfinished statements).
    bool close() {
        const int rc = sqlite3_close(m_db);
        if (rc == SQLITE_OK) m_db = nullptr;
        return rc == SQLITE_OK;
    }

private:
    sqlite3* m_db = nullptr;
};

// One sqlite3_backup, finished on scope exit.
class BackupRun {
public:
    BackupRun(sqlite3* dest, sqlite3* source) : m_backup(sqlite3_backup_init(dest, "main", source, "main")) {}
    ~BackupRun() { finish(); }
    BackupRun(const BackupRun&) = delete;
    BackupRun& operator=(const BackupRun&) = delete;
    bool started() const { return m_backup != nullptr; }
    int step(int pages) { return sqlite3_backup_step(m_backup, pages); }
    int finish() {
        const int rc = m_backup != nullptr ? sqlite3_backup_finish(m_backup) : SQLITE_OK;
        m_backup = nullptr;
        return rc;
    }

private:
    sqlite3_backup* m_backup = nullptr;
};

ExitCode code_of(int sqlite_code) {
    switch (sqlite_code & 0xff) {
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT: return ExitCode::data_error;
        case SQLITE_FULL:
        case SQLITE_IOERR: return ExitCode::io_error;
        case SQLITE_BUSY:
        case SQLITE_LOCKED: return ExitCode::temp_failure;
        case SQLITE_CANTOPEN: return ExitCode::cant_create;
        default: return ExitCode::software;
    }
}

Result<void> copy_into(const fs::path& source, const fs::path& dest, std::chrono::milliseconds patience) {
    Connection src;
    if (sqlite3_open_v2(source.c_str(), src.out(), SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
        return fail(ExitCode::no_input, fmt::format("cannot open database {}: {}", source.string(), src.message()));
    sqlite3_busy_timeout(src.get(), 5000);
    // The source's pages read from a mapping, not with one read(2) each: a
    // third less CPU for the copy. (Writers go on; a WAL database file is
    // never truncated under a reader's snapshot.)
    sqlite3_exec(src.get(), fmt::format("PRAGMA mmap_size = {}", k_mmap_bytes).c_str(), nullptr, nullptr, nullptr);
    Connection dst;
    if (sqlite3_open_v2(dest.c_str(), dst.out(), SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
        return fail(ExitCode::cant_create, fmt::format("cannot open {}: {}", dest.string(), dst.message()));
    // The copy is fsync'd once, whole, when asked: no sync per write here.
    sqlite3_exec(dst.get(), "PRAGMA synchronous = OFF", nullptr, nullptr, nullptr);
    {
        BackupRun backup(dst.get(), src.get());
        if (!backup.started())
            return fail(code_of(dst.code()),
                        fmt::format("cannot start a backup of {}: {}", source.string(), dst.message()));
        // All pages in one step: one read transaction, so the copy is one
        // consistent snapshot, and a writer (WAL) is never blocked by it nor
        // restarts it. BUSY or LOCKED (a writer switching journal modes, an
        // exclusive lock) leaves the backup able to go on: wait and step again.
        const auto deadline = std::chrono::steady_clock::now() + patience;
        for (;;) {
            const int rc = backup.step(-1);
            if (rc == SQLITE_DONE) break;
            if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_OK) &&
                std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                continue;
            }
            const int code = backup.finish();
            return fail(code_of(code != SQLITE_OK ? code : rc),
                        fmt::format("backup of {} to {}: {}", source.string(), dest.string(),
                                    sqlite3_errstr(code != SQLITE_OK ? code : rc)));
        }
        if (const int rc = backup.finish(); rc != SQLITE_OK)
            return fail(code_of(rc),
                        fmt::format("backup of {} to {}: {}", source.string(), dest.string(), dst.message()));
    }
    // A copy of a WAL database is a WAL database: make it one file that needs
    // no -wal or -shm beside it, so that its SHA-256 says everything.
    char* message = nullptr;
    if (sqlite3_exec(dst.get(), "PRAGMA journal_mode = DELETE", nullptr, nullptr, &message) != SQLITE_OK) {
        std::string text = message != nullptr ? message : dst.message();
        sqlite3_free(message);
        return fail(code_of(dst.code()), fmt::format("{}: {}", dest.string(), text));
    }
    if (!dst.close()) return fail(ExitCode::io_error, fmt::format("cannot close {}: {}", dest.string(), dst.message()));
    return {};
}

void remove_quietly(const fs::path& path) {
    std::error_code ec;
    fs::remove(path, ec);
}

// True for a scratch_path name whose process still runs (a verify reading a
// .db.gz beside us): its file is in use, not left behind.
bool scratch_in_use(std::string_view name) {
    name.remove_suffix(k_temp_suffix.size());
    const auto dot = name.rfind('.');
    if (dot == std::string_view::npos) return false;
    pid_t pid = 0;
    const auto digits = name.substr(dot + 1);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (error != std::errc{} || end != digits.data() + digits.size() || pid <= 0) return false;
    return ::kill(pid, 0) == 0 || errno == EPERM;
}

// Temporary files a killed backup or verify left behind, and SQLite's
// journal, WAL and shared-memory files of one (a copy of a WAL database can
// open its own -wal before it is switched to journal_mode DELETE): never a
// backup, never worth keeping.
void remove_leftovers(const fs::path& dir) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const auto file = entry.path().filename().string();
        std::string_view name = file;
        if (!name.starts_with(k_temp_prefix)) continue;
        for (const std::string_view companion : {"-journal", "-wal", "-shm"}) {
            if (name.ends_with(companion)) {
                name.remove_suffix(companion.size());
                break;
            }
        }
        if (name.ends_with(k_temp_suffix) && !scratch_in_use(name)) remove_quietly(entry.path());
    }
}

fs::path temp_path(const fs::path& final_path) {
    return final_path.parent_path() / fmt::format(".{}{}", final_path.filename().string(), k_temp_suffix);
}

// The copy `copy` made ready for its final name: itself, or compressed into a
// new temporary file; with the SHA-256 of what will be renamed.
struct Sealed {
    fs::path path;
    std::string sha256;
};

Result<Sealed> seal(const fs::path& copy, const fs::path& final_path, Compression compression) {
    if (compression == Compression::none) {
        TRY(sync_file(copy));
        // The copy is hashed on a second thread while this one quick_checks
        // it: two reads of one file (from the page cache) in the time of the
        // longer, where they would add up one after the other.
        auto hashing = std::async(std::launch::async, [&copy] { return sha256_file(copy); });
        auto checked = check_pages(copy, copy.string(), CheckDepth::quick, Reading::mapped);
        TRY_ASSIGN(auto hex, hashing.get());
        if (!checked) return fail(ExitCode::io_error, "the backup does not verify: " + checked.error().message);
        return Sealed{copy, std::move(hex)};
    }
    auto packed = temp_path(final_path);
    TRY_ASSIGN(auto streamed, stream_copy(copy, packed, Transform::gzip, Hash::output, Durability::fsync));
    return Sealed{std::move(packed), std::move(streamed.sha256)};
}

// The sidecar reads back the digest that was hashed. A plain copy was
// quick_checked before its rename; a compressed one is checked now, in a
// pass that decompresses what was written (hashing it again) into a
// temporary file beside it.
Result<void> check_written(const fs::path& file, const std::string& hex) {
    TRY_ASSIGN(const auto recorded, read_sidecar(file));
    if (recorded != hex)
        return fail(ExitCode::io_error,
                    fmt::format("{}: the sidecar reads back {}, not {}", file.string(), recorded, hex));
    if (is_gzip_backup(file)) TRY(verify_backup_file(file, CheckDepth::quick));
    return {};
}

}  // namespace

std::string backup_file_name(SystemTimePoint t, Compression compression) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    return fmt::format("{}{:%Y%m%dT%H%M%S}Z{}{}", k_prefix, tm, k_suffix,
                       compression == Compression::gzip ? k_gzip_suffix : "");
}

bool is_gzip_backup(const fs::path& backup) {
    return backup.filename().string().ends_with(k_gzip_suffix);
}

fs::path scratch_path(const fs::path& backup) {
    return backup.parent_path() / fmt::format(".{}.{}{}", backup.filename().string(), ::getpid(), k_temp_suffix);
}

std::optional<SystemTimePoint> parse_backup_file_name(std::string_view name) {
    // nasops-YYYYmmddTHHMMSSZ.db or nasops-YYYYmmddTHHMMSSZ.db.gz
    if (name.ends_with(k_gzip_suffix)) name.remove_suffix(k_gzip_suffix.size());
    if (!name.starts_with(k_prefix) || !name.ends_with(k_suffix)) return std::nullopt;
    name.remove_prefix(k_prefix.size());
    name.remove_suffix(k_suffix.size());
    if (name.size() != 16 || name[8] != 'T' || name[15] != 'Z') return std::nullopt;
    const auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (name[i] < '0' || name[i] > '9') return std::nullopt;
            v = v * 10 + (name[i] - '0');
        }
        return v;
    };
    const auto y = digits(0, 4), mo = digits(4, 2), d = digits(6, 2), h = digits(9, 2), mi = digits(11, 2),
               s = digits(13, 2);
    if (!y || !mo || !d || !h || !mi || !s || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 ||
        *s > 59)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = *y - 1900;
    tm.tm_mon = *mo - 1;
    tm.tm_mday = *d;
    tm.tm_hour = *h;
    tm.tm_min = *mi;
    tm.tm_sec = *s;
    return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

Result<void> online_copy(const fs::path& source, const fs::path& dest, Durability durability,
                         std::chrono::milliseconds patience) {
    std::error_code ec;
    if (!fs::exists(source, ec)) return fail(ExitCode::no_input, fmt::format("no database at {}", source.string()));
    {
        // Created here, empty (an empty file is an empty database), so that
        // the copy is never readable by others, whatever the umask.
        UniqueFd fd(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!fd)
            return fail(ExitCode::cant_create,
                        fmt::format("cannot create {}: {}", dest.string(), std::strerror(errno)));
    }
    auto copied = copy_into(source, dest, patience);
    if (copied && durability == Durability::fsync) copied = sync_file(dest);
    if (!copied) {
        remove_quietly(dest);
        remove_quietly(fs::path(dest.string() + "-journal"));
    }
    return copied;
}

Result<StepReport> backup_database(const fs::path& database, const fs::path& backup_dir, SystemTimePoint now,
                                   Compression compression, bool dry_run) {
    StepTimer timer;
    std::error_code ec;
    if (!fs::exists(database, ec))
        return fail(ExitCode::no_input, fmt::format("no database at {} to back up", database.string()));
    const auto final_path = backup_dir / backup_file_name(now, compression);
    StepReport report{.step = "backup",
                      .bytes_before = file_bytes(database) + file_bytes(wal_path(database)),
                      .path = final_path.string()};
    if (dry_run) {
        report.message = fmt::format("would back up {} ({}) to {}", database.string(),
                                     format_size(*report.bytes_before), final_path.string());
        report.duration_ms = timer.elapsed_ms();
        return report;
    }
    TRY(ensure_dir(backup_dir));
    remove_leftovers(backup_dir);
    for (auto kind : {Compression::none, Compression::gzip})
        if (const auto taken = backup_dir / backup_file_name(now, kind); fs::exists(taken, ec))
            return fail(ExitCode::cant_create, fmt::format("{} exists already: one backup per second", taken.string()));
    // The copy, and for gzip its compressed form, live under temporary names
    // until one rename gives the finished file its name.
    RemovedAtExit copy(temp_path(backup_dir / backup_file_name(now)));
    // Not fsync'd here: a plain copy is in seal, a copy to compress never
    // needs to be (the compressed file is).
    TRY(online_copy(database, copy.path(), Durability::none));
    TRY_ASSIGN(const auto sealed, seal(copy.path(), final_path, compression));
    RemovedAtExit unnamed(sealed.path);
    fs::rename(sealed.path, final_path, ec);
    if (ec)
        return fail(ExitCode::cant_create,
                    fmt::format("cannot rename {} to {}: {}", sealed.path.string(), final_path.string(), ec.message()));
    const auto drop = [&](Error error) -> Result<StepReport> {
        remove_quietly(final_path);
        remove_quietly(sidecar_path(final_path));
        return std::unexpected(std::move(error));
    };
    if (auto synced = sync_dir(backup_dir); !synced) return drop(synced.error());
    if (auto written = write_sidecar(final_path, sealed.sha256); !written) return drop(written.error());
    // Read back what is now on disk: the sidecar, and the copy's structure.
    if (auto checked = check_written(final_path, sealed.sha256); !checked)
        return drop(Error{"the backup does not verify: " + checked.error().message, ExitCode::io_error});
    report.bytes_after = file_bytes(final_path);
    report.details = {{"sha256", sealed.sha256}, {"sidecar", sidecar_path(final_path).string()}};
    if (compression == Compression::gzip) report.details["compression"] = "gzip";
    report.message = fmt::format("{} ({}), SHA-256 {}", final_path.string(), format_size(*report.bytes_after),
                                 sealed.sha256.substr(0, 12));
    report.duration_ms = timer.elapsed_ms();
    return report;
}

}  // namespace nasops::dbmaint
