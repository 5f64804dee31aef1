// backup, its sidecar, verify and retention on real SQLite files.

#include <SQLiteCpp/Database.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "dbmaint/backup.hpp"
#include "dbmaint/database.hpp"
#include "dbmaint/retention.hpp"
#include "dbmaint/sidecar.hpp"
#include "fixtures/sample_db.hpp"
#include "fixtures/temp_dir.hpp"
#include "nasops/util/sha256.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace nasops::dbmaint;
using namespace std::chrono_literals;
using nasops::testing::read_file;
using nasops::testing::TempDir;
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

SystemTimePoint at(const char* rfc3339) {
    return parse_rfc3339(rfc3339).value();
}

class DbmaintBackup : public ::testing::Test {
protected:
    DbmaintBackup() {
        nasops::testing::make_database(db, sync::migrations(), {.completed_old = 300, .pending_old = 7}, now);
    }
    TempDir dir{"nasops-dbmaint-backup"};
    fs::path db = dir / "nasops.db";
    fs::path backups = dir / "backups";
    SystemTimePoint now = at("2026-11-22T03:15:00Z");
};

}  // namespace

TEST(DbmaintBackupName, NamesCarryTheUtcSecond) {
    EXPECT_EQ(backup_file_name(at("2026-11-22T03:15:09.750Z")), "nasops-20261122T031509Z.db");
    EXPECT_EQ(parse_backup_file_name("nasops-20261122T031509Z.db"), at("2026-11-22T03:15:09Z"));
    EXPECT_FALSE(parse_backup_file_name("nasops-20261122T031509Z.db.sha256"));
    EXPECT_FALSE(parse_backup_file_name("nasops-20261322T031509Z.db"));
    EXPECT_FALSE(parse_backup_file_name("nasops-2026112T031509Z.db"));
    EXPECT_FALSE(parse_backup_file_name("other-20261122T031509Z.db"));
    EXPECT_EQ(backup_file_name(at("2026-11-22T03:15:09Z"), Compression::gzip), "nasops-20261122T031509Z.db.gz");
    EXPECT_EQ(parse_backup_file_name("nasops-20261122T031509Z.db.gz"), at("2026-11-22T03:15:09Z"));
    EXPECT_FALSE(parse_backup_file_name("nasops-20261122T031509Z.db.gz.sha256"));
    EXPECT_FALSE(parse_backup_file_name("nasops-20261122T031509Z.gz"));
    EXPECT_TRUE(is_gzip_backup("/b/nasops-20261122T031509Z.db.gz"));
    EXPECT_FALSE(is_gzip_backup("/b/nasops-20261122T031509Z.db"));
}

TEST_F(DbmaintBackup, ABackupIsPrivateHasASha256sumSidecarAndTheSameRows) {
    const auto r = backup_database(db, backups, now, Compression::none, false).value();
    const auto file = backups / "nasops-20261122T031500Z.db";
    EXPECT_EQ(r.path, file.string());
    ASSERT_TRUE(fs::exists(file));
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    ASSERT_EQ(::stat(sidecar_path(file).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    EXPECT_EQ(read_file(sidecar_path(file)), sha256_file(file).value() + "  nasops-20261122T031500Z.db\n");
    EXPECT_FALSE(fs::exists(wal_path(file)));
    EXPECT_FALSE(fs::exists(shm_path(file)));
    const std::string dump = "SELECT rel_path || ' ' || state FROM media_files ORDER BY id";
    EXPECT_EQ(nasops::testing::dump_query(file, dump), nasops::testing::dump_query(db, dump));
    EXPECT_EQ(verify_backup_file(file).value(), sha256_file(file).value());
    // No temporary file is left next to it.
    int entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(backups)) ++entries;
    EXPECT_EQ(entries, 2);
}

TEST_F(DbmaintBackup, ABackupSeesRowsStillInTheWal) {
    SQLite::Database writer(db.string(), SQLite::OPEN_READWRITE);
    writer.exec("PRAGMA journal_mode = WAL");
    writer.exec("INSERT INTO media_files (source, rel_path, state) VALUES ('/s', 'only-in-wal', 'pending')");
    ASSERT_GT(file_bytes(wal_path(db)), 0U);
    const auto r = backup_database(db, backups, now, Compression::none, false).value();
    EXPECT_EQ(nasops::testing::dump_query(r.path, "SELECT count(*) FROM media_files WHERE rel_path = 'only-in-wal'"),
              "1\n");
}

TEST_F(DbmaintBackup, DryRunWritesNothingAndAMissingDatabaseIsNoInput) {
    const auto r = backup_database(db, backups, now, Compression::none, true).value();
    EXPECT_TRUE(contains(r.message, "would back up")) << r.message;
    EXPECT_FALSE(fs::exists(backups));
    auto missing = backup_database(dir / "none.db", backups, now, Compression::none, false);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ExitCode::no_input);
}

