#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fixtures/temp_dir.hpp"
#include "nasops/db/store.hpp"
#include "nasops/db/transfer_stats.hpp"
#include "nasops/util/clock.hpp"
#include "sync/queue.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace nasops::sync;
using namespace std::chrono_literals;

namespace {

// 2026-11-22T04:00:00Z
const SystemTimePoint k_t0 = SystemTimePoint(std::chrono::sys_days(std::chrono::year(2026) / 11 / 22)) + 4h;

std::int64_t ns_of(SystemTimePoint t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

ScannedFile file(std::string rel, std::uint64_t size, SystemTimePoint mtime, std::uint64_t inode = 1) {
    return ScannedFile{std::move(rel), FileVersion{size, ns_of(mtime), inode}};
}

class SyncQueue : public ::testing::Test {
protected:
    SyncQueue()
        : store(Store::open(dir / "nasops.db", migrations()).value()),
          queue(store.db(), clock, QueuePolicy{.min_age = 30s, .max_retries = 2}) {}

    Registered add(const ScannedFile& f, const std::string& source = "/src") {
        EXPECT_TRUE(queue.begin_scan());
        auto r = queue.register_file(source, f);
        EXPECT_TRUE(queue.end_scan());
        EXPECT_TRUE(r) << r.error().message;
        return r.value_or(Registered::conflict);
    }
    FileRow row(const std::string& rel, const std::string& source = "/src") {
        auto r = queue.find(source, rel);
        EXPECT_TRUE(r && *r) << rel;
        return r && *r ? **r : FileRow{};
    }
    std::size_t eligible_count() {
        auto r = queue.eligible(0, 1000);
        EXPECT_TRUE(r);
        return r ? r->size() : 0;
    }

    nasops::testing::TempDir dir;
    ManualClock clock{k_t0};
    Store store;
    Queue queue;
};

}  // namespace

TEST_F(SyncQueue, SchemaKeepsTheColumnsOperatorsQuery) {
    add(file("a.mp4", 10, k_t0 - 1h));
    SQLite::Statement q(store.db(), "SELECT state, COUNT(*) FROM media_files GROUP BY state");
    ASSERT_TRUE(q.executeStep());
    EXPECT_EQ(q.getColumn(0).getString(), "pending");
    EXPECT_EQ(q.getColumn(1).getInt(), 1);
    // Every column the health tool and operators read exists under its name.
    SQLite::Statement cols(
        store.db(),
        "SELECT id, source, rel_path, size, mtime_ns, inode, state, attempts, last_error, sha256, "
        "discovered_at, stable_since, started_at, completed_at, bytes_sent, seconds, next_attempt_at, "
        "verified_by, removed_at, adopt FROM media_files");
    EXPECT_TRUE(cols.executeStep());
    EXPECT_THROW(store.db().exec("UPDATE media_files SET state = 'downloading'"), SQLite::Exception);
    EXPECT_EQ(store.schema_version("sync"), 7);
}

TEST_F(SyncQueue, TakingTheQueueInOrderReadsOnlyTheRowsTaken) {
    // Without an index that holds pending rows in id order, every fetch of
    // the next 256 would read and sort the whole backlog.
    for (int i = 0; i < 50; ++i) add(file(fmt::format("f{:02}.mp4", i), 10, k_t0 - 1h));
    SQLite::Statement plan(store.db(), "EXPLAIN QUERY PLAN " + Queue::eligible_query());
    std::string steps;
    while (plan.executeStep()) steps += plan.getColumn(3).getString() + "\n";
    EXPECT_THAT(steps, ::testing::HasSubstr("USING INDEX media_files_state (state=? AND rowid>?)"));
    EXPECT_THAT(steps, ::testing::Not(::testing::HasSubstr("TEMP B-TREE")));
}

TEST_F(SyncQueue, NewFileIsPendingAndAnOldOneIsStableAtOnce) {
    EXPECT_EQ(add(file("old.mp4", 10, k_t0 - 1h)), Registered::added);
    const auto r = row("old.mp4");
    EXPECT_EQ(r.state, FileState::pending);
    EXPECT_EQ(r.attempts, 0);
    EXPECT_EQ(r.discovered_at, rfc3339_millis(k_t0));
    EXPECT_EQ(r.stable_since, rfc3339_millis(k_t0 - 1h)) << "an mtime older than the first sighting counts";
    EXPECT_EQ(eligible_count(), 1u);
    EXPECT_EQ(add(file("old.mp4", 10, k_t0 - 1h)), Registered::unchanged);
}

TEST_F(SyncQueue, MinAgeHoldsAFileStillBeingWritten) {
    add(file("growing.mp4", 100, k_t0));
    EXPECT_EQ(eligible_count(), 0u);
    EXPECT_EQ(queue.count_waiting().value(), 1u);
    clock.advance(20s);
    // The camera wrote more: the clock of stability starts again.
    EXPECT_EQ(add(file("growing.mp4", 200, k_t0 + 20s)), Registered::changed);
    clock.advance(20s);  // 40s after first sight, 20s after the change
    EXPECT_EQ(eligible_count(), 0u);
    EXPECT_EQ(add(file("growing.mp4", 200, k_t0 + 20s)), Registered::unchanged);
    clock.advance(10s);  // 30s unchanged
    EXPECT_EQ(eligible_count(), 1u);
    EXPECT_EQ(queue.count_waiting().value(), 0u);
}

TEST_F(SyncQueue, StateMachineWithBackoffThenFailed) {
    add(file("a.mp4", 10, k_t0 - 1h));
    const auto id = row("a.mp4").id;

    ASSERT_TRUE(queue.mark_transferring(id));
    EXPECT_EQ(row("a.mp4").state, FileState::transferring);
    EXPECT_EQ(row("a.mp4").started_at, rfc3339_millis(k_t0));
    EXPECT_FALSE(queue.mark_transferring(id)) << "only a pending row can start";
    EXPECT_EQ(eligible_count(), 0u);

    auto first = queue.mark_failed_attempt(id, "connection reset", {.bytes_sent = 5, .seconds = 0.5});
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->state, FileState::pending);
    EXPECT_EQ(first->attempts, 1);
    EXPECT_EQ(first->last_error, "connection reset");
    EXPECT_EQ(first->next_attempt_at, rfc3339_millis(k_t0 + 30s));
    EXPECT_EQ(eligible_count(), 0u) << "in backoff";
    clock.advance(30s);
    EXPECT_EQ(eligible_count(), 1u);

