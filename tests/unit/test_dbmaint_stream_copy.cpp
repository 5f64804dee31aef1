// stream_copy: the one pass behind gzip backups, their read-back and restore.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "dbmaint/stream_copy.hpp"
#include "fixtures/temp_dir.hpp"
#include "nasops/util/sha256.hpp"

using namespace nasops;
using namespace nasops::dbmaint;
using nasops::testing::read_file;
using nasops::testing::TempDir;
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

// Several MiB that compress a little, so that every buffer fills more than once.
std::string sample() {
    std::string text;
    std::uint32_t x = 12345;
    while (text.size() < (std::size_t{5} << 20)) {
        x = x * 1103515245 + 12345;
        text += fmt::format("row {} value {:08x}\n", text.size(), x >> 8);
    }
    return text;
}

class DbmaintStreamCopy : public ::testing::Test {
protected:
    DbmaintStreamCopy() { write_file(plain, content); }
    TempDir dir{"nasops-dbmaint-stream"};
    std::string content = sample();
    fs::path plain = dir / "plain";
    fs::path packed = dir / "packed.gz";
    fs::path unpacked = dir / "unpacked";
};

}  // namespace

TEST_F(DbmaintStreamCopy, GzipThenGunzipGivesTheBytesBackAndHashesWhatWasAsked) {
    const auto zipped = stream_copy(plain, packed, Transform::gzip, Hash::output, Durability::fsync).value();
    EXPECT_EQ(zipped.sha256, sha256_file(packed).value());
    EXPECT_EQ(zipped.bytes_in, content.size());
    EXPECT_EQ(zipped.bytes_out, fs::file_size(packed));
    EXPECT_LT(zipped.bytes_out, content.size());
    struct stat st {};
    ASSERT_EQ(::stat(packed.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);

    const auto back = stream_copy(packed, unpacked, Transform::gunzip, Hash::input, Durability::none).value();
    EXPECT_FALSE(back.damage);
    EXPECT_EQ(back.sha256, zipped.sha256);
    EXPECT_EQ(read_file(unpacked), content);

    const auto copied = stream_copy(plain, dir / "copy", Transform::copy, Hash::none, Durability::fsync).value();
    EXPECT_EQ(copied.sha256, "");
    EXPECT_EQ(read_file(dir / "copy"), content);
}

TEST_F(DbmaintStreamCopy, DamageIsToldAfterTheWholeInputIsHashedAndNothingIsLeft) {
    ASSERT_TRUE(stream_copy(plain, packed, Transform::gzip, Hash::none, Durability::none));
    const auto good = read_file(packed);
    auto flipped = good;
    flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x10);
    const std::string cases[] = {flipped, good.substr(0, good.size() / 2), good + "more", "not gzip at all", ""};
    for (const auto& bytes : cases) {
        write_file(packed, bytes);
        const auto r = stream_copy(packed, unpacked, Transform::gunzip, Hash::input, Durability::none).value();
        ASSERT_TRUE(r.damage) << bytes.size();
        EXPECT_EQ(r.sha256, sha256_hex(bytes));
        EXPECT_EQ(r.bytes_in, bytes.size());
        EXPECT_FALSE(fs::exists(unpacked));
    }
    write_file(packed, good.substr(0, good.size() - 3));
    EXPECT_NE(stream_copy(packed, unpacked, Transform::gunzip, Hash::input, Durability::none)
                  .value()
                  .damage->find("truncated"),
              std::string::npos);
}

TEST_F(DbmaintStreamCopy, MissingInputAndAnUnwritableOutputNameTheFile) {
    auto r = stream_copy(dir / "none", unpacked, Transform::copy, Hash::none, Durability::none);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::no_input);
    EXPECT_NE(r.error().message.find((dir / "none").string()), std::string::npos);
    r = stream_copy(plain, dir / "no-such-dir" / "out", Transform::gzip, Hash::none, Durability::none);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::cant_create);
}