TEST_F(DbmaintBackup, LeftoversOfAKilledBackupAreRemovedAndASecondInTheSameSecondIsRefused) {
    fs::create_directories(backups);
    write_file(backups / ".nasops-20261122T031400Z.db.tmp", "half a copy");
    write_file(backups / ".nasops-20261122T031400Z.db.gz.tmp", "half a compressed copy");
    // A verify's decompressed .db.gz: left while its process runs (this one), removed once it is gone.
    const auto in_use = scratch_path(backups / "nasops-20261122T031400Z.db.gz");
    write_file(in_use, "being checked");
    const auto gone =
        backups / ".nasops-20261122T031400Z.db.gz.2147483646.tmp";  // no process has it: above any pid_max
    write_file(gone, "left by a killed verify");
    // SQLite's files of a killed copy (the copy of a WAL database opens a -wal).
    const std::vector<fs::path> companions{backups / ".nasops-20261122T031400Z.db.tmp-wal",
                                           backups / ".nasops-20261122T031400Z.db.tmp-shm",
                                           backups / ".nasops-20261122T031400Z.db.tmp-journal"};
    for (const auto& c : companions) write_file(c, "sqlite's");
    const fs::path in_use_wal = in_use.string() + "-wal";
    write_file(in_use_wal, "the running verify's");
    ASSERT_TRUE(backup_database(db, backups, now, Compression::none, false));
    EXPECT_FALSE(fs::exists(backups / ".nasops-20261122T031400Z.db.tmp"));
    EXPECT_FALSE(fs::exists(backups / ".nasops-20261122T031400Z.db.gz.tmp"));
    EXPECT_TRUE(fs::exists(in_use));
    EXPECT_TRUE(fs::exists(in_use_wal));
    EXPECT_FALSE(fs::exists(gone));
    for (const auto& c : companions) EXPECT_FALSE(fs::exists(c)) << c;
    auto again = backup_database(db, backups, now, Compression::none, false);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ExitCode::cant_create);
}

TEST_F(DbmaintBackup, VerifyRefusesTamperedTruncatedAndUnpairedBackups) {
    const auto file = fs::path(backup_database(db, backups, now, Compression::none, false).value().path);
    const auto good = read_file(file);

    auto tampered = good;
    tampered[tampered.size() / 2] = static_cast<char>(tampered[tampered.size() / 2] ^ 0x01);
    write_file(file, tampered);
    auto r = verify_backup_file(file);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::data_error);
    EXPECT_TRUE(contains(r.error().message, "does not match")) << r.error().message;

    write_file(file, good.substr(0, good.size() / 2));
    r = verify_backup_file(file);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::data_error);

    write_file(file, good);
    EXPECT_TRUE(verify_backup_file(file));
    write_file(sidecar_path(file), "abc  nasops-20261122T031500Z.db\n");
    EXPECT_EQ(verify_backup_file(file).error().code, ExitCode::data_error);
    write_file(sidecar_path(file), sha256_file(file).value() + "  other.db\n");
    EXPECT_TRUE(contains(verify_backup_file(file).error().message, "other.db"));
    fs::remove(sidecar_path(file));
    EXPECT_EQ(verify_backup_file(file).error().code, ExitCode::no_input);
    EXPECT_EQ(verify_backup_file(dir / "nothing.db").error().code, ExitCode::no_input);
}