    ASSERT_TRUE(queue.mark_transferring(id));
    auto second = queue.mark_failed_attempt(id, "timeout", {});
    ASSERT_TRUE(second);
    EXPECT_EQ(second->attempts, 2);
    EXPECT_EQ(second->next_attempt_at, rfc3339_millis(k_t0 + 30s + 60s)) << "the wait doubles";
    clock.advance(60s);

    ASSERT_TRUE(queue.mark_transferring(id));
    auto third = queue.mark_failed_attempt(id, "disk error", {});
    ASSERT_TRUE(third);
    EXPECT_EQ(third->state, FileState::failed) << "max_retries = 2: the third failure is final";
    EXPECT_EQ(third->attempts, 3);
    EXPECT_EQ(third->last_error, "disk error");
    EXPECT_FALSE(third->next_attempt_at);
    clock.advance(24h);
    EXPECT_EQ(eligible_count(), 0u);

    EXPECT_EQ(queue.retry_all_failed(DryRun::yes).value(), 1u);
    EXPECT_EQ(row("a.mp4").state, FileState::failed) << "a dry run changes nothing";
    EXPECT_EQ(queue.retry_all_failed().value(), 1u);
    EXPECT_EQ(row("a.mp4").state, FileState::pending);
    EXPECT_EQ(row("a.mp4").attempts, 0);
    ASSERT_TRUE(queue.mark_transferring(id));
    ASSERT_TRUE(queue.mark_completed(id, std::string(64, 'a'), {.bytes_sent = 10, .seconds = 1}));
    const auto done = row("a.mp4");
    EXPECT_EQ(done.state, FileState::completed);
    EXPECT_EQ(done.sha256, std::string(64, 'a'));
    EXPECT_EQ(done.bytes_sent, 10u);
    EXPECT_EQ(done.attempts, 1);
    EXPECT_FALSE(done.last_error);
}

