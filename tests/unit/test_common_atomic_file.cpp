#include <gtest/gtest.h>
#include <sys/stat.h>

#include "fixtures/temp_dir.hpp"
#include "nasops/util/atomic_file.hpp"

using namespace nasops;
namespace fs = std::filesystem;

TEST(AtomicFile, WritesWithTheGivenModeAndLeavesNoTemp) {
    nasops::testing::TempDir dir;
    const auto path = dir / "nasops_health.prom";
    ASSERT_TRUE(write_file_atomically(path, "a 1\n", 0600));
    EXPECT_EQ(nasops::testing::read_file(path), "a 1\n");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(fs::exists(dir / "nasops_health.prom.tmp"));
}

TEST(AtomicFile, ReplacesExistingFileWhole) {
    nasops::testing::TempDir dir;
    const auto path = dir / "state.json";
    nasops::testing::write_file(path, std::string(10000, 'o'));
    ASSERT_TRUE(write_file_atomically(path, "new"));
    EXPECT_EQ(nasops::testing::read_file(path), "new");
}

TEST(AtomicFile, MissingFolderIsCantCreateNamingTheFile) {
    nasops::testing::TempDir dir;
    auto written = write_file_atomically(dir / "missing" / "x.prom", "a 1\n");
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().code, ExitCode::cant_create);
    EXPECT_NE(written.error().message.find("missing/x.prom.tmp"), std::string::npos) << written.error().message;
}

TEST(AtomicFile, FailedRenameKeepsTheOldTargetAndRemovesTheTemp) {
    nasops::testing::TempDir dir;
    const auto target = dir / "busy";
    fs::create_directories(target / "child");  // a non-empty folder cannot be renamed over
    auto written = write_file_atomically(target, "data");
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().code, ExitCode::cant_create);
    EXPECT_TRUE(fs::is_directory(target / "child"));
    EXPECT_FALSE(fs::exists(dir / "busy.tmp"));
}
