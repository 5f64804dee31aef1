#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "fixtures/temp_dir.hpp"
#include "nasops/core/paths.hpp"

using namespace nasops;
using nasops::testing::TempDir;
using nasops::testing::write_file;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

namespace {

// A uid that no password database holds.
constexpr uid_t k_unknown_uid = 3'999'999'999u;

Paths resolve(const Config& config, uid_t uid, std::map<std::string, std::string, std::less<>> env) {
    auto paths = resolve_paths(config, uid, fixed_environment(std::move(env)));
    EXPECT_TRUE(paths) << paths.error().message;
    return paths ? *paths : Paths{};
}

}  // namespace

TEST(Paths, RootGetsTheSystemFolders) {
    const auto paths = resolve(Config::defaults(), 0, {{"HOME", "/root"}, {"XDG_STATE_HOME", "/root/.state"}});
    EXPECT_EQ(paths.state_dir, fs::path("/var/lib/nasops"));
    EXPECT_EQ(paths.log_dir, fs::path("/var/log/nasops"));
    EXPECT_EQ(paths.run_dir, fs::path("/run/nasops"));
    EXPECT_EQ(database_path(paths), fs::path("/var/lib/nasops/nasops.db"));
}

TEST(Paths, UserWithOnlyHome) {
    const auto paths = resolve(Config::defaults(), 1000, {{"HOME", "/home/ops"}});
    EXPECT_EQ(paths.state_dir, fs::path("/home/ops/.local/state/nasops"));
    EXPECT_EQ(paths.log_dir, fs::path("/home/ops/.local/state/nasops/log"));
    EXPECT_EQ(paths.run_dir, fs::path("/home/ops/.local/state/nasops/run"));
    EXPECT_EQ(database_path(paths), fs::path("/home/ops/.local/state/nasops/nasops.db"));
}

TEST(Paths, UserWithXdgVariables) {
    const auto paths =
        resolve(Config::defaults(), 1000,
                {{"HOME", "/home/ops"}, {"XDG_STATE_HOME", "/data/state"}, {"XDG_RUNTIME_DIR", "/run/user/1000"}});
    EXPECT_EQ(paths.state_dir, fs::path("/data/state/nasops"));
    EXPECT_EQ(paths.log_dir, fs::path("/data/state/nasops/log"));
    EXPECT_EQ(paths.run_dir, fs::path("/run/user/1000/nasops"));
}

TEST(Paths, EmptyOrRelativeXdgVariablesAreIgnored) {
    const auto paths = resolve(Config::defaults(), 1000,
                               {{"HOME", "/home/ops"}, {"XDG_STATE_HOME", "relative/state"}, {"XDG_RUNTIME_DIR", ""}});
    EXPECT_EQ(paths.state_dir, fs::path("/home/ops/.local/state/nasops"));
    EXPECT_EQ(paths.run_dir, fs::path("/home/ops/.local/state/nasops/run"));
}

TEST(Paths, ConfigOverridesEachFolder) {
    auto config = parse_config("[paths]\nstate_dir = \"/srv/nasops\"\nrun_dir = \"/srv/run\"\n", "<test>");
    ASSERT_TRUE(config) << config.error().message;
    const auto user = resolve(*config, 1000, {{"HOME", "/home/ops"}, {"XDG_RUNTIME_DIR", "/run/user/1000"}});
    EXPECT_EQ(user.state_dir, fs::path("/srv/nasops"));
    EXPECT_EQ(user.log_dir, fs::path("/srv/nasops/log"));
    EXPECT_EQ(user.run_dir, fs::path("/srv/run"));
    EXPECT_EQ(database_path(user), fs::path("/srv/nasops/nasops.db"));

    const auto root = resolve(*config, 0, {});
    EXPECT_EQ(root.state_dir, fs::path("/srv/nasops"));
    EXPECT_EQ(root.log_dir, fs::path("/var/log/nasops"));
    EXPECT_EQ(root.run_dir, fs::path("/srv/run"));

    auto logs = parse_config("[paths]\nlog_dir = \"/srv/logs\"\n", "<test>");
    ASSERT_TRUE(logs) << logs.error().message;
    const auto with_logs = resolve(*logs, 1000, {{"HOME", "/home/ops"}});
    EXPECT_EQ(with_logs.log_dir, fs::path("/srv/logs"));
    EXPECT_EQ(with_logs.state_dir, fs::path("/home/ops/.local/state/nasops"));
}

TEST(Paths, WithoutHomeThePasswordDatabaseIsAsked) {
    const uid_t uid = ::getuid() == 0 ? 1 : ::getuid();  // not root: root needs no home
    const passwd* entry = ::getpwuid(uid);
    ASSERT_NE(entry, nullptr) << "uid " << uid << " has no password entry";
    const fs::path home = entry->pw_dir;
    const auto paths = resolve(Config::defaults(), uid, {});
    EXPECT_EQ(paths.state_dir, home / ".local/state/nasops");
}

TEST(Paths, NoWayToFindAStateFolderIsAConfigError) {
    auto paths = resolve_paths(Config::defaults(), k_unknown_uid, fixed_environment({}));
    ASSERT_FALSE(paths);
    EXPECT_EQ(paths.error().code, ExitCode::config);
    EXPECT_THAT(paths.error().message, HasSubstr("state_dir"));
}

TEST(EnsureDir, CreatesNestedFoldersPrivateToGroup) {
    TempDir dir;
    const auto target = dir / "a/b/c";
    auto made = ensure_dir(target);
    ASSERT_TRUE(made) << made.error().message;
    EXPECT_EQ(*made, target);
    EXPECT_TRUE(fs::is_directory(target));
    for (const auto& folder : {dir / "a", dir / "a/b", target}) {
        struct stat st {};
        ASSERT_EQ(::stat(folder.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0027, 0u) << folder;  // never group-writable or open to others
    }
    // Again: nothing to do, still a success.
    auto again = ensure_dir(target);
    ASSERT_TRUE(again) << again.error().message;
}

TEST(EnsureDir, FailsUnderARegularFileNamingThePath) {
    TempDir dir;
    write_file(dir / "file", "x");
    const auto target = dir / "file/sub/deeper";
    auto made = ensure_dir(target);
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().code, ExitCode::cant_create);
    EXPECT_THAT(made.error().message, HasSubstr("cannot create folder " + target.string()));
    EXPECT_THAT(made.error().message, HasSubstr((dir / "file").string() + " is not a folder"));
    EXPECT_FALSE(fs::exists(dir / "file/sub"));
}

TEST(EnsureDir, FailsWhenAFileHasTheFolderName) {
    TempDir dir;
    write_file(dir / "file", "x");
    auto made = ensure_dir(dir / "file");
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().code, ExitCode::cant_create);
    EXPECT_THAT(made.error().message, HasSubstr((dir / "file").string()));
}
