// SftpPipeline (nasops/ssh/sftp_pipeline.hpp) against a real OpenSSH sftp-server.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures/sshd_fixture.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/ssh/sftp_pipeline.hpp"
#include "nasops/ssh/ssh_session.hpp"

using namespace nasops;
using nasops::testing::random_bytes;
using nasops::testing::read_file;
using nasops::testing::run_command;
using nasops::testing::SshdFixture;
using nasops::testing::TmpfsMount;
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

// ---- SftpUpload -----------------------------------------------------------------

namespace {

// Writes `data` through `upload` in pieces of the given sizes, then the rest.
void write_in_pieces(SftpUpload& upload, std::string_view data, std::span<const std::size_t> pieces) {
    for (const std::size_t piece : pieces) {
        const std::size_t n = std::min(piece, data.size());
        const auto written = upload.write(data.substr(0, n));
        ASSERT_TRUE(written) << written.error().message;
        data.remove_prefix(n);
    }
    const auto written = upload.write(data);
    ASSERT_TRUE(written) << written.error().message;
}

}  // namespace

TEST_F(SftpPipelineTest, AnUploadArrivesWholeInWritesOfTheServersLargestSize) {
    // OpenSSH tells its limit through limits@openssh.com: 255 KiB, not the 32 KiB every server takes.
    EXPECT_EQ(pipeline->write_size(), SftpPipeline::k_max_write_size);
    // Pieces of awkward sizes around the write size and the in-flight window, 12 MiB in all.
    const std::string data = random_bytes(12 * 1024 * 1024 + 12345, 42);
    const std::size_t pieces[] = {1, 255 * 1024 - 1, 255 * 1024 + 1, 1 << 20, SftpUpload::k_in_flight + 7, 65'536};
    auto upload = pipeline->open_upload(remote("upload.bin"), 0);
    ASSERT_TRUE(upload) << upload.error().message;
    write_in_pieces(*upload, data, pieces);
    EXPECT_EQ(upload->offset(), data.size());
    const auto closed = upload->close();
    ASSERT_TRUE(closed) << closed.error().message;
    EXPECT_TRUE(read_file(nas.remote_root() / "upload.bin") == data) << "uploaded bytes differ";
    struct stat st {};
    ASSERT_EQ(::stat((nas.remote_root() / "upload.bin").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);

    // The pipeline serves other requests afterwards.
    const std::vector<std::string> paths{remote("upload.bin")};
    const auto after = pipeline->stat(paths);
    ASSERT_TRUE(after[0]) << after[0].error().message;
    EXPECT_EQ(after[0]->size, data.size());
}

TEST_F(SftpPipelineTest, AnUploadReplacesAnExistingFileWhole) {
    write_file(nas.remote_root() / "again", std::string(100'000, 'o'));
    auto upload = pipeline->open_upload(remote("again"), 0);
    ASSERT_TRUE(upload) << upload.error().message;
    ASSERT_TRUE(upload->write("new"));
    ASSERT_TRUE(upload->close());
    EXPECT_EQ(read_file(nas.remote_root() / "again"), "new");
}

TEST_F(SftpPipelineTest, AResumedUploadKeepsItsPrefixAndDropsAnythingBeyond) {
    write_file(nas.remote_root() / "resume", "0123456789");
    auto upload = pipeline->open_upload(remote("resume"), 4);
    ASSERT_TRUE(upload) << upload.error().message;
    EXPECT_EQ(upload->offset(), 4u);
    ASSERT_TRUE(upload->write("abc"));
    ASSERT_TRUE(upload->close());
    EXPECT_EQ(read_file(nas.remote_root() / "resume"), "0123abc");

    // A large interrupted upload finished from where it stopped.
    const std::string data = random_bytes(9 * 1024 * 1024 + 17, 3);
    const std::size_t cut = 1'500'001;
    write_file(nas.remote_root() / "big", data.substr(0, cut));
    auto rest = pipeline->open_upload(remote("big"), cut);
    ASSERT_TRUE(rest) << rest.error().message;
    const std::size_t pieces[] = {1 << 20};
    write_in_pieces(*rest, std::string_view(data).substr(cut), pieces);
    ASSERT_TRUE(rest->close());
    EXPECT_TRUE(read_file(nas.remote_root() / "big") == data);

    // A partial shorter than the resume point cannot be resumed.
    const auto beyond = pipeline->open_upload(remote("resume"), 100);
    ASSERT_FALSE(beyond);
    EXPECT_EQ(beyond.error().code, ExitCode::data_error);
    EXPECT_NE(beyond.error().message.find(remote("resume")), std::string::npos) << beyond.error().message;
    EXPECT_EQ(read_file(nas.remote_root() / "resume"), "0123abc") << "a refused resume changes nothing";
}

TEST_F(SftpPipelineTest, AnUploadIntoAMissingFolderCannotBeCreated) {
    const auto nowhere = pipeline->open_upload(remote("no/such/folder/file"), 0);
    ASSERT_FALSE(nowhere);
    EXPECT_EQ(nowhere.error().code, ExitCode::cant_create);
    EXPECT_NE(nowhere.error().message.find(remote("no/such/folder/file")), std::string::npos)
        << nowhere.error().message;
}

TEST_F(SftpPipelineTest, AnAbandonedUploadKeepsAPrefixAndItsHandleIsClosed) {
    const std::string data = random_bytes(3 * 1024 * 1024, 8);
    {
        auto upload = pipeline->open_upload(remote("abandoned"), 0);
        ASSERT_TRUE(upload) << upload.error().message;
        ASSERT_TRUE(upload->write(data));
    }
    // The CLOSE goes out with the next request; the server then holds no handle on the file.
    const std::vector<std::string> paths{remote("abandoned")};
    ASSERT_TRUE(pipeline->stat(paths)[0]);
    const std::string landed = read_file(nas.remote_root() / "abandoned");
    EXPECT_TRUE(landed == data.substr(0, landed.size())) << "what landed is a prefix of what was written";
    const auto handles = run_command(
        {"sh", "-c",
         "ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c -- " + (nas.remote_root() / "abandoned").string() + " || true"});
    EXPECT_EQ(handles.out, "0\n") << "a process still holds the abandoned file open";
}

TEST_F(SftpPipelineTest, AWriteTheNasRefusesFailsTheUploadNamingTheFile) {
    TmpfsMount full(nas.remote_root() / "small", "1m");
    auto upload = pipeline->open_upload(remote("small/too-big"), 0);
    ASSERT_TRUE(upload) << upload.error().message;
    const std::string data = random_bytes(3 * 1024 * 1024, 9);
    auto written = upload->write(data);
    if (written) written = upload->close();
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().code, ExitCode::io_error) << written.error().message;
    EXPECT_NE(written.error().message.find(remote("small/too-big")), std::string::npos) << written.error().message;
    EXPECT_NE(written.error().message.find("SFTP status"), std::string::npos) << written.error().message;
    // The session is still good for other files.
    const std::vector<std::string> paths{remote("small")};
    const auto st = pipeline->stat(paths);
    ASSERT_TRUE(st[0]) << st[0].error().message;
    EXPECT_TRUE(st[0]->is_directory);
}

TEST_F(SftpPipelineTest, ALostConnectionFailsTheUploadAsUnavailableNamingTheFile) {
    auto upload = pipeline->open_upload(remote("interrupted.bin"), 0);
    ASSERT_TRUE(upload) << upload.error().message;
    const std::string chunk = random_bytes(2 * 1024 * 1024, 5);
    ASSERT_TRUE(upload->write(chunk));
    nas.stop();
    auto written = upload->write(chunk);
    if (written) written = upload->close();
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().code, ExitCode::unavailable) << written.error().message;
    EXPECT_NE(written.error().message.find(remote("interrupted.bin")), std::string::npos) << written.error().message;
    // What reached the disk is a prefix of what was sent.
    const std::string landed = read_file(nas.remote_root() / "interrupted.bin");
    EXPECT_TRUE(landed == (chunk + chunk).substr(0, landed.size()));
}

TEST_F(SftpPipelineTest, AServerThatRefusesToTellItsLimitsGetsWritesEveryServerTakes) {
    pipeline.reset();
    session.reset();
    nas.deny_sftp_requests("limits");
    auto connected = SshSession::connect(nas.options());
    ASSERT_TRUE(connected) << connected.error().message << nas.log();
    auto opened = connected->sftp_pipeline();
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(opened->write_size(), SftpPipeline::k_write_size);

    const std::string data = random_bytes(3 * 1024 * 1024 + 5, 12);
    {
        auto upload = opened->open_upload(remote("small-writes.bin"), 0);
        ASSERT_TRUE(upload) << upload.error().message;
        const std::size_t pieces[] = {1 << 20};
        write_in_pieces(*upload, data, pieces);
        const auto closed = upload->close();
        ASSERT_TRUE(closed) << closed.error().message;
    }
    EXPECT_TRUE(read_file(nas.remote_root() / "small-writes.bin") == data);
}
