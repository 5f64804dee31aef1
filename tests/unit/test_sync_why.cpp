// The story nasops-sync why tells, from facts built by hand: each state of a
// queue row and each reason the scan does not see a file; and look_at and
// locate on a real folder.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "fixtures/temp_dir.hpp"
#include "nasops/util/clock.hpp"
#include "sync/why.hpp"

using namespace nasops;
using namespace nasops::sync;
using nasops::testing::write_file;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

SystemTimePoint at(const char* text) {
    return *parse_rfc3339(text);
}

const SystemTimePoint k_now = at("2026-12-06T10:00:00.000Z");
const FileVersion k_version{.size = 1000, .mtime_ns = 1, .inode = 7};

WhyFacts queued(FileRow row, LocalFile::Kind local = LocalFile::Kind::regular) {
    row.source = "/srv/media";
    row.rel_path = "cam1/clip.mp4";
    row.version = k_version;
    WhyFacts facts{.path = "/srv/media/cam1/clip.mp4",
                   .where = Located{"/srv/media", "cam1/clip.mp4"},
                   .local = LocalFile{.kind = local, .version = k_version},
                   .row = std::move(row)};
    return facts;
}

// A regular file under /srv/media that the queue has no row for.
WhyFacts unqueued(const std::string& rel_path) {
    return WhyFacts{.path = "/srv/media/" + rel_path,
                    .where = Located{"/srv/media", rel_path},
                    .local = LocalFile{.kind = LocalFile::Kind::regular, .version = k_version}};
}

Explanation explained(const WhyFacts& facts) {
    return explain(facts, QueuePolicy{.min_age = std::chrono::minutes(1), .max_retries = 5}, k_now);
}

TEST(SyncWhy, ACompletedFileSaysWhenHowVerifiedAndThatTheLocalCopyIsHere) {
    auto story = explained(queued(
        FileRow{.state = FileState::completed, .completed_at = "2026-12-06T09:00:00.000Z", .verified_by = "sha256"}));
    EXPECT_EQ(story.finding, "completed");
    EXPECT_EQ(story.text,
              "completed 2026-12-06T09:00:00.000Z, 1000 B, verified by SHA-256; the local copy is still here");
    EXPECT_FALSE(story.unknown);
}

TEST(SyncWhy, ARemovedLocalCopySaysWhen) {
    auto story = explained(queued(FileRow{.state = FileState::completed,
                                          .completed_at = "2026-12-06T09:00:00.000Z",
                                          .verified_by = "size",
                                          .verify_reason = "--verify size",
                                          .removed_at = "2026-12-06T09:00:01.000Z"},
                                  LocalFile::Kind::missing));
    EXPECT_EQ(story.finding, "completed");
    EXPECT_THAT(story.text, HasSubstr("verified by size only: --verify size"));
    EXPECT_THAT(story.text, HasSubstr("the local copy was removed 2026-12-06T09:00:01.000Z"));
}

TEST(SyncWhy, ALocalFileChangedSinceItWasCompletedIsANewVersion) {
    auto facts = queued(FileRow{.state = FileState::completed, .completed_at = "2026-12-06T09:00:00.000Z"});
    facts.local.version.mtime_ns = 2;
    auto story = explained(facts);
    EXPECT_EQ(story.finding, "changed");
    EXPECT_THAT(story.text, HasSubstr("another modification time"));
    EXPECT_THAT(story.text, HasSubstr("the next run queues"));
}

TEST(SyncWhy, APendingFileYoungerThanMinAgeSaysFromWhenItIsUploadable) {
    auto story = explained(queued(FileRow{.state = FileState::pending, .stable_since = "2026-12-06T09:59:30.000Z"}));
    EXPECT_EQ(story.finding, "waiting_min_age");
    EXPECT_THAT(story.text, HasSubstr("unchanged since 2026-12-06T09:59:30.000Z"));
    EXPECT_THAT(story.text, HasSubstr("uploadable from 2026-12-06T10:00:30.000Z"));
}

TEST(SyncWhy, APendingFilePastMinAgeIsUploadedByTheNextRun) {
    auto story = explained(queued(FileRow{.state = FileState::pending, .stable_since = "2026-12-06T09:00:00.000Z"}));
    EXPECT_EQ(story.finding, "pending");
    EXPECT_THAT(story.text, HasSubstr("the next run uploads it"));
}

TEST(SyncWhy, AHeldFileGivesTheReasonTheWorkerRecorded) {
    auto story = explained(queued(FileRow{.state = FileState::pending,
                                          .last_error = "held: not enough room on /nas (10 B free, 1000 B needed)",
                                          .stable_since = "2026-12-06T09:00:00.000Z"}));
    EXPECT_EQ(story.finding, "held");
    EXPECT_THAT(story.text, HasSubstr("held for room on the NAS (not enough room on /nas (10 B free"));
    EXPECT_THAT(story.text, HasSubstr("no attempt"));
}

TEST(SyncWhy, AFailedAttemptSaysTheErrorAndTheNextTry) {
    auto story = explained(queued(FileRow{.state = FileState::pending,
                                          .attempts = 2,
                                          .last_error = "cannot write /nas/x: Permission denied",
                                          .stable_since = "2026-12-06T09:00:00.000Z",
                                          .next_attempt_at = "2026-12-06T10:01:00.000Z"}));
    EXPECT_EQ(story.finding, "retrying");
    EXPECT_THAT(story.text, HasSubstr("failed 2 times"));
    EXPECT_THAT(story.text, HasSubstr("last error: cannot write /nas/x: Permission denied"));
    EXPECT_THAT(story.text, HasSubstr("next try at 2026-12-06T10:01:00.000Z"));
}