TEST_F(SyncQueue, BackoffDoublesUpToItsCap) {
    const QueuePolicy p{.backoff_base = 30s, .backoff_max = 5min};
    EXPECT_EQ(backoff_delay(p, 1), 30s);
    EXPECT_EQ(backoff_delay(p, 2), 60s);
    EXPECT_EQ(backoff_delay(p, 4), 240s);
    EXPECT_EQ(backoff_delay(p, 5), 5min);
    EXPECT_EQ(backoff_delay(p, 60), 5min);
}

TEST_F(SyncQueue, ACompletedFileThatChangesIsQueuedAgain) {
    add(file("a.mp4", 10, k_t0 - 1h, 7));
    const auto id = row("a.mp4").id;
    ASSERT_TRUE(queue.mark_transferring(id));
    ASSERT_TRUE(queue.mark_completed(id, std::nullopt, {}));
    clock.advance(1h);
    EXPECT_EQ(add(file("a.mp4", 10, k_t0 - 1h, 8)), Registered::changed) << "a new inode is a new file";
    const auto r = row("a.mp4");
    EXPECT_EQ(r.state, FileState::pending);
    EXPECT_EQ(r.version.inode, 8u);
    EXPECT_EQ(r.attempts, 0);
    EXPECT_FALSE(r.started_at) << "a new version never resumes the old one's partial copy";
    EXPECT_FALSE(r.completed_at);
    EXPECT_EQ(r.discovered_at, rfc3339_millis(k_t0 + 1h));
}

TEST_F(SyncQueue, CrashLeftoversAreRecoveredKeepingResumeState) {
    add(file("a.mp4", 10, k_t0 - 1h));
    add(file("b.mp4", 10, k_t0 - 1h));
    ASSERT_TRUE(queue.mark_transferring(row("a.mp4").id));
    ASSERT_TRUE(queue.mark_transferring(row("b.mp4").id));
    // ... and the process is killed here.
    EXPECT_EQ(queue.recover_interrupted().value(), 2u);
    EXPECT_EQ(row("a.mp4").state, FileState::pending);
    EXPECT_EQ(row("a.mp4").attempts, 0) << "a crash is not the file's failed attempt";
    EXPECT_TRUE(row("a.mp4").started_at) << "kept: the partial copy may be resumed";
    EXPECT_EQ(eligible_count(), 2u);
    EXPECT_EQ(queue.recover_interrupted().value(), 0u);
}

// A batch of small files is never marked transferring (Worker::read_small):
// its attempts end straight from pending, counted as any other attempt.
TEST_F(SyncQueue, ASmallFileAttemptEndsStraightFromPending) {
    add(file("a.mp4", 10, k_t0 - 1h));
    add(file("b.mp4", 10, k_t0 - 1h));
    clock.advance(2s);
    const std::vector<Queue::Completion> done{{.id = row("a.mp4").id,
                                               .sha256 = std::string(64, 'a'),
                                               .attempt = {.bytes_sent = 10, .seconds = 0.01},
                                               .verified_by = "sha256",
                                               .verify_reason = std::nullopt}};
    ASSERT_TRUE(queue.mark_completed(done));
    const auto a = row("a.mp4");
    EXPECT_EQ(a.state, FileState::completed);
    EXPECT_EQ(a.attempts, 1);
    EXPECT_EQ(a.completed_at, rfc3339_millis(k_t0 + 2s));
    EXPECT_EQ(a.started_at, a.completed_at) << "a small file's start is taken as its end";
    EXPECT_EQ(store.db().execAndGet("SELECT COUNT(*) FROM sync_attempts WHERE outcome = 'completed'").getInt(), 1);

    const auto failed = queue.mark_failed_attempt(row("b.mp4").id, "connection reset", {});
    ASSERT_TRUE(failed) << failed.error().message;
    EXPECT_EQ(failed->state, FileState::pending);
    EXPECT_EQ(failed->attempts, 1);
    EXPECT_FALSE(failed->started_at);

    EXPECT_FALSE(queue.mark_completed(done)) << "a completed row is neither pending nor transferring";
    EXPECT_FALSE(queue.mark_failed_attempt(row("a.mp4").id, "late", {}));
}

