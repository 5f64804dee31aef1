// restore: only a verified backup replaces the live database, under every
// tool's lock, with the old one kept aside.

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "dbmaint/backup.hpp"
#include "dbmaint/database.hpp"
#include "dbmaint/restore.hpp"
#include "fixtures/sample_db.hpp"
#include "fixtures/temp_dir.hpp"
#include "nasops/core/lock.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace nasops::dbmaint;
using namespace std::chrono_literals;
using nasops::testing::dump_query;
using nasops::testing::read_file;
using nasops::testing::TempDir;
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

const std::string k_dump = "SELECT rel_path || ' ' || state FROM media_files ORDER BY id";

class DbmaintRestore : public ::testing::Test {
protected:
    DbmaintRestore() {
        nasops::testing::make_database(db, sync::migrations(), {.completed_old = 10, .pending_old = 3}, now);
        backup = backup_database(db, dir / "backups", now, Compression::none, false).value().path;
        backed_up = dump_query(db, k_dump);
        // The live database moves on after the backup.
        SQLite::Database raw(db.string(), SQLite::OPEN_READWRITE);
        raw.exec("DELETE FROM media_files WHERE state = 'pending'");
        raw.exec("INSERT INTO media_files (source, rel_path, state) VALUES ('/s', 'after-backup', 'pending')");
    }
    RestoreRequest request() const {
        return RestoreRequest{.backup = backup, .database = db, .state_dir = dir.path(), .now = now};
    }
    TempDir dir{"nasops-dbmaint-restore"};
    fs::path db = dir / "nasops.db";
    fs::path backup;
    std::string backed_up;
    SystemTimePoint now = parse_rfc3339("2026-11-22T03:15:00Z").value();
};

}  // namespace

TEST_F(DbmaintRestore, TheBackupsRowsComeBackAndTheOldDatabaseIsKeptAside) {
    const auto live = dump_query(db, k_dump);
    ASSERT_EQ(::chmod(db.c_str(), 0640), 0);
    const auto r = restore_database(request()).value();
    EXPECT_EQ(dump_query(db, k_dump), backed_up);
    const fs::path aside = dir / "nasops.db.before-restore-20261122T031500Z";
    ASSERT_TRUE(fs::exists(aside));
    EXPECT_EQ(dump_query(aside, k_dump), live);
    EXPECT_EQ(r.details.at("tables").at("media_files").at("before").get<int>(), 11);
    EXPECT_EQ(r.details.at("tables").at("media_files").at("after").get<int>(), 13);
    EXPECT_FALSE(fs::exists(wal_path(db)));
    EXPECT_FALSE(fs::exists(dir / ".nasops.db.restore-tmp"));
    struct stat st {};
    ASSERT_EQ(::stat(db.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640U);  // as the database it replaced
    EXPECT_TRUE(contains(restore_table(r), "media_files")) << restore_table(r);
    // The tools open it as before.
    auto store = Store::open(db, sync::migrations());
    ASSERT_TRUE(store) << store.error().message;
}

TEST_F(DbmaintRestore, DryRunSaysWhatWouldChangeAndChangesNothing) {
    const auto before = read_file(db);
    const auto r = restore_database([&] {
                       auto q = request();
                       q.dry_run = true;
                       return q;
                   }())
                       .value();
    EXPECT_TRUE(contains(r.message, "would restore")) << r.message;
    EXPECT_EQ(r.details.at("tables").at("media_files").at("after").get<int>(), 13);
    EXPECT_EQ(read_file(db), before);
}

TEST_F(DbmaintRestore, ATamperedOrTruncatedBackupIsRefusedAndTheLiveDatabaseUntouched) {
    const auto live = dump_query(db, k_dump);
    const auto good = read_file(backup);
    auto tampered = good;
    tampered[4096 + 100] = static_cast<char>(tampered[4096 + 100] ^ 0x20);
    for (const auto& content : {tampered, good.substr(0, good.size() - 1000)}) {
        write_file(backup, content);
        auto r = restore_database(request());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ExitCode::data_error);
        EXPECT_TRUE(contains(r.error().message, "does not match")) << r.error().message;
        EXPECT_EQ(dump_query(db, k_dump), live);
        EXPECT_FALSE(fs::exists(dir / "nasops.db.before-restore-20261122T031500Z"));
    }
}

TEST_F(DbmaintRestore, AHeldToolLockIsTemporaryFailureAndChangesNothing) {
    const auto live = dump_query(db, k_dump);
    auto held = LockFile::acquire(dir / "sync.lock", 0s).value();
    auto r = restore_database(request());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::temp_failure);
    EXPECT_TRUE(contains(r.error().message, "sync.lock")) << r.error().message;
    EXPECT_EQ(dump_query(db, k_dump), live);

    auto locks = tool_locks(dir.path());
    EXPECT_NE(std::ranges::find(locks, dir / "alert.lock"), locks.end());
    EXPECT_EQ(std::ranges::find(locks, dir / "dbmaint.lock"), locks.end());
}

TEST_F(DbmaintRestore, ACorruptLiveDatabaseIsReplacedAndKeptAsItWas) {
    {
        SQLite::Database raw(db.string(), SQLite::OPEN_READWRITE);
        raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    nasops::testing::corrupt_pages(db);
    const auto corrupt = read_file(db);
    ASSERT_TRUE(restore_database(request()));
    EXPECT_EQ(dump_query(db, k_dump), backed_up);
    EXPECT_EQ(read_file(dir / "nasops.db.before-restore-20261122T031500Z").size(), corrupt.size());
}

TEST_F(DbmaintRestore, AGzipBackupIsRestoredWithItsRowsAndATamperedOneIsRefused) {
    // The live database is as after the fixture's backup; back it up compressed, change it, restore.
    const auto later = now + std::chrono::seconds(1);
    const auto live = dump_query(db, k_dump);
    const fs::path gz = backup_database(db, dir / "backups", later, Compression::gzip, false).value().path;
    {
        SQLite::Database raw(db.string(), SQLite::OPEN_READWRITE);
        raw.exec("DELETE FROM media_files");
    }
    const auto good = read_file(gz);
    for (const auto& bytes : nasops::testing::damaged_copies(good)) {
        write_file(gz, bytes);
        auto q = request();
        q.backup = gz;
        auto r = restore_database(q);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ExitCode::data_error);
        EXPECT_TRUE(contains(r.error().message, "does not match")) << r.error().message;
        EXPECT_EQ(dump_query(db, k_dump), "");
        EXPECT_FALSE(fs::exists(dir / ".nasops.db.restore-tmp"));
    }
    write_file(gz, good);
    auto q = request();
    q.backup = gz;
    q.now = later;
    const auto r = restore_database(q).value();
    EXPECT_EQ(dump_query(db, k_dump), live);
    EXPECT_EQ(r.details.at("tables").at("media_files").at("after").get<int>(), 11);
    EXPECT_FALSE(fs::exists(dir / ".nasops.db.restore-tmp"));
}
