#include <gtest/gtest.h>

#include <array>
#include <string>

#include "nasops/util/sha256.hpp"
#include "sync/background_hasher.hpp"

using nasops::sha256_hex;
using nasops::sync::BackgroundHasher;

TEST(SyncBackgroundHasher, ChunksInTwoBuffersHashLikeTheWholeStream) {
    std::string whole;
    std::array<std::string, 2> buffers;
    BackgroundHasher hasher;
    for (int i = 0; i < 200; ++i) {
        // The buffer filled is the one the hasher is not reading: the one handed over two updates ago.
        auto& buffer = buffers[static_cast<std::size_t>(i % 2)];
        buffer.assign(static_cast<std::size_t>(1000 + i * 37), static_cast<char>('a' + i % 26));
        whole += buffer;
        hasher.update(buffer);
    }
    EXPECT_EQ(hasher.hex_digest(), sha256_hex(whole));
    // It starts over for the next file.
    hasher.update("next file");
    EXPECT_EQ(hasher.hex_digest(), sha256_hex("next file"));
    EXPECT_EQ(hasher.hex_digest(), sha256_hex(""));
}
