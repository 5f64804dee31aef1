#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "fixtures/temp_dir.hpp"
#include "sync/scanner.hpp"

using namespace nasops;
using namespace nasops::sync;
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

std::map<std::string, FileVersion> scan_all(const fs::path& source, const Filter& filter = {},
                                            ScanStats* stats_out = nullptr) {
    std::map<std::string, FileVersion> found;
    auto stats = scan_source(source, filter, [&](const ScannedFile& f) -> Result<void> {
        EXPECT_FALSE(found.contains(f.rel_path)) << "visited twice: " << f.rel_path;
        found[f.rel_path] = f.version;
        return {};
    });
    EXPECT_TRUE(stats) << stats.error().message;
    if (stats && stats_out != nullptr) *stats_out = *stats;
    return found;
}

std::vector<std::string> names(const std::map<std::string, FileVersion>& found) {
    std::vector<std::string> out;
    for (const auto& [k, v] : found) out.push_back(k);
    return out;
}

}  // namespace

TEST(SyncScanner, FindsNestedFilesWithSizeMtimeAndInode) {
    nasops::testing::TempDir dir;
    write_file(dir / "src/a.mp4", "12345");
    write_file(dir / "src/cam1/2026/b.jpg", "xy");
    fs::create_directories(dir / "src/empty");
    ScanStats stats;
    auto found = scan_all(dir / "src", {}, &stats);
    EXPECT_EQ(names(found), (std::vector<std::string>{"a.mp4", "cam1/2026/b.jpg"}));
    struct stat st {};
    ASSERT_EQ(::stat((dir / "src/a.mp4").c_str(), &st), 0);
    EXPECT_EQ(found["a.mp4"], file_version(st));
    EXPECT_EQ(found["a.mp4"].size, 5u);
    EXPECT_EQ(stats.files, 2u);
    EXPECT_EQ(stats.folders, 4u);  // the source, cam1, cam1/2026 and empty
}

TEST(SyncScanner, NeverFollowsSymlinks) {
    nasops::testing::TempDir dir;
    write_file(dir / "outside/secret.txt", "secret");
    write_file(dir / "outside/deep/more.txt", "more");
    write_file(dir / "src/real.txt", "real");
    fs::create_symlink(dir / "outside/secret.txt", dir / "src/file-link");
    fs::create_symlink(dir / "outside", dir / "src/dir-link");
    fs::create_symlink("real.txt", dir / "src/inside-link");
    fs::create_symlink(dir / "src", dir / "src/loop");
    ScanStats stats;
    auto found = scan_all(dir / "src", {}, &stats);
    EXPECT_EQ(names(found), (std::vector<std::string>{"real.txt"}));
    EXPECT_EQ(stats.symlinks, 4u);
}

TEST(SyncScanner, SourceItselfMayBeALink) {
    nasops::testing::TempDir dir;
    write_file(dir / "real/x.txt", "x");
    fs::create_symlink(dir / "real", dir / "src");
    EXPECT_EQ(names(scan_all(dir / "src")), (std::vector<std::string>{"x.txt"}));
}

TEST(SyncScanner, SkipsOwnTempNamesAndSpecialFiles) {
    nasops::testing::TempDir dir;
    write_file(dir / "src/clip.mp4", "x");
    write_file(dir / "src" / temp_name_for("clip.mp4"), "partial");
    ASSERT_EQ(::mkfifo((dir / "src/fifo").c_str(), 0600), 0);
    ScanStats stats;
    auto found = scan_all(dir / "src", {}, &stats);
    EXPECT_EQ(names(found), (std::vector<std::string>{"clip.mp4"}));
    EXPECT_EQ(stats.temp_files, 1u);
    EXPECT_EQ(stats.other, 1u);
}

TEST(SyncScanner, TempNamesFitAndAreRecognised) {
    EXPECT_EQ(temp_name_for("clip.mp4"), ".nasops-clip.mp4.part");
    EXPECT_TRUE(is_temp_name(temp_name_for("clip.mp4")));
    const std::string long_name(250, 'n');
    const auto t = temp_name_for(long_name);
    EXPECT_LE(t.size(), 255u);
    EXPECT_TRUE(is_temp_name(t));
    EXPECT_EQ(t, temp_name_for(long_name));  // stable, so that a resume finds it
    EXPECT_NE(t, temp_name_for(std::string(250, 'm')));
    EXPECT_FALSE(is_temp_name("clip.mp4"));
    EXPECT_FALSE(is_temp_name(".nasops-.part"));
    EXPECT_FALSE(is_temp_name(".nasops-x.partial"));
}

