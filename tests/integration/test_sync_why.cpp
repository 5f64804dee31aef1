// nasops-sync why against real runs to a local target: the story of a file
// in each state a run leaves it in, of files the scan does not see, and of
// paths it cannot know; read-only, so it answers while a run holds the lock.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fixtures/sync_harness.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/core/lock.hpp"

using nasops::testing::parse_records;
using nasops::testing::read_file;
using nasops::testing::write_file;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

class SyncWhy : public ::testing::Test, protected nasops::testing::SyncHarness {
protected:
    SyncWhy() : SyncHarness("nasops-sync-why") {
        fs::create_directories(nas);
        write_file(config, fmt::format("[paths]\nstate_dir = \"{0}/state\"\nlog_dir = \"{0}/log\"\nrun_dir = "
                                       "\"{0}/run\"\n\n[sync]\nsources = [\"{1}\"]\ntarget = \"{2}\"\n"
                                       "exclude = [\"*.tmp\"]\n",
                                       dir.path().string(), media.string(), nas.string()));
        ::chmod(config.c_str(), 0600);
    }

    // Runs why; its stdout, after checking its exit status.
    std::string why(std::vector<std::string> args, int expected_exit = 0) const {
        args.insert(args.begin(), "why");
        auto r = sync(std::move(args));
        EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
        return r.out;
    }

    fs::path nas = dir / "nas";
};

TEST_F(SyncWhy, ACompletedFileIsVerifiedBySha256ThenItsLocalCopyRemoved) {
    add("cam1/clip.mp4", "a clip");
    ASSERT_EQ(sync({"run"}).exit_code, 0);
    ASSERT_EQ(query("SELECT verified_by FROM media_files"), "sha256");
    const auto kept = why({"cam1/clip.mp4"});
    EXPECT_THAT(kept, HasSubstr("cam1/clip.mp4: completed "));
    EXPECT_THAT(kept, HasSubstr("6 B, verified by SHA-256; the local copy is still here"));

    ASSERT_EQ(sync({"run", "--remove-source"}).exit_code, 0);
    ASSERT_FALSE(fs::exists(media / "cam1/clip.mp4"));
    const auto removed = why({(media / "cam1/clip.mp4").string()});
    EXPECT_THAT(removed, HasSubstr("verified by SHA-256; the local copy was removed "));
    EXPECT_THAT(removed, HasSubstr("(--remove-source)"));
}

TEST_F(SyncWhy, ALocalFileChangedAfterItsUploadIsANewVersion) {
    add("clip.mp4", "first");
    ASSERT_EQ(sync({"run"}).exit_code, 0);
    add("clip.mp4", "the second, longer");
    const auto out = why({"clip.mp4"});
    EXPECT_THAT(out, HasSubstr("the local file changed since (now 18 B, another size): a new version, which the "
                               "next run queues"));
}

TEST_F(SyncWhy, AFreshFileWaitsForMinAgeUntilAGivenTime) {
    write_file(media / "fresh.mp4", "still being written");
    ASSERT_EQ(sync({"run", "--min-age", "1h"}).exit_code, 0);
    ASSERT_EQ(query("SELECT state FROM media_files"), "pending");
    const auto out = why({"fresh.mp4", "--min-age", "1h"});
    EXPECT_THAT(out, HasSubstr("fresh.mp4: pending, 19 B, waiting for min-age: unchanged since "));
    EXPECT_THAT(out, HasSubstr("uploadable from "));
    EXPECT_THAT(out, HasSubstr("(min-age 1h)"));
}

TEST_F(SyncWhy, AnExcludedFileNamesTheGlobOfTheConfig) {
    add("notes.tmp", "scratch");
    const auto out = why({"notes.tmp"});
    EXPECT_EQ(out, "notes.tmp: excluded by the glob \"*.tmp\": the scan leaves it out\n");
}

// Two sources with a file at the same relative path: the NAS holds one file
// per path, so the scan queues the first and why names it for the other.
TEST_F(SyncWhy, AFileAtAPathAnotherSourceHasNamesThatSource) {
    const auto second = dir / "media2";
    write_file(config, fmt::format("[paths]\nstate_dir = \"{0}/state\"\nlog_dir = \"{0}/log\"\nrun_dir = "
                                   "\"{0}/run\"\n\n[sync]\nsources = [\"{1}\", \"{2}\"]\ntarget = \"{3}\"\n",
                                   dir.path().string(), media.string(), second.string(), nas.string()));
    ::chmod(config.c_str(), 0600);
    add("cam/clip.mp4", "from the first");
    write_file(second / "cam/clip.mp4", "from the second");
    sync({"run"});
    ASSERT_EQ(query("SELECT source FROM media_files WHERE state = 'completed'"), media.string());
    const auto said = why({(second / "cam/clip.mp4").string()});
    EXPECT_THAT(said, HasSubstr("not queued: " + media.string() + " has a file at the same path, cam/clip.mp4"));
    EXPECT_THAT(why({(media / "cam/clip.mp4").string()}), HasSubstr("completed "));
}

