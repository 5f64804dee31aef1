// SftpPipeline (nasops/sftp_pipeline.hpp) against a real OpenSSH sftp-server.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fixtures/sshd_fixture.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/sftp_pipeline.hpp"
#include "nasops/ssh_session.hpp"

using namespace nasops;
using nasops::testing::random_bytes;
using nasops::testing::read_file;
using nasops::testing::SshdFixture;
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

class SftpPipelineTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto connected = SshSession::connect(nas.options());
        ASSERT_TRUE(connected) << connected.error().message << nas.log();
        session.emplace(std::move(*connected));
        auto opened = session->sftp_pipeline();
        ASSERT_TRUE(opened) << opened.error().message;
        pipeline.emplace(std::move(*opened));
    }
    void TearDown() override {
        pipeline.reset();
        session.reset();
    }
    std::string remote(const std::string& name) const { return (nas.remote_root() / name).string(); }

    SshdFixture nas;
    std::optional<SshSession> session;
    std::optional<SftpPipeline> pipeline;
};

}  // namespace

TEST_F(SftpPipelineTest, ManyFilesArriveWholeWithTheirTimes) {
    std::vector<std::string> contents;
    std::vector<SftpPut> puts;
    for (int i = 0; i < 300; ++i) {
        // Sizes around the 32 KiB write size, empty included.
        const std::size_t size = static_cast<std::size_t>(i) * 331 % (100 * 1024);
        contents.push_back(random_bytes(size, static_cast<unsigned>(i)));
    }
    for (int i = 0; i < 300; ++i)
        puts.push_back(SftpPut{.path = remote(fmt::format("f{:03}", i)),
                               .data = contents[static_cast<std::size_t>(i)],
                               .mtime = 1'600'000'000u + static_cast<std::uint32_t>(i)});
    const auto results = pipeline->put(puts);
    ASSERT_EQ(results.size(), puts.size());
    for (int i = 0; i < 300; ++i) {
        const auto& r = results[static_cast<std::size_t>(i)];
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_TRUE(*r) << "the server sets times";
        const fs::path p = nas.remote_root() / fmt::format("f{:03}", i);
        EXPECT_EQ(read_file(p), contents[static_cast<std::size_t>(i)]) << i;
        struct stat st {};
        ASSERT_EQ(::stat(p.c_str(), &st), 0);
        EXPECT_EQ(st.st_mtime, 1'600'000'000 + i);
    }
}

TEST_F(SftpPipelineTest, OneFileThatCannotBeOpenedFailsAlone) {
    write_file(nas.remote_root() / "blocker", "a file where a folder should be");
    const std::vector<SftpPut> puts{{.path = remote("a.txt"), .data = "a"},
                                    {.path = remote("blocker/b.txt"), .data = "b"},
                                    {.path = remote("c.txt"), .data = "c"}};
    const auto results = pipeline->put(puts);
    ASSERT_TRUE(results[0]) << results[0].error().message;
    ASSERT_FALSE(results[1]);
    EXPECT_EQ(results[1].error().code, ExitCode::cant_create);
    EXPECT_NE(results[1].error().message.find("blocker/b.txt"), std::string::npos) << results[1].error().message;
    ASSERT_TRUE(results[2]) << results[2].error().message;
    EXPECT_EQ(read_file(nas.remote_root() / "a.txt"), "a");
    EXPECT_EQ(read_file(nas.remote_root() / "c.txt"), "c");
}

TEST_F(SftpPipelineTest, PosixRenameReplacesAnExistingFile) {
    ASSERT_TRUE(pipeline->has_posix_rename()) << "OpenSSH offers posix-rename@openssh.com";
    write_file(nas.remote_root() / "clip.mp4", "old copy");
    write_file(nas.remote_root() / ".clip.mp4.part", "new copy");
    const std::vector<SftpRename> renames{{remote(".clip.mp4.part"), remote("clip.mp4")},
                                          {remote("missing.part"), remote("missing")}};
    const auto results = pipeline->posix_rename(renames);
    ASSERT_TRUE(results[0]) << results[0].error().message;
    EXPECT_EQ(read_file(nas.remote_root() / "clip.mp4"), "new copy");
    EXPECT_FALSE(fs::exists(nas.remote_root() / ".clip.mp4.part"));
    ASSERT_FALSE(results[1]);
    EXPECT_EQ(results[1].error().code, ExitCode::no_input);
}

TEST_F(SftpPipelineTest, StatTellsFilesFoldersAndMissingPaths) {
    write_file(nas.remote_root() / "sub/file", "12345");
    const std::vector<std::string> paths{remote("sub/file"), remote("sub"), remote("nothing here")};
    const auto st = pipeline->stat(paths);
    ASSERT_TRUE(st[0] && st[1] && st[2]);
    EXPECT_TRUE(st[0]->exists && st[0]->is_regular);
    EXPECT_EQ(st[0]->size, 5u);
    EXPECT_TRUE(st[1]->exists && st[1]->is_directory);
    EXPECT_FALSE(st[2]->exists);
}

TEST_F(SftpPipelineTest, OddNamesArriveIntact) {
    const std::vector<std::string> names{"with space",    "quote'single", "quote\"double",  "new\nline",
                                         "-leading-dash", "--help",       "ünïcødé 日本語", "back\\slash"};
    std::vector<std::string> contents;
    for (const auto& n : names) contents.push_back("content of " + n);
    std::vector<SftpPut> puts;
    for (std::size_t i = 0; i < names.size(); ++i)
        puts.push_back(SftpPut{.path = remote(names[i]), .data = contents[i]});
    for (const auto& r : pipeline->put(puts)) ASSERT_TRUE(r) << r.error().message;
    std::vector<SftpRename> renames;
    for (const auto& n : names) renames.push_back(SftpRename{remote(n), remote(n + " renamed")});
    for (const auto& r : pipeline->posix_rename(renames)) ASSERT_TRUE(r) << r.error().message;
    for (const auto& n : names) EXPECT_EQ(read_file(nas.remote_root() / (n + " renamed")), "content of " + n) << n;
}

TEST_F(SftpPipelineTest, ALostConnectionFailsEveryFileAsUnavailable) {
    nas.stop();
    const std::string data = random_bytes(100 * 1024, 9);
    std::vector<SftpPut> puts;
    for (int i = 0; i < 20; ++i) puts.push_back(SftpPut{.path = remote(fmt::format("g{}", i)), .data = data});
    for (const auto& r : pipeline->put(puts)) {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ExitCode::unavailable) << r.error().message;
    }
    const std::vector<std::string> paths{remote("g0")};
    const auto again = pipeline->stat(paths);
    ASSERT_FALSE(again[0]);
    EXPECT_EQ(again[0].error().code, ExitCode::unavailable) << "a broken pipeline refuses further work";
}