TEST(SyncScanner, IncludeAndExcludeAreRsyncLikeAndExcludeWins) {
    nasops::testing::TempDir dir;
    for (const char* f :
         {"cam1/a.mp4", "cam1/a.jpg", "cam1/tmp/b.mp4", "cam2/c.mp4", "cam2/.thumbnails/c.jpg", "d.mp4", "notes.txt"})
        write_file(dir / "src" / f, "x");

    EXPECT_EQ(names(scan_all(dir / "src", Filter({"*.mp4"}, {}))),
              (std::vector<std::string>{"cam1/a.mp4", "cam1/tmp/b.mp4", "cam2/c.mp4", "d.mp4"}));
    EXPECT_EQ(names(scan_all(dir / "src", Filter({"*.mp4"}, {"tmp"}))),
              (std::vector<std::string>{"cam1/a.mp4", "cam2/c.mp4", "d.mp4"}));
    // A pattern with '/' matches the path from the source; a trailing '/' is ignored.
    EXPECT_EQ(names(scan_all(dir / "src", Filter({}, {"cam1/tmp/", ".thumbnails", "*.txt"}))),
              (std::vector<std::string>{"cam1/a.jpg", "cam1/a.mp4", "cam2/c.mp4", "d.mp4"}));
    // Exclude wins over include.
    EXPECT_EQ(names(scan_all(dir / "src", Filter({"cam2"}, {"*.jpg"}))), (std::vector<std::string>{"cam2/c.mp4"}));
    // '*' in a path pattern crosses folders.
    EXPECT_EQ(names(scan_all(dir / "src", Filter({"cam*/*.mp4"}, {}))),
              (std::vector<std::string>{"cam1/a.mp4", "cam1/tmp/b.mp4", "cam2/c.mp4"}));

    ScanStats stats;
    scan_all(dir / "src", Filter({}, {"cam1"}), &stats);
    EXPECT_EQ(stats.excluded, 1u) << "an excluded folder is pruned, not read";
}

TEST(SyncScanner, FilterDecisionsWithoutAWalk) {
    const Filter f({"*.mp4", "keep/*"}, {"*.part", "skip"});
    EXPECT_TRUE(f.takes_file("a/b.mp4"));
    EXPECT_TRUE(f.takes_file("keep/x.txt"));
    EXPECT_FALSE(f.takes_file("a/b.txt"));
    EXPECT_FALSE(f.takes_file("skip/b.mp4"));
    EXPECT_FALSE(f.takes_file("x.mp4.part"));
    EXPECT_TRUE(f.prunes_folder("a/skip"));
    EXPECT_FALSE(f.prunes_folder("keep"));
    EXPECT_TRUE(Filter().takes_file("anything"));
}

TEST(SyncScanner, OddNamesComeBackByteForByte) {
    nasops::testing::TempDir dir;
    const std::string deep_folder = [] {
        std::string p;
        for (int i = 0; i < 20; ++i) p += std::string(100, static_cast<char>('a' + i)) + "/";
        return p;
    }();
    const std::vector<std::string> odd{"with space.mp4",
                                       "quote'single.mp4",
                                       "quote\"double.mp4",
                                       "new\nline.mp4",
                                       "-leading-dash.mp4",
                                       "--help",
                                       "ünïcødé 日本語.mp4",
                                       "back\\slash.mp4",
                                       "tab\there.mp4",
                                       std::string(255, 'L'),
                                       deep_folder + "deep.mp4",
                                       "$(touch pwned).mp4",
                                       "star*.mp4"};
    for (const auto& name : odd) write_file(dir / "src" / name, name);
    auto found = scan_all(dir / "src");
    auto expected = odd;
    std::ranges::sort(expected);
    EXPECT_EQ(names(found), expected);
    SourceFiles sources;
    for (const auto& name : odd) {
        auto opened = sources.open(dir / "src", name);
        ASSERT_TRUE(opened) << opened.error().message;
        std::string content(name.size() + 1, '\0');
        EXPECT_EQ(::read(opened->fd.get(), content.data(), content.size()), static_cast<ssize_t>(name.size()));
        EXPECT_EQ(opened->st.st_size, static_cast<off_t>(name.size()));
    }
    EXPECT_FALSE(fs::exists(dir / "pwned"));
}

