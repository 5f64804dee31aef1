#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include "fixtures/temp_dir.hpp"
#include "nasops/util/fs_stat.hpp"

using namespace nasops;

namespace {

// The fields of a statvfs-shaped struct that fs_stat_of reads.
struct FakeStatvfs {
    unsigned long f_bsize = 0;
    unsigned long f_frsize = 0;
    unsigned long f_blocks = 0, f_bfree = 0, f_bavail = 0;
    unsigned long f_files = 0, f_ffree = 0, f_favail = 0;
};

}  // namespace

TEST(CommonFsStat, CountsFragmentBlocksElseBlocks) {
    const FakeStatvfs with_frsize{.f_bsize = 4096,
                                  .f_frsize = 1024,
                                  .f_blocks = 100,
                                  .f_bfree = 40,
                                  .f_bavail = 30,
                                  .f_files = 9,
                                  .f_ffree = 8,
                                  .f_favail = 7};
    const auto a = fs_stat_of(with_frsize);
    EXPECT_EQ(a.total_bytes, 102400u);
    EXPECT_EQ(a.free_bytes, 40960u);
    EXPECT_EQ(a.available_bytes, 30720u);
    EXPECT_EQ(a.total_inodes, 9u);
    EXPECT_EQ(a.free_inodes, 8u);
    EXPECT_EQ(a.available_inodes, 7u);
    // A server that leaves f_frsize at 0: f_bsize blocks.
    const FakeStatvfs without{.f_bsize = 4096, .f_frsize = 0, .f_blocks = 100, .f_bfree = 40, .f_bavail = 30};
    EXPECT_EQ(fs_stat_of(without).total_bytes, 409600u);
}

TEST(CommonFsStat, ReadsALocalFileSystem) {
    nasops::testing::TempDir dir;
    struct statvfs st {};
    ASSERT_EQ(::statvfs(dir.path().c_str(), &st), 0);
    const auto fs = local_fs_stat(dir.path());
    ASSERT_TRUE(fs) << fs.error().message;
    EXPECT_EQ(fs->total_bytes, fs_stat_of(st).total_bytes);
    EXPECT_EQ(fs->total_inodes, fs_stat_of(st).total_inodes);
    EXPECT_LE(fs->available_bytes, fs->free_bytes);
    EXPECT_LE(fs->free_bytes, fs->total_bytes);
}

TEST(CommonFsStat, AMissingPathIsNoInputNamingIt) {
    const auto fs = local_fs_stat("/no/such/mount");
    ASSERT_FALSE(fs);
    EXPECT_EQ(fs.error().code, ExitCode::no_input);
    EXPECT_EQ(fs.error().message, "cannot statvfs /no/such/mount: No such file or directory");
}
