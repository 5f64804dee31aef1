#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>

#include "fixtures/temp_dir.hpp"
#include "nasops/db/store.hpp"

using namespace nasops;

namespace {

constexpr std::array k_migrations{
    Migration{"demo", 1, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"},
    Migration{"demo", 2,
              "CREATE TABLE tags (item_id INTEGER NOT NULL REFERENCES items(id), tag TEXT NOT NULL);"
              "CREATE INDEX tags_item ON tags(item_id)"},
    Migration{"other", 1, "CREATE TABLE other_things (x INTEGER)"},
};

long long count(SQLite::Database& db, const std::string& table) {
    return db.execAndGet("SELECT COUNT(*) FROM " + table).getInt64();
}

}  // namespace

TEST(Store, CreatesDatabaseInWalModeWithMigrationsApplied) {
    nasops::testing::TempDir dir;
    auto store = Store::open(dir / "nasops.db", k_migrations);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(store->db().execAndGet("PRAGMA journal_mode").getString(), "wal");
    EXPECT_EQ(store->db().execAndGet("PRAGMA foreign_keys").getInt(), 1);
    EXPECT_EQ(store->db().execAndGet("PRAGMA busy_timeout").getInt(), Store::k_busy_timeout_ms);
    EXPECT_EQ(store->schema_version("demo"), 2);
    EXPECT_EQ(store->schema_version("other"), 1);
    EXPECT_EQ(store->schema_version("nobody"), 0);
}

TEST(Store, ReopeningAppliesOnlyNewSteps) {
    nasops::testing::TempDir dir;
    const auto path = dir / "nasops.db";
    {
        auto store = Store::open(path, std::span(k_migrations).first(1));
        ASSERT_TRUE(store);
        store->db().exec("INSERT INTO items(name) VALUES('kept')");
        EXPECT_EQ(store->schema_version("demo"), 1);
    }
    auto store = Store::open(path, k_migrations);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(store->schema_version("demo"), 2);
    EXPECT_EQ(count(store->db(), "items"), 1);  // step 1 was not run again
    EXPECT_EQ(count(store->db(), "tags"), 0);
}

TEST(Store, ForeignKeysAreEnforced) {
    nasops::testing::TempDir dir;
    auto store = Store::open(dir / "nasops.db", k_migrations);
    ASSERT_TRUE(store);
    EXPECT_THROW(store->db().exec("INSERT INTO tags(item_id, tag) VALUES(42, 'orphan')"), SQLite::Exception);
}

TEST(Store, NewerSchemaThanKnownIsRefused) {
    nasops::testing::TempDir dir;
    const auto path = dir / "nasops.db";
    ASSERT_TRUE(Store::open(path, k_migrations));
    auto older = Store::open(path, std::span(k_migrations).first(1));
    ASSERT_FALSE(older);
    EXPECT_EQ(older.error().code, ExitCode::data_error);
    EXPECT_NE(older.error().message.find("newer"), std::string::npos) << older.error().message;
    EXPECT_NE(older.error().message.find(path.string()), std::string::npos);
}

TEST(Store, FailingMigrationRollsBackAndNamesTheStep) {
    nasops::testing::TempDir dir;
    const std::array broken{
        Migration{"demo", 1, "CREATE TABLE items (id INTEGER PRIMARY KEY)"},
        Migration{"demo", 2, "CREATE TABLE half (x INTEGER); THIS IS NOT SQL"},
    };
    auto store = Store::open(dir / "nasops.db", broken);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ExitCode::software);
    EXPECT_NE(store.error().message.find("demo v2"), std::string::npos) << store.error().message;

    auto reopened = Store::open(dir / "nasops.db", std::span(broken).first(1));
    ASSERT_TRUE(reopened) << reopened.error().message;
    EXPECT_EQ(reopened->schema_version("demo"), 1);
    EXPECT_EQ(reopened->db().execAndGet("SELECT COUNT(*) FROM sqlite_master WHERE name='half'").getInt(), 0);
}

TEST(Store, FileThatIsNotADatabaseIsDataError) {
    nasops::testing::TempDir dir;
    nasops::testing::write_file(dir / "nasops.db", std::string(4096, 'x'));
    auto store = Store::open(dir / "nasops.db", k_migrations);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ExitCode::data_error);
    EXPECT_NE(store.error().message.find("nasops.db"), std::string::npos);
}

TEST(Store, MissingFolderIsCantCreate) {
    nasops::testing::TempDir dir;
    auto store = Store::open(dir / "missing" / "nasops.db", k_migrations);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ExitCode::cant_create);
}