TEST_F(SyncWhy, ASymlinkIsSkippedByTheScan) {
    add("real.mp4", "real");
    fs::create_symlink(media / "real.mp4", media / "link.mp4");
    const auto out = why({"link.mp4"});
    EXPECT_THAT(out, HasSubstr("link.mp4: a symbolic link: nasops never follows links inside a source"));
}

TEST_F(SyncWhy, AFileThatCannotBeWrittenHasItsErrorAndNextTry) {
    write_file(nas / "blocked", "a file where a folder must be");
    add("blocked/clip.txt", "cannot land");
    EXPECT_EQ(sync({"run"}).exit_code, 74);
    ASSERT_EQ(query("SELECT state || ' ' || attempts FROM media_files"), "pending 1");
    const auto out = why({"blocked/clip.txt"});
    EXPECT_THAT(out, HasSubstr("blocked/clip.txt: pending, 11 B, failed 1 time (given up after 6 failed attempts); "
                               "last error: "));
    EXPECT_THAT(out, HasSubstr("a file of that name is in the way"));
    EXPECT_THAT(out, HasSubstr("; next try at "));
}

TEST_F(SyncWhy, APathUnderNoSourceIsSaidSo) {
    const auto out = why({config.string()});
    EXPECT_EQ(out, config.string() + ": not under any source folder: no run looks at it\n");
}

TEST_F(SyncWhy, APathThatDoesNotExistExits66AndTheOthersAreStillExplained) {
    add("clip.mp4", "a clip");
    auto r = sync({"why", "none.mp4", "clip.mp4", (dir / "elsewhere").string()});
    EXPECT_EQ(r.exit_code, 66) << r.err;
    EXPECT_THAT(r.out, HasSubstr("none.mp4: not under any source folder, and it does not exist\n"));
    EXPECT_THAT(r.out, HasSubstr("clip.mp4: not queued yet, 6 B: the next run's scan finds it and may upload it at "
                                 "once\n"));
    EXPECT_THAT(r.err, HasSubstr("does not exist and the queue has no row for it"));

    auto under = sync({"why", (media / "gone.mp4").string()});
    EXPECT_EQ(under.exit_code, 66);
    EXPECT_THAT(under.out, HasSubstr("gone.mp4: does not exist, and the queue has no row for it\n"));
}

TEST_F(SyncWhy, JsonGivesOneWhyEventPerPath) {
    add("clip.mp4", "a clip");
    add("notes.tmp", "scratch");
    ASSERT_EQ(sync({"run"}).exit_code, 0);
    const auto records = parse_records(why({"--format", "json", "clip.mp4", "notes.tmp"}));
    ASSERT_EQ(records.size(), 2u);
    for (const auto& rec : records) {
        EXPECT_EQ(rec["kind"], "event");
        EXPECT_EQ(rec["name"], "why");
    }
    const auto& clip = records[0]["details"];
    EXPECT_EQ(clip["path"], (media / "clip.mp4").string());
    EXPECT_EQ(clip["finding"], "completed");
    EXPECT_EQ(clip["state"], "completed");
    EXPECT_EQ(clip["verified_by"], "sha256");
    EXPECT_THAT(clip["explanation"].get<std::string>(), HasSubstr("the local copy is still here"));
    const auto& notes = records[1]["details"];
    EXPECT_EQ(notes["finding"], "excluded");
    EXPECT_EQ(notes["excluded_by"], "*.tmp");
    EXPECT_EQ(notes["rel_path"], "notes.tmp");
    EXPECT_FALSE(notes.contains("state"));
}

TEST_F(SyncWhy, ItAnswersWhileARunHoldsTheLockAndChangesNothing) {
    add("clip.mp4", "a clip");
    ASSERT_EQ(sync({"run"}).exit_code, 0);
    const auto before = read_file(dir / "state/nasops.db");
    auto lock = nasops::LockFile::acquire(dir / "state/sync.lock", nasops::Duration{0});
    ASSERT_TRUE(lock) << lock.error().message;
    EXPECT_THAT(why({"clip.mp4"}), HasSubstr("completed"));
    EXPECT_EQ(read_file(dir / "state/nasops.db"), before);
}

}  // namespace