TEST(SyncScanner, OpenRefusesLinksAnywhereBelowTheSource) {
    nasops::testing::TempDir dir;
    write_file(dir / "outside/f.txt", "outside");
    write_file(dir / "src/real/f.txt", "inside");
    fs::create_symlink(dir / "outside", dir / "src/swapped");
    fs::create_symlink(dir / "outside/f.txt", dir / "src/link.txt");

    SourceFiles sources;
    EXPECT_TRUE(sources.open(dir / "src", "real/f.txt"));
    for (const char* bad : {"swapped/f.txt", "link.txt", "../outside/f.txt", "missing.txt", "real", "real/..", "real/",
                            "real/missing.txt"}) {
        auto opened = sources.open(dir / "src", bad);
        ASSERT_FALSE(opened) << bad;
        EXPECT_EQ(opened.error().code, ExitCode::no_input) << bad;
    }
}

TEST(SyncScanner, AFolderSwappedForALinkAfterItWasOpenedIsStillNotFollowed) {
    nasops::testing::TempDir dir;
    write_file(dir / "outside/f.txt", "outside");
    write_file(dir / "src/real/f.txt", "inside");
    SourceFiles sources;
    ASSERT_TRUE(sources.open(dir / "src", "real/f.txt"));
    // The folder kept open is the one opened without following links: a
    // link put in its place later is not followed either.
    fs::rename(dir / "src/real", dir / "src/real.old");
    fs::create_symlink(dir / "outside", dir / "src/real");
    auto again = sources.open(dir / "src", "real/f.txt");
    ASSERT_TRUE(again) << again.error().message;
    std::string content(16, '\0');
    content.resize(static_cast<std::size_t>(::read(again->fd.get(), content.data(), content.size())));
    EXPECT_EQ(content, "inside");
    // A fresh opener refuses the link.
    SourceFiles fresh;
    EXPECT_FALSE(fresh.open(dir / "src", "real/f.txt"));
}

TEST(SyncScanner, RemoveSourceOnlyTheVersionThatWasUploaded) {
    nasops::testing::TempDir dir;
    write_file(dir / "src/a.txt", "one");
    struct stat st {};
    ASSERT_EQ(::stat((dir / "src/a.txt").c_str(), &st), 0);
    const auto uploaded = file_version(st);
    write_file(dir / "src/a.txt", "changed after upload");
    SourceFiles sources;
    auto refused = sources.remove(dir / "src", "a.txt", uploaded);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ExitCode::data_error);
    EXPECT_TRUE(fs::exists(dir / "src/a.txt"));

    ASSERT_EQ(::stat((dir / "src/a.txt").c_str(), &st), 0);
    ASSERT_TRUE(sources.remove(dir / "src", "a.txt", file_version(st)));
    EXPECT_FALSE(fs::exists(dir / "src/a.txt"));
}

TEST(SyncScanner, MissingSourceIsNoInputAndUnreadableFolderIsCounted) {
    nasops::testing::TempDir dir;
    auto r = scan_source(dir / "nope", {}, [](const ScannedFile&) -> Result<void> { return {}; });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::no_input);
    EXPECT_NE(r.error().message.find("nope"), std::string::npos);

    write_file(dir / "src/ok.txt", "x");
    write_file(dir / "src/locked/hidden.txt", "x");
    ::chmod((dir / "src/locked").c_str(), 0);
    ScanStats stats;
    auto found = scan_all(dir / "src", {}, &stats);
    ::chmod((dir / "src/locked").c_str(), 0755);
    if (::geteuid() == 0) {
        // root reads the folder anyway: the walk must still be complete.
        EXPECT_EQ(found.size(), 2u);
    } else {
        EXPECT_EQ(names(found), (std::vector<std::string>{"ok.txt"}));
        EXPECT_EQ(stats.errors, 1u);
    }
}

TEST(SyncScanner, CallbackErrorStopsTheWalk) {
    nasops::testing::TempDir dir;
    for (int i = 0; i < 5; ++i) write_file(dir / "src" / std::to_string(i), "x");
    int calls = 0;
    auto r = scan_source(dir / "src", {}, [&](const ScannedFile&) -> Result<void> {
        if (++calls == 2) return fail(ExitCode::io_error, "database is gone");
        return {};
    });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "database is gone");
    EXPECT_EQ(calls, 2);
}