TEST_F(SyncQueue, AFileHeldForRoomKeepsItsReasonWithoutAnAttempt) {
    add(file("held.mp4", 10, k_t0 - 1h));
    add(file("started.mp4", 10, k_t0 - 1h));
    const auto held = row("held.mp4").id;
    const auto started = row("started.mp4").id;
    ASSERT_TRUE(queue.release(held, "held: not enough room"));  // never started: the pre-check
    ASSERT_TRUE(queue.mark_transferring(started));
    ASSERT_TRUE(queue.release(started, "held: the NAS is full"));  // its write found the NAS full
    for (const auto& [name, why] :
         {std::pair{"held.mp4", "held: not enough room"}, std::pair{"started.mp4", "held: the NAS is full"}}) {
        const auto r = row(name);
        EXPECT_EQ(r.state, FileState::pending) << name;
        EXPECT_EQ(r.attempts, 0) << name;
        EXPECT_EQ(r.last_error.value_or(""), why) << name;
    }
    EXPECT_TRUE(row("started.mp4").started_at) << "its partial copy stays resumable";
    ASSERT_TRUE(queue.release(held));
    EXPECT_EQ(row("held.mp4").last_error.value_or(""), "held: not enough room") << "no reason given: kept";
}

TEST_F(SyncQueue, ReleaseAndChangeDuringTransfer) {
    add(file("a.mp4", 10, k_t0 - 1h));
    const auto id = row("a.mp4").id;
    ASSERT_TRUE(queue.mark_transferring(id));
    ASSERT_TRUE(queue.release(id));
    EXPECT_EQ(row("a.mp4").state, FileState::pending);
    EXPECT_EQ(row("a.mp4").attempts, 0);
    ASSERT_TRUE(queue.mark_transferring(id));
    ASSERT_TRUE(queue.mark_changed(id, FileVersion{20, ns_of(k_t0), 1}));
    const auto r = row("a.mp4");
    EXPECT_EQ(r.state, FileState::pending);
    EXPECT_EQ(r.version.size, 20u);
    EXPECT_FALSE(r.started_at);
    EXPECT_EQ(eligible_count(), 0u) << "changed just now: not stable";
}

TEST_F(SyncQueue, VanishedFileFailsWithoutRetries) {
    add(file("a.mp4", 10, k_t0 - 1h));
    const auto id = row("a.mp4").id;
    ASSERT_TRUE(queue.mark_transferring(id));
    ASSERT_TRUE(queue.mark_vanished(id, "the local file is gone"));
    EXPECT_EQ(row("a.mp4").state, FileState::failed);
    EXPECT_EQ(row("a.mp4").last_error, "the local file is gone");
}

TEST_F(SyncQueue, SamePathFromTwoSourcesIsAConflict) {
    EXPECT_EQ(add(file("a.mp4", 10, k_t0 - 1h), "/src1"), Registered::added);
    EXPECT_EQ(add(file("a.mp4", 10, k_t0 - 1h), "/src2"), Registered::conflict);
    EXPECT_EQ(add(file("b.mp4", 10, k_t0 - 1h), "/src2"), Registered::added);
    EXPECT_FALSE(queue.find("/src2", "a.mp4").value());
}