TEST_F(DbmaintBackup, VerifyRefusesACopyWhoseSidecarMatchesButWhosePagesAreBroken) {
    const auto file = fs::path(backup_database(db, backups, now, Compression::none, false).value().path);
    nasops::testing::corrupt_pages(file);
    ASSERT_TRUE(write_sidecar(file, sha256_file(file).value()));
    auto r = verify_backup_file(file);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::data_error);
}

TEST(DbmaintRetention, KeepsTheNewestAndTheYoungAndNeverTheOnlyGoodOne) {
    const auto now = at("2026-11-22T03:00:00Z");
    std::vector<BackupFile> all;
    for (int day = 0; day < 10; ++day)  // one per day, newest first, all with sidecars
        all.push_back(BackupFile{fmt::format("/b/{}.db", day), now - 24h * day * 10, true});
    // keep_last 3, keep_days 25: days 0, 10, 20 are the newest three; none other is younger than 25 days.
    auto expired = expired_backups(all, RetentionPolicy{.keep_last = 3, .keep_days = 25}, now, {});
    ASSERT_EQ(expired.size(), 7U);
    EXPECT_EQ(expired.front().path, "/b/3.db");
    // keep_days 45 keeps days 30 and 40 as well.
    expired = expired_backups(all, RetentionPolicy{.keep_last = 3, .keep_days = 45}, now, {});
    ASSERT_EQ(expired.size(), 5U);
    EXPECT_EQ(expired.front().path, "/b/5.db");
    // keep_days 0: only the newest keep_last.
    expired = expired_backups(all, RetentionPolicy{.keep_last = 1, .keep_days = 0}, now, {});
    EXPECT_EQ(expired.size(), 9U);
    // The only backup with a sidecar is the oldest: it stays.
    for (auto& b : all) b.has_sidecar = false;
    all.back().has_sidecar = true;
    expired = expired_backups(all, RetentionPolicy{.keep_last = 1, .keep_days = 0}, now, {});
    EXPECT_EQ(expired.size(), 8U);
    for (const auto& b : expired) EXPECT_NE(b.path, all.back().path);
    // The one just written stays whatever its name says.
    expired = expired_backups(all, RetentionPolicy{.keep_last = 1, .keep_days = 0}, now, "/b/5.db");
    for (const auto& b : expired) EXPECT_NE(b.path, "/b/5.db");
}

TEST_F(DbmaintBackup, RetentionDeletesOldBackupsWithTheirSidecars) {
    for (int day = 1; day <= 5; ++day)
        ASSERT_TRUE(backup_database(db, backups, now - 24h * day * 10, Compression::none, false));
    ASSERT_TRUE(backup_database(db, backups, now, Compression::none, false));
    ASSERT_EQ(list_backups(backups).size(), 6U);
    write_file(backups / "notes.txt", "not a backup");

    const auto written = backups / backup_file_name(now);
    auto dry = apply_retention(backups, {.keep_last = 2, .keep_days = 25}, now, written, true).value();
    EXPECT_EQ(dry.rows, 3);
    EXPECT_EQ(list_backups(backups).size(), 6U);

    auto r = apply_retention(backups, {.keep_last = 2, .keep_days = 25}, now, written, false).value();
    EXPECT_EQ(r.rows, 3);
    const auto left = list_backups(backups);
    ASSERT_EQ(left.size(), 3U);  // today, 10 and 20 days old
    EXPECT_EQ(left[0].path, written);
    EXPECT_EQ(left[2].taken, now - 24h * 20);
    EXPECT_FALSE(fs::exists(sidecar_path(backups / backup_file_name(now - 24h * 30))));
    EXPECT_TRUE(fs::exists(backups / "notes.txt"));
}