TEST(Store, ReadOnlyOpenOfMissingFileIsNoInput) {
    nasops::testing::TempDir dir;
    auto store = Store::open(dir / "nasops.db", k_migrations, OpenMode::read_only);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ExitCode::no_input);
}

// One wording and one exit-code rule for every tool's SQLite failures, from
// the error SQLite really raised.
TEST(Store, DbErrorNamesTheFileAndTakesItsCodeFromSqlite) {
    nasops::testing::TempDir dir;
    auto store = Store::open(dir / "nasops.db", k_migrations);
    ASSERT_TRUE(store);
    auto raised = [&](auto&& body) -> Error {
        try {
            body();
        } catch (const std::exception& e) {
            return db_error(store->db(), "doing it", e);
        }
        ADD_FAILURE() << "nothing was raised";
        return Error{};
    };

    const auto busy = raised([&] {
        SQLite::Database other((dir / "nasops.db").string(), SQLite::OPEN_READWRITE);
        store->db().exec("BEGIN IMMEDIATE");
        try {
            other.exec("BEGIN IMMEDIATE");  // no busy_timeout: SQLITE_BUSY at once
        } catch (...) {
            store->db().exec("ROLLBACK");
            throw;
        }
    });
    EXPECT_EQ(busy.code, ExitCode::temp_failure) << busy.message;
    EXPECT_EQ(busy.message.rfind("database " + (dir / "nasops.db").string() + ": doing it: database is locked", 0), 0u)
        << busy.message;

    const auto constraint = raised([&] {
        store->db().exec("INSERT INTO items(name) VALUES('a')");
        store->db().exec("INSERT INTO items(name) VALUES('a')");
    });
    EXPECT_EQ(constraint.code, ExitCode::io_error) << constraint.message;

    nasops::testing::write_file(dir / "other.db", std::string(4096, 'x'));
    SQLite::Database not_a_db((dir / "other.db").string(), SQLite::OPEN_READONLY);
    try {
        not_a_db.exec("SELECT count(*) FROM sqlite_schema");
        ADD_FAILURE() << "a file of x read as a database";
    } catch (const std::exception& e) {
        EXPECT_EQ(sqlite_exit_code(e), ExitCode::data_error) << e.what();
    }
    EXPECT_EQ(sqlite_exit_code(std::runtime_error("not SQLite's")), ExitCode::io_error);
}

TEST(Store, TransactionRollsBackOnError) {
    nasops::testing::TempDir dir;
    auto store = Store::open(dir / "nasops.db", k_migrations);
    ASSERT_TRUE(store);
    auto& db = store->db();
    auto failed = in_transaction(db, [&]() -> Result<void> {
        db.exec("INSERT INTO items(name) VALUES('a')");
        return fail(ExitCode::io_error, "disk full");
    });
    EXPECT_FALSE(failed);
    EXPECT_EQ(count(db, "items"), 0);
    EXPECT_THROW(in_transaction(db,
                                [&]() -> Result<void> {
                                    db.exec("INSERT INTO items(name) VALUES('b')");
                                    db.exec("INSERT INTO items(name) VALUES('b')");  // UNIQUE violation
                                    return {};
                                }),
                 SQLite::Exception);
    EXPECT_EQ(count(db, "items"), 0);
}

// Two cron jobs that write at once must both succeed: WAL plus busy_timeout and
// IMMEDIATE transactions serialise them instead of failing with SQLITE_BUSY.
TEST(Store, TwoProcessesWritingAtOnceLoseNothing) {
    nasops::testing::TempDir dir;
    const auto path = dir / "nasops.db";
    constexpr int k_rows = 300;
    std::array<pid_t, 2> children{};
    for (int c = 0; c < 2; ++c) {
        children[c] = ::fork();
        if (children[c] == 0) {
            int code = 0;
            try {
                auto store = Store::open(path, k_migrations);  // both may race to create the schema
                if (!store) {
                    std::fprintf(stderr, "child %d: %s\n", c, store.error().message.c_str());
                    ::_exit(10);
                }
                for (int i = 0; i < k_rows; ++i) {
                    auto ok = in_transaction(store->db(), [&]() -> Result<void> {
                        SQLite::Statement ins(store->db(), "INSERT INTO items(name) VALUES(?)");
                        ins.bind(1, "p" + std::to_string(c) + "-" + std::to_string(i));
                        ins.exec();
                        return {};
                    });
                    if (!ok) code = 11;
                }
            } catch (...) {
                code = 12;
            }
            ::_exit(code);
        }
    }
    for (auto pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 0);
    }
    auto store = Store::open(path, k_migrations);
    ASSERT_TRUE(store);
    EXPECT_EQ(count(store->db(), "items"), 2 * k_rows);
    EXPECT_EQ(store->schema_version("demo"), 2);
}