TEST(SyncWhy, ARetryAlreadyDueIsTakenByTheNextRun) {
    auto story = explained(queued(FileRow{.state = FileState::pending,
                                          .attempts = 1,
                                          .last_error = "boom",
                                          .next_attempt_at = "2026-12-06T09:59:00.000Z"}));
    EXPECT_THAT(story.text, HasSubstr("next try at the next run (due since 2026-12-06T09:59:00.000Z)"));
}

TEST(SyncWhy, AFileFailedForGoodSaysSoAndHowToRequeueIt) {
    auto story = explained(queued(FileRow{.state = FileState::failed, .attempts = 6, .last_error = "boom"}));
    EXPECT_EQ(story.finding, "failed");
    EXPECT_THAT(story.text, HasSubstr("failed for good after 6 attempts (max retries 5)"));
    EXPECT_THAT(story.text, HasSubstr("nasops-sync retry"));
}

TEST(SyncWhy, AnExcludedFileNamesTheGlob) {
    auto facts = unqueued("a.tmp");
    facts.excluded_by = "*.tmp";
    auto story = explained(facts);
    EXPECT_EQ(story.finding, "excluded");
    EXPECT_EQ(story.text, "excluded by the glob \"*.tmp\": the scan leaves it out");
}

TEST(SyncWhy, AFileAnotherSourceHoldsThePathOfIsAConflict) {
    auto facts = unqueued("a.mp4");
    facts.taken_by = "/srv/cam2";
    auto story = explained(facts);
    EXPECT_EQ(story.finding, "conflict");
    EXPECT_THAT(story.text, HasSubstr("not queued: /srv/cam2 has a file at the same path, a.mp4, queued first"));
    EXPECT_THAT(story.text, HasSubstr("rename one of them"));
}

TEST(SyncWhy, AFileNoIncludeTakesNamesTheIncludes) {
    auto facts = unqueued("a.jpg");
    facts.not_included = true;
    facts.include = {"*.mp4", "*.mov"};
    auto story = explained(facts);
    EXPECT_EQ(story.finding, "not_included");
    EXPECT_THAT(story.text, HasSubstr("(\"*.mp4\", \"*.mov\")"));
}

TEST(SyncWhy, APathUnderNoSourceThatDoesNotExistIsUnknown) {
    WhyFacts facts{.path = "/elsewhere/x"};
    auto story = explained(facts);
    EXPECT_EQ(story.finding, "not_under_source");
    EXPECT_TRUE(story.unknown);
    facts.local.kind = LocalFile::Kind::regular;
    EXPECT_FALSE(explained(facts).unknown);
}

TEST(SyncWhy, AMissingFileTheQueueDoesNotKnowIsUnknown) {
    WhyFacts facts{.path = "/srv/media/gone", .where = Located{"/srv/media", "gone"}};
    auto story = explained(facts);
    EXPECT_EQ(story.finding, "missing");
    EXPECT_TRUE(story.unknown);
}

TEST(SyncWhy, LookAtTellsFilesLinksAndFoldersApart) {
    nasops::testing::TempDir dir("nasops-why");
    write_file(dir / "cam/clip.mp4", "x");
    fs::create_symlink("clip.mp4", dir / "cam/link.mp4");
    fs::create_directory_symlink("cam", dir / "camlink");
    EXPECT_EQ(look_at(dir.path(), "cam/clip.mp4").kind, LocalFile::Kind::regular);
    EXPECT_EQ(look_at(dir.path(), "cam/clip.mp4").version.size, 1u);
    EXPECT_EQ(look_at(dir.path(), "cam/link.mp4").kind, LocalFile::Kind::symlink);
    EXPECT_EQ(look_at(dir.path(), "camlink/clip.mp4").kind, LocalFile::Kind::link_in_path);
    EXPECT_EQ(look_at(dir.path(), "cam").kind, LocalFile::Kind::folder);
    EXPECT_EQ(look_at(dir.path(), "cam/none.mp4").kind, LocalFile::Kind::missing);
    EXPECT_EQ(look_at(dir.path(), "none/none.mp4").kind, LocalFile::Kind::missing);
}

TEST(SyncWhy, LocateTakesLocalPathsAndPathsRelativeToASource) {
    nasops::testing::TempDir dir("nasops-why");
    write_file(dir / "b/cam/clip.mp4", "x");
    const std::vector<fs::path> sources{dir / "a", dir / "b"};
    auto local = locate((dir / "b/cam/clip.mp4").string(), sources, nullptr);
    ASSERT_TRUE(local && *local);
    EXPECT_EQ((*local)->source, dir / "b");
    EXPECT_EQ((*local)->rel_path, "cam/clip.mp4");
    auto relative = locate("cam/clip.mp4", sources, nullptr);
    ASSERT_TRUE(relative && *relative);
    EXPECT_EQ((*relative)->source, dir / "b");
    auto nowhere = locate("/elsewhere/clip.mp4", sources, nullptr);
    ASSERT_TRUE(nowhere);
    EXPECT_FALSE(*nowhere);
}

}  // namespace
