#include <gtest/gtest.h>

#include <string>

#include "fixtures/temp_dir.hpp"
#include "nasops/util/sha256.hpp"

using namespace nasops;

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalEqualsOneShotAndRestartsAfterDigest) {
    const std::string data(3 * 1024 * 1024 + 17, 'x');
    Sha256 hash;
    for (std::size_t pos = 0; pos < data.size(); pos += 65537) hash.update(std::string_view(data).substr(pos, 65537));
    EXPECT_EQ(hash.hex_digest(), sha256_hex(data));
    hash.update("abc");
    EXPECT_EQ(hash.hex_digest(), sha256_hex("abc"));
    hash.update("garbage");
    hash.reset();
    EXPECT_EQ(hash.hex_digest(), sha256_hex(""));
}

TEST(Sha256, FileHashMatchesAndMissingFileIsNoInput) {
    nasops::testing::TempDir dir;
    std::string content;
    for (int i = 0; i < 300000; ++i) content += static_cast<char>(i * 7);
    nasops::testing::write_file(dir / "f.bin", content);
    auto digest = sha256_file(dir / "f.bin");
    ASSERT_TRUE(digest) << digest.error().message;
    EXPECT_EQ(*digest, sha256_hex(content));

    auto missing = sha256_file(dir / "nope");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ExitCode::no_input);
    EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
}

TEST(Sha256, RecognisesHexDigests) {
    EXPECT_TRUE(is_sha256_hex(sha256_hex("x")));
    EXPECT_TRUE(is_sha256_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
    EXPECT_FALSE(is_sha256_hex(sha256_hex("x").substr(1)));
    EXPECT_FALSE(is_sha256_hex(std::string(64, 'g')));
}