TEST_F(DbmaintBackup, AGzipBackupIsPrivateItsSidecarIsTheGzFilesAndItHoldsTheSameRows) {
    const auto r = backup_database(db, backups, now, Compression::gzip, false).value();
    const auto file = backups / "nasops-20261122T031500Z.db.gz";
    EXPECT_EQ(r.path, file.string());
    EXPECT_EQ(r.details.at("compression"), "gzip");
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    EXPECT_EQ(read_file(sidecar_path(file)), sha256_file(file).value() + "  nasops-20261122T031500Z.db.gz\n");
    EXPECT_EQ(verify_backup_file(file).value(), sha256_file(file).value());
    const auto plain = dir / "unpacked.db";
    ASSERT_TRUE(unpack_backup(file, plain, sha256_file(file).value(), CheckDepth::full, Durability::none));
    const std::string dump = "SELECT rel_path || ' ' || state FROM media_files ORDER BY id";
    EXPECT_EQ(nasops::testing::dump_query(plain, dump), nasops::testing::dump_query(db, dump));
    // Neither the uncompressed copy nor the read-back's file is left beside it.
    std::vector<std::string> entries;
    for (const auto& e : fs::directory_iterator(backups)) entries.push_back(e.path().filename().string());
    std::ranges::sort(entries);
    EXPECT_EQ(entries,
              (std::vector<std::string>{"nasops-20261122T031500Z.db.gz", "nasops-20261122T031500Z.db.gz.sha256"}));
    // One backup per second, whichever kind came first.
    auto again = backup_database(db, backups, now, Compression::none, false);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ExitCode::cant_create);
}

TEST_F(DbmaintBackup, VerifyRefusesATamperedOrTruncatedGzipBackupAndLeavesNoScratch) {
    const auto file = fs::path(backup_database(db, backups, now, Compression::gzip, false).value().path);
    const auto good = read_file(file);
    for (const auto& bytes : nasops::testing::damaged_copies(good)) {
        write_file(file, bytes);
        auto r = verify_backup_file(file);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ExitCode::data_error);
        EXPECT_TRUE(contains(r.error().message, "does not match")) << r.error().message;
    }
    // A broken stream whose sidecar was made to match is refused for the stream.
    write_file(file, good.substr(0, good.size() / 2));
    ASSERT_TRUE(write_sidecar(file, sha256_file(file).value()));
    auto r = verify_backup_file(file);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::data_error);
    EXPECT_TRUE(contains(r.error().message, "truncated")) << r.error().message;
    int entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(backups)) ++entries;
    EXPECT_EQ(entries, 2);
}

TEST_F(DbmaintBackup, RetentionCountsPlainAndGzipBackupsTogether) {
    for (int day = 1; day <= 4; ++day)
        ASSERT_TRUE(backup_database(db, backups, now - 24h * day * 10,
                                    day % 2 == 0 ? Compression::gzip : Compression::none, false));
    const auto written = backups / backup_file_name(now, Compression::gzip);
    ASSERT_TRUE(backup_database(db, backups, now, Compression::gzip, false));
    ASSERT_EQ(list_backups(backups).size(), 5U);
    auto r = apply_retention(backups, {.keep_last = 2, .keep_days = 0}, now, written, false).value();
    EXPECT_EQ(r.rows, 3);
    const auto left = list_backups(backups);
    ASSERT_EQ(left.size(), 2U);
    EXPECT_EQ(left[0].path, written);
    EXPECT_EQ(left[1].path, backups / backup_file_name(now - 24h * 10, Compression::none));
    EXPECT_FALSE(fs::exists(sidecar_path(backups / backup_file_name(now - 24h * 20, Compression::gzip))));
}

TEST_F(DbmaintBackup, WithoutANewBackupRetentionKeepsTheNewestThatVerifiesNotTheNewestWithASidecar) {
    for (int day = 1; day <= 3; ++day)
        ASSERT_TRUE(backup_database(db, backups, now - 24h * day * 10, Compression::none, false));
    const auto newest = backups / backup_file_name(now - 24h * 10);
    const auto second = backups / backup_file_name(now - 24h * 20);
    auto changed = read_file(newest);
    changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 0x01);
    write_file(newest, changed);  // its sidecar no longer matches it
    EXPECT_EQ(newest_verified_backup(list_backups(backups)), second);

    auto r = apply_retention(backups, {.keep_last = 1, .keep_days = 0}, now, {}, false).value();
    EXPECT_EQ(r.rows, 1);
    const auto left = list_backups(backups);
    ASSERT_EQ(left.size(), 2U);
    EXPECT_EQ(left[0].path, newest);  // keep_last 1
    EXPECT_EQ(left[1].path, second);  // the last good one, whatever the policy says
    write_file(second, "truncated");
    EXPECT_EQ(newest_verified_backup(list_backups(backups)), fs::path());
}