TEST_F(SyncQueue, RetryByLocalOrRelativePath) {
    for (const char* f : {"x/a.mp4", "x/b.mp4", "c.mp4"}) {
        add(file(f, 1, k_t0 - 1h));
        const auto id = row(f).id;
        ASSERT_TRUE(queue.mark_transferring(id));
        ASSERT_TRUE(queue.mark_vanished(id, "gone"));
    }
    const std::vector<std::string> names{"/src/x/a.mp4", "c.mp4", "not-there"};
    EXPECT_EQ(queue.retry_paths(names, DryRun::yes).value(), 2u);
    EXPECT_EQ(queue.retry_paths(names).value(), 2u);
    EXPECT_EQ(row("x/a.mp4").state, FileState::pending);
    EXPECT_EQ(row("c.mp4").state, FileState::pending);
    EXPECT_EQ(row("x/b.mp4").state, FileState::failed);
}

TEST_F(SyncQueue, ScanBatchesCommitAndRollBackOnError) {
    ASSERT_TRUE(queue.begin_scan());
    for (int i = 0; i < 9000; ++i)
        ASSERT_TRUE(queue.register_file("/src", file("f" + std::to_string(i), 1, k_t0 - 1h)));
    ASSERT_TRUE(queue.end_scan());
    EXPECT_EQ(queue.count_eligible().value().files, 9000u);
    EXPECT_EQ(queue.count_eligible().value().bytes, 9000u);
    auto page = queue.eligible(0, 100).value();
    ASSERT_EQ(page.size(), 100u);
    auto next = queue.eligible(page.back().id, 100).value();
    ASSERT_EQ(next.size(), 100u);
    EXPECT_GT(next.front().id, page.back().id);
    EXPECT_FALSE(queue.register_file("/src", file("outside-scan", 1, k_t0)));
}

