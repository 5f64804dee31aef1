#include <gtest/gtest.h>

#include "nasops/ssh/remote_df.hpp"

using namespace nasops;

TEST(RemoteDf, ReadsTheFileSystemLineOfDfP) {
    auto st = parse_df_output(
        "Filesystem     1024-blocks      Used Available Capacity Mounted on\n"
        "/dev/md 2       1000000    600000    300000      67% /volume 1 (50%)\n");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->total_bytes, 1024000000u);
    EXPECT_EQ(st->available_bytes, 307200000u);
    EXPECT_EQ(st->free_bytes, 1024000000u - 614400000u);
    EXPECT_EQ(st->total_inodes, 0u);
    auto plain = parse_df_output(
        "Filesystem 1024-blocks Used Available Capacity Mounted on\n"
        "/dev/sda1   1000   400   600   40% /volume1\n");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->available_bytes, 600u * 1024);
    EXPECT_FALSE(parse_df_output("Filesystem 1024-blocks Used Available\n"));
    EXPECT_FALSE(parse_df_output("df: /x: No such file or directory\n"));
    EXPECT_FALSE(parse_df_output("Filesystem 1024-blocks Used Available Capacity Mounted on\nfs x y z 1% /\n"));
}

// Seen while writing fuzz/df_output_fuzz: a count of blocks whose bytes do not
// fit in 64 bits wrapped round to a small disk instead of being refused.
TEST(RemoteDf, RefusesBlockCountsBeyondSixtyFourBitsOfBytes) {
    EXPECT_FALSE(
        parse_df_output("Filesystem 1024-blocks Used Available Capacity Mounted on\n"
                        "/dev/x 18014398509481984 0 1 1% /\n"));
    EXPECT_FALSE(
        parse_df_output("Filesystem 1024-blocks Used Available Capacity Mounted on\n"
                        "/dev/x 1000 18014398509481985 1 1% /\n"));
    const auto largest = parse_df_output(
        "Filesystem 1024-blocks Used Available Capacity Mounted on\n"
        "/dev/x 18014398509481983 0 18014398509481983 0% /\n");
    ASSERT_TRUE(largest);
    EXPECT_EQ(largest->total_bytes, 18014398509481983u * 1024);
}