TEST_F(SyncQueue, TheQueueRecordsWhatTheTransferFiguresRead) {
    add(file("done1.mp4", 1000, k_t0 - 3h));
    add(file("done2.mp4", 3000, k_t0 - 3h));
    add(file("bad.mp4", 50, k_t0 - 3h));
    clock.advance(1h);
    add(file("new.mp4", 700, k_t0));  // discovered at t0+1h

    // done1 completed 2 hours before "now", done2 and a failure within the last hour.
    ASSERT_TRUE(queue.mark_transferring(row("done1.mp4").id));
    ASSERT_TRUE(queue.mark_completed(row("done1.mp4").id, std::nullopt, {.bytes_sent = 1000, .seconds = 1}));
    clock.advance(2h);
    ASSERT_TRUE(queue.mark_transferring(row("done2.mp4").id));
    ASSERT_TRUE(queue.mark_completed(row("done2.mp4").id, std::nullopt, {.bytes_sent = 3000, .seconds = 2}));
    ASSERT_TRUE(queue.mark_transferring(row("bad.mp4").id));
    ASSERT_TRUE(queue.mark_failed_attempt(row("bad.mp4").id, "boom", {}));
    clock.advance(10min);

    // The figures nasops-sync status and nasops-health read (common's transfer_stats).
    const auto st = read_transfer_queue(store.db(), clock.now()).value();
    EXPECT_EQ(st.pending, 2u);  // new.mp4 and bad.mp4 (in backoff)
    EXPECT_EQ(st.transferring, 0u);
    EXPECT_EQ(st.completed, 2u);
    EXPECT_EQ(st.failed, 0u);
    EXPECT_EQ(st.bytes_queued, 750u);
    ASSERT_TRUE(st.oldest_pending_age);
    EXPECT_EQ(*st.oldest_pending_age, Duration(3h + 10min)) << "bad.mp4 was discovered at t0";
    EXPECT_EQ(st.last_success, rfc3339_millis(k_t0 + 3h));
    const auto last_hour = read_transfer_window(store.db(), clock.now() - 1h).value();
    EXPECT_EQ(last_hour.completed, 1u);
    EXPECT_EQ(last_hour.failed, 1u);
    EXPECT_DOUBLE_EQ(last_hour.success_ratio().value(), 0.5);
    EXPECT_DOUBLE_EQ(last_hour.bytes_per_second().value(), 1500.0);
    const auto last_day = read_transfer_window(store.db(), clock.now() - 24h).value();
    EXPECT_EQ(last_day.completed, 2u);
    EXPECT_DOUBLE_EQ(last_day.success_ratio().value(), 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(last_day.bytes_per_second().value(), 4000.0 / 3.0);
}

namespace {

// One row of the min-age rule's table: a media_files row relative to "now",
// and whether a run may upload it.
struct EligibilityCase {
    const char* name;
    FileState state;
    Duration stable_for;                     // now - stable_since
    std::optional<Duration> attempt_due_in;  // next_attempt_at - now
    bool eligible;
};

}  // namespace

TEST_F(SyncQueue, TheMinAgeRuleIsOneRuleInSqlAndInCpp) {
    // min_age is 30 s. Times are compared as millisecond texts, so 1 ms is the
    // smallest step either way of each edge.
    const EligibilityCase cases[] = {
        {"stable long ago", FileState::pending, 1h, std::nullopt, true},
        {"stable exactly min-age", FileState::pending, 30s, std::nullopt, true},
        {"1 ms short of min-age", FileState::pending, 30s - 1ms, std::nullopt, false},
        {"seen just now", FileState::pending, 0s, std::nullopt, false},
        {"next attempt due now", FileState::pending, 1h, 0s, true},
        {"next attempt was due", FileState::pending, 1h, -1min, true},
        {"in backoff 1 ms more", FileState::pending, 1h, 1ms, false},
        {"in backoff and not stable", FileState::pending, 1s, 1min, false},
        {"transferring", FileState::transferring, 1h, std::nullopt, false},
        {"completed", FileState::completed, 1h, std::nullopt, false},
        {"failed", FileState::failed, 1h, std::nullopt, false},
    };
    const auto now = k_t0;
    SQLite::Statement insert(store.db(),
                             "INSERT INTO media_files (source, rel_path, size, mtime_ns, inode, state, stable_since, "
                             "next_attempt_at) VALUES ('/src', ?, 1, 0, 1, ?, ?, ?)");
    std::uint64_t eligible = 0, waiting = 0;
    for (const auto& c : cases) {
        insert.reset();
        insert.bind(1, c.name);
        insert.bind(2, std::string(state_name(c.state)));
        insert.bind(3, rfc3339_millis(now - c.stable_for));
        if (c.attempt_due_in) {
            insert.bind(4, rfc3339_millis(now + *c.attempt_due_in));
        } else {
            insert.bind(4);
        }
        insert.exec();
        EXPECT_EQ(Eligibility(now, 30s)(row(c.name)), c.eligible) << c.name << ": the C++ predicate";
        (c.eligible ? eligible : waiting) += c.state == FileState::pending ? 1 : 0;
    }
    std::set<std::string> by_sql;
    const auto listed = queue.eligible(0, 100).value();
    for (const auto& r : listed) by_sql.insert(r.rel_path);
    for (const auto& c : cases) EXPECT_EQ(by_sql.contains(c.name), c.eligible) << c.name << ": the SQL";
    EXPECT_EQ(queue.count_eligible().value().files, eligible);
    EXPECT_EQ(queue.count_waiting().value(), waiting);
}

TEST_F(SyncQueue, AFileSeenNowIsStableExactlyWhenTheQueueWouldHandItOut) {
    // An mtime half a millisecond after the cutoff: recorded to the
    // millisecond, it is at the cutoff, so the scan's "stable now" must say
    // yes as eligible() does.
    for (const auto mtime : {k_t0 - 30s + 500us, k_t0 - 30s, k_t0 - 30s + 1ms, k_t0 - 29s}) {
        const auto rel = rfc3339_millis(mtime) + std::to_string(mtime.time_since_epoch().count());
        add(file(rel, 1, mtime));
        std::set<std::string> listed;
        const auto rows = queue.eligible(0, 100).value();
        for (const auto& r : rows) listed.insert(r.rel_path);
        EXPECT_EQ(queue.stable_now(row(rel).version), listed.contains(rel)) << rel;
        EXPECT_EQ(queue.eligibility()(row(rel)), listed.contains(rel)) << rel;
    }
}

namespace {

// A way a row goes back to pending as a file to upload from scratch.
struct ResetCase {
    const char* name;
    FileState before;  // the row's state when it happens
    std::function<void(Queue&, std::int64_t)> reset;
    std::optional<std::uint64_t> new_size;  // the version changes to this size
    std::optional<std::string> last_error;
    bool discovered_now;
};

}  // namespace

TEST_F(SyncQueue, EveryResetToPendingClearsTheSameColumns) {
    const ResetCase cases[] = {
        {"a scan finds a completed file changed", FileState::completed,
         [&](Queue& q, std::int64_t) {
             ASSERT_TRUE(q.begin_scan());
             ASSERT_TRUE(q.register_file("/src", file("a.mp4", 20, k_t0)));
             ASSERT_TRUE(q.end_scan());
         },
         20, std::nullopt, true},
        {"a file changes during its upload", FileState::transferring,
         [](Queue& q, std::int64_t id) {
             ASSERT_TRUE(q.mark_changed(id, FileVersion{20, ns_of(k_t0), 1}));
         },
         20, std::nullopt, false},
        {"verify requeues a bad copy", FileState::completed,
         [](Queue& q, std::int64_t id) { ASSERT_TRUE(q.requeue(id, "verify: bad copy")); }, std::nullopt,
         "verify: bad copy", true},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        store.db().exec("DELETE FROM sync_attempts; DELETE FROM media_files");
        clock.set(k_t0);
        add(file("a.mp4", 10, k_t0 - 1h));
        const auto id = row("a.mp4").id;
        // A first attempt failed, a second sent part of the file: every column is set.
        ASSERT_TRUE(queue.mark_transferring(id));
        ASSERT_TRUE(queue.mark_failed_attempt(id, "timeout", {.bytes_sent = 4, .seconds = 1}));
        clock.advance(1h);
        ASSERT_TRUE(queue.mark_transferring(id));
        if (c.before == FileState::completed) {
            ASSERT_TRUE(queue.mark_completed(id, std::string(64, 'a'), {.bytes_sent = 10, .seconds = 2}));
        }
        store.db().exec(
            "UPDATE media_files SET last_error = 'old', bytes_sent = 7, seconds = 3, verified_by = 'sha256', "
            "removed_at = '2029-01-01T00:00:00.000Z', "
            "sha256 = '" +
            std::string(64, 'b') + "', next_attempt_at = '2030-01-01T00:00:00.000Z'");
        const auto before = row("a.mp4");
        ASSERT_EQ(before.state, c.before);
        clock.advance(1h);

        c.reset(queue, id);

        const auto r = row("a.mp4");
        EXPECT_EQ(r.state, FileState::pending);
        EXPECT_EQ(r.attempts, 0);
        EXPECT_EQ(r.last_error, c.last_error);
        EXPECT_FALSE(r.next_attempt_at);
        EXPECT_FALSE(r.sha256);
        EXPECT_FALSE(r.started_at) << "a new version never resumes the old one's partial copy";
        EXPECT_FALSE(r.completed_at);
        EXPECT_FALSE(r.bytes_sent) << "the figures of an old attempt are not the new version's";
        EXPECT_FALSE(r.seconds);
        EXPECT_FALSE(r.verified_by) << "a new version is not verified";
        EXPECT_FALSE(r.removed_at);
        EXPECT_EQ(r.version.size, c.new_size.value_or(before.version.size));
        EXPECT_EQ(r.stable_since, c.new_size ? rfc3339_millis(k_t0) : before.stable_since);
        EXPECT_EQ(r.discovered_at, c.discovered_now ? rfc3339_millis(k_t0 + 2h) : before.discovered_at);
    }
}

TEST_F(SyncQueue, RemovableRowsAreCompletedVerifiedAndNotRemovedYet) {
    const std::pair<const char*, std::optional<std::string>> cases[] = {
        {"sha.mp4", "sha256"}, {"size.mp4", "size"}, {"none.mp4", "none"}, {"old.mp4", std::nullopt}};
    for (const auto& [name, verified_by] : cases) {
        add(file(name, 10, k_t0 - 1h));
        const auto id = row(name).id;
        ASSERT_TRUE(queue.mark_transferring(id));
        ASSERT_TRUE(queue.mark_completed(id, std::string(64, 'a'), {.bytes_sent = 10, .seconds = 1}, verified_by));
    }
    add(file("pending.mp4", 10, k_t0 - 1h));
    add(file("other.mp4", 10, k_t0 - 1h), "/other");

    auto removable = queue.removable("/src", 0, 100).value();
    std::set<std::string> names;
    for (const auto& r : removable) names.insert(r.rel_path);
    EXPECT_EQ(names, (std::set<std::string>{"sha.mp4", "size.mp4"}))
        << "never a copy verified by none, nor one whose verify is unknown (completed before schema v3)";
    EXPECT_EQ(row("sha.mp4").verified_by, "sha256");

    const std::int64_t first[] = {row("sha.mp4").id};
    ASSERT_TRUE(queue.mark_removed(first));
    EXPECT_EQ(row("sha.mp4").removed_at, rfc3339_millis(k_t0));
    removable = queue.removable("/src", 0, 100).value();
    ASSERT_EQ(removable.size(), 1u);
    EXPECT_EQ(removable[0].rel_path, "size.mp4");
    EXPECT_EQ(queue.removed_since("/src", k_t0).value(), std::vector<std::string>{"sha.mp4"});
    EXPECT_TRUE(queue.removed_since("/src", k_t0 + 1s).value().empty());

    EXPECT_EQ(add(file("sha.mp4", 10, k_t0 - 1h)), Registered::changed)
        << "a file back at the path of a removed one is a new file, even with the same size, mtime and inode";
    EXPECT_EQ(row("sha.mp4").state, FileState::pending);
    EXPECT_FALSE(row("sha.mp4").removed_at);
}

TEST_F(SyncQueue, RowsCompletedBeforeSchemaV3HaveNoVerifyAndAreNeverRemovable) {
    const auto path = dir / "old.db";
    {
        auto old = Store::open(path, migrations().first(2)).value();
        old.db().exec(
            "INSERT INTO media_files (source, rel_path, size, mtime_ns, inode, state, sha256, completed_at) "
            "VALUES ('/src', 'a.mp4', 10, 1, 1, 'completed', '" +
            std::string(64, 'a') + "', '2026-01-01T00:00:00.000Z')");
    }
    auto upgraded = Store::open(path, migrations()).value();
    EXPECT_EQ(upgraded.schema_version("sync"), 7);
    Queue q(upgraded.db(), clock, QueuePolicy{});
    EXPECT_TRUE(q.removable("/src", 0, 100).value().empty());
    EXPECT_FALSE(q.find("/src", "a.mp4").value()->verified_by);
}

TEST(SyncLocalPath, IsWhatFilesystemPathsJoinGives) {
    for (const auto& [source, rel] : {std::pair{"/src", "a/b.mp4"}, std::pair{"/media/", "x.mp4"}, std::pair{"/", "y"},
                                      std::pair{"relative/dir", "z z.mp4"}}) {
        FileRow row;
        row.source = source;
        row.rel_path = rel;
        EXPECT_EQ(local_path(row), (std::filesystem::path(source) / rel).string()) << source << " + " << rel;
    }
}
