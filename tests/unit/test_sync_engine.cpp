#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/db/store.hpp"
#include "nasops/db/transfer_stats.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/clock.hpp"
#include "nasops/util/sha256.hpp"
#include "sync/empty_folders.hpp"
#include "sync/engine.hpp"
#include "sync/local_target.hpp"
#include "sync/plan.hpp"
#include "sync/schema.hpp"
#include "sync/source_removal.hpp"
#include "sync/verify_command.hpp"

using namespace nasops;
using namespace nasops::sync;
using namespace std::chrono_literals;
using nasops::testing::random_bytes;
using nasops::testing::read_file;
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

// A LocalTarget whose behaviour a test can bend: fail writes after some
// bytes, lie about hashes or free space, refuse mtimes, count calls.
class TestTarget final : public Target {
public:
    explicit TestTarget(fs::path root) : m_local(std::move(root)) {}

    std::function<std::optional<Error>(std::uint64_t written)> on_write;  // an Error fails that write
    std::optional<std::uint64_t> space;                                   // reported free space
    std::function<std::optional<std::uint64_t>()> space_now;              // when set, read at each ask instead
    bool cannot_hash = false;
    std::function<std::string(std::string)> corrupt_digest;  // applied to each digest
    bool refuse_mtime = false;
    std::function<void()> on_start;  // when a worker begins: after the scan, before any upload
    std::atomic<int> hash_calls{0};
    std::atomic<std::uint64_t> bytes_written{0};

    std::string describe() const override { return m_local.describe(); }
    std::string location(std::string_view rel) const override { return m_local.location(rel); }
    std::vector<Result<TargetEntry>> stat(std::span<const std::string> rels) override { return m_local.stat(rels); }
    Result<void> make_dirs(std::string_view rel) override {
        if (rel.empty() && on_start) on_start();  // a worker makes the root first
        return m_local.make_dirs(rel);
    }
    Result<std::unique_ptr<TargetFile>> open_write(std::string_view rel, std::uint64_t offset) override {
        auto inner = m_local.open_write(rel, offset);
        if (!inner) return std::unexpected(inner.error());
        return std::unique_ptr<TargetFile>(new File(*this, std::move(*inner)));
    }
    // Through open_write, so that on_write and refuse_mtime bend small files too.
    std::vector<Result<bool>> write_files(std::span<const WholeFile> files) override {
        return write_each(*this, files);
    }
    std::vector<Result<void>> rename(std::span<const RenamePair> renames) override { return m_local.rename(renames); }
    Result<void> remove(std::string_view rel) override { return m_local.remove(rel); }
    Result<void> commit() override { return m_local.commit(); }
    Result<std::uint64_t> available_space(std::string_view rel) override {
        if (const auto now = space_now ? space_now() : space) return *now;
        return m_local.available_space(rel);
    }
    Result<PendingDigests> sha256(std::span<const std::string> rels) override {
        ++hash_calls;
        if (cannot_hash) return PendingDigests([] { return Result<std::optional<Digests>>(std::optional<Digests>{}); });
        TRY_ASSIGN(auto pending, m_local.sha256(rels));
        return PendingDigests([this, pending = std::move(pending)]() mutable {
            auto d = pending.collect();
            if (d && *d && corrupt_digest) {
                for (auto& x : **d)
                    if (x) x = corrupt_digest(*x);
            }
            return d;
        });
    }

private:
    class File final : public TargetFile {
    public:
        File(TestTarget& owner, std::unique_ptr<TargetFile> inner) : m_owner(owner), m_inner(std::move(inner)) {}
        Result<void> write(std::string_view data) override {
            if (m_owner.on_write) {
                if (auto e = m_owner.on_write(m_owner.bytes_written.load())) return std::unexpected(*e);
            }
            m_owner.bytes_written += data.size();
            return m_inner->write(data);
        }
        Result<bool> finish(std::int64_t mtime_ns) override {
            TRY_ASSIGN(const bool set, m_inner->finish(mtime_ns));
            return set && !m_owner.refuse_mtime;
        }

    private:
        TestTarget& m_owner;
        std::unique_ptr<TargetFile> m_inner;
    };

    LocalTarget m_local;
};

class SyncEngine : public ::testing::Test {
protected:
    SyncEngine() : store(Store::open(dir / "nasops.db", migrations()).value()) {
        fs::create_directories(source);
        fs::create_directories(nas);
        // Files written by the test are an hour old on this clock: stable.
        clock.set(std::chrono::system_clock::now() + 1h);
    }

    Queue make_queue(QueuePolicy policy = {.min_age = 30s, .max_retries = 3}) {
        return Queue(store.db(), clock, policy);
    }

    RunOptions options() const {
        RunOptions o;
        o.sources = {source};
        o.jobs = 2;
        return o;
    }

    // Each call to the factory hands out the same TestTarget's behaviour through a fresh wrapper.
    TargetFactory factory() {
        return [this]() -> Result<std::unique_ptr<Target>> {
            auto t = std::make_unique<TestTarget>(nas);
            t->on_write = on_write;
            t->space = space;
            t->space_now = [this] { return space; };
            t->cannot_hash = cannot_hash;
            t->corrupt_digest = corrupt_digest;
            t->refuse_mtime = refuse_mtime;
            t->on_start = on_start;
            return std::unique_ptr<Target>(std::move(t));
        };
    }

    RunSummary run(Queue& queue, const RunOptions& o, RecordWriter* records = nullptr,
                   const std::atomic<int>* interrupted = nullptr) {
        auto r = run_sync(o, queue, clock, factory(), RunOutputs{.records = records, .interrupted = interrupted});
        EXPECT_TRUE(r) << r.error().message;
        return r.value_or(RunSummary{});
    }

    FileRow row(Queue& queue, const std::string& rel) {
        auto r = queue.find(source.string(), rel);
        EXPECT_TRUE(r && *r) << rel;
        return r && *r ? **r : FileRow{};
    }

    nasops::testing::TempDir dir;
    fs::path source = dir / "media";
    fs::path nas = dir / "nas";
    ManualClock clock;
    Store store;

    std::function<std::optional<Error>(std::uint64_t)> on_write;
    std::optional<std::uint64_t> space;  // read at each ask: a write (on_write) may fill the target mid-run
    bool cannot_hash = false;
    std::function<std::string(std::string)> corrupt_digest;
    bool refuse_mtime = false;
    std::function<void()> on_start;
};

bool has_temp_files(const fs::path& root) {
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (is_temp_name(e.path().filename().string())) return true;
    return false;
}

}  // namespace

TEST_F(SyncEngine, FullRunUploadsVerifiesAndKeepsMtime) {
    const auto big = random_bytes(3 * 1024 * 1024 + 5, 1);
    write_file(source / "cam1/2026/clip.mp4", big);
    write_file(source / "still.jpg", "jpeg");
    write_file(source / "empty.txt", "");
    auto queue = make_queue();
    const auto s = run(queue, options());
    EXPECT_EQ(s.added, 3u);
    EXPECT_EQ(s.uploaded, 3u);
    EXPECT_EQ(s.bytes_uploaded, big.size() + 4);
    EXPECT_EQ(s.bytes_sent, big.size() + 4);
    EXPECT_EQ(s.exit_code(), ExitCode::ok);
    EXPECT_EQ(read_file(nas / "cam1/2026/clip.mp4"), big);
    EXPECT_EQ(read_file(nas / "still.jpg"), "jpeg");
    EXPECT_TRUE(fs::exists(nas / "empty.txt"));
    EXPECT_FALSE(has_temp_files(nas));
    struct stat a {
    }, b{};
    ASSERT_EQ(::stat((source / "cam1/2026/clip.mp4").c_str(), &a), 0);
    ASSERT_EQ(::stat((nas / "cam1/2026/clip.mp4").c_str(), &b), 0);
    EXPECT_EQ(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
    EXPECT_EQ(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
    const auto r = row(queue, "cam1/2026/clip.mp4");
    EXPECT_EQ(r.state, FileState::completed);
    EXPECT_EQ(r.sha256, sha256_hex(big));
    EXPECT_EQ(r.bytes_sent, big.size());
    EXPECT_TRUE(fs::exists(source / "still.jpg")) << "nothing is removed without --remove-source";

    const auto again = run(queue, options());
    EXPECT_EQ(again.added + again.changed, 0u);
    EXPECT_EQ(again.uploaded, 0u);
    EXPECT_EQ(again.bytes_sent, 0u);
    EXPECT_EQ(again.exit_code(), ExitCode::ok);
}

TEST_F(SyncEngine, RecordsOneTransferRecordPerStateChange) {
    write_file(source / "a.mp4", "aaaa");
    auto queue = make_queue();
    std::ostringstream out;
    RecordWriter records(out, "sync", "test-host", clock);
    run(queue, options(), &records);
    std::istringstream in(out.str());
    RecordReader reader(in);
    std::vector<std::string> states;
    while (auto item = reader.next()) {
        ASSERT_TRUE(std::holds_alternative<Record>(*item)) << std::get<ReadProblem>(*item).message;
        const auto& rec = std::get<Record>(*item);
        EXPECT_EQ(rec.kind, RecordKind::transfer);
        EXPECT_EQ(rec.object["path"], (source / "a.mp4").string());
        states.push_back(rec.object["state"]);
        if (rec.object["state"] == "completed") {
            EXPECT_EQ(rec.object["bytes"], 4);
            EXPECT_EQ(rec.object["attempt"], 1);
            EXPECT_EQ(rec.object["sha256"], sha256_hex("aaaa"));
            EXPECT_TRUE(rec.object["bytes_per_second"].is_number());
            EXPECT_FALSE(rec.object.contains("mbps"));
        }
    }
    EXPECT_EQ(states, (std::vector<std::string>{"pending", "transferring", "completed"}));
}

TEST_F(SyncEngine, MinAgeLeavesAFreshFileForALaterRun) {
    write_file(source / "fresh.mp4", "still being written");
    clock.set(std::chrono::system_clock::now());
    auto queue = make_queue();
    auto s = run(queue, options());
    EXPECT_EQ(s.uploaded, 0u);
    EXPECT_EQ(s.waiting, 1u);
    EXPECT_FALSE(fs::exists(nas / "fresh.mp4"));
    clock.advance(31s);
    s = run(queue, options());
    EXPECT_EQ(s.uploaded, 1u);
    EXPECT_TRUE(fs::exists(nas / "fresh.mp4"));
}

TEST_F(SyncEngine, InterruptedUploadResumesFromThePartialCopy) {
    const auto big = random_bytes(5 * 1024 * 1024, 2);
    write_file(source / "big.mp4", big);
    auto queue = make_queue();
    // The NAS goes away after 2 MiB.
    on_write = [](std::uint64_t written) -> std::optional<Error> {
        if (written >= 2u * 1024 * 1024) return Error{"connection lost", ExitCode::unavailable};
        return std::nullopt;
    };
    auto first = run(queue, options());
    EXPECT_TRUE(first.target_unavailable);
    EXPECT_EQ(first.exit_code(), ExitCode::unavailable);
    EXPECT_EQ(first.uploaded, 0u);
    EXPECT_EQ(row(queue, "big.mp4").state, FileState::pending);
    EXPECT_EQ(row(queue, "big.mp4").attempts, 0) << "a lost NAS is not the file's failure";
    EXPECT_FALSE(fs::exists(nas / "big.mp4")) << "never a partial file under the final name";
    const auto partial = nas / temp_name_for("big.mp4");
    ASSERT_TRUE(fs::exists(partial));
    EXPECT_EQ(fs::file_size(partial), 2u * 1024 * 1024);

    on_write = nullptr;
    auto second = run(queue, options());
    EXPECT_EQ(second.uploaded, 1u);
    EXPECT_EQ(second.bytes_sent, big.size() - 2u * 1024 * 1024) << "only the rest is sent";
    EXPECT_EQ(read_file(nas / "big.mp4"), big);
    EXPECT_EQ(row(queue, "big.mp4").sha256, sha256_hex(big)) << "the hash covers the whole file";
    EXPECT_FALSE(fs::exists(partial));
}

TEST_F(SyncEngine, KilledRunIsRecoveredAndResumed) {
    const auto big = random_bytes(3 * 1024 * 1024, 3);
    write_file(source / "big.mp4", big);
    auto queue = make_queue();
    // What a kill -9 leaves: the row in transferring, a partial temp copy.
    ASSERT_TRUE(queue.begin_scan());
    struct stat st {};
    ASSERT_EQ(::stat((source / "big.mp4").c_str(), &st), 0);
    ASSERT_TRUE(queue.register_file(source.string(), ScannedFile{"big.mp4", file_version(st)}));
    ASSERT_TRUE(queue.end_scan());
    ASSERT_TRUE(queue.mark_transferring(row(queue, "big.mp4").id));
    write_file(nas / temp_name_for("big.mp4"), big.substr(0, 1000000));

    const auto s = run(queue, options());
    EXPECT_EQ(s.recovered, 1u);
    EXPECT_EQ(s.uploaded, 1u);
    EXPECT_EQ(s.bytes_sent, big.size() - 1000000);
    EXPECT_EQ(read_file(nas / "big.mp4"), big);
}

TEST_F(SyncEngine, APartialCopyOfAnotherVersionIsNotResumed) {
    write_file(source / "a.mp4", "new content of the file");
    write_file(nas / temp_name_for("a.mp4"), "old partial");  // no started_at in the queue: unknown origin
    auto queue = make_queue();
    const auto s = run(queue, options());
    EXPECT_EQ(s.uploaded, 1u);
    EXPECT_EQ(s.bytes_sent, 23u);
    EXPECT_EQ(read_file(nas / "a.mp4"), "new content of the file");
}

TEST_F(SyncEngine, VerifyMismatchIsAFailedAttemptNeverCompleted) {
    write_file(source / "a.mp4", "payload");
    auto queue = make_queue();
    corrupt_digest = [](std::string d) {
        d[0] = d[0] == '0' ? '1' : '0';
        return d;
    };
    auto opts = options();
    opts.remove_source = RemoveSource::yes;
    const auto s = run(queue, opts);
    EXPECT_EQ(s.uploaded, 0u);
    EXPECT_EQ(s.failed_attempts, 1u);
    EXPECT_EQ(s.exit_code(), ExitCode::io_error);
    const auto r = row(queue, "a.mp4");
    EXPECT_EQ(r.state, FileState::pending);
    EXPECT_EQ(r.attempts, 1);
    ASSERT_TRUE(r.last_error);
    EXPECT_NE(r.last_error->find("has SHA-256"), std::string::npos) << *r.last_error;
    EXPECT_TRUE(r.next_attempt_at);
    EXPECT_FALSE(fs::exists(nas / "a.mp4"));
    EXPECT_FALSE(has_temp_files(nas)) << "a copy that failed verification is removed";
    EXPECT_TRUE(fs::exists(source / "a.mp4")) << "never removed without a verified copy";
}

TEST_F(SyncEngine, RemoveSourceAfterAVerifiedCopyOnly) {
    write_file(source / "a.mp4", "payload");
    write_file(source / "sub/b.mp4", "payload b");
    auto queue = make_queue();
    auto opts = options();
    opts.remove_source = RemoveSource::yes;
    const auto s = run(queue, opts);
    EXPECT_EQ(s.uploaded, 2u);
    EXPECT_EQ(s.removed, 2u);
    EXPECT_FALSE(fs::exists(source / "a.mp4"));
    EXPECT_FALSE(fs::exists(source / "sub/b.mp4"));
    EXPECT_TRUE(fs::is_directory(source / "sub")) << "folders are left alone";
    EXPECT_EQ(read_file(nas / "sub/b.mp4"), "payload b");
    EXPECT_EQ(row(queue, "a.mp4").state, FileState::completed);
}

TEST_F(SyncEngine, RemoveSourceRemovesWhatEarlierRunsCompletedAndVerified) {
    write_file(source / "a.mp4", "payload a");
    write_file(source / "sub/b.mp4", "payload b");
    write_file(source / "keep/c.mp4", "payload c");
    auto queue = make_queue();
    auto s = run(queue, options());
    ASSERT_EQ(s.uploaded, 3u);
    EXPECT_EQ(s.removed, 0u);
    EXPECT_TRUE(fs::exists(source / "a.mp4"));
    EXPECT_EQ(row(queue, "a.mp4").verified_by, "sha256");

    auto opts = options();
    opts.remove_source = RemoveSource::yes;
    opts.filter = Filter({}, {"keep"});
    s = run(queue, opts);
    EXPECT_EQ(s.uploaded, 0u) << "nothing is sent again";
    EXPECT_EQ(s.removed, 2u);
    EXPECT_FALSE(fs::exists(source / "a.mp4"));
    EXPECT_FALSE(fs::exists(source / "sub/b.mp4"));
    EXPECT_TRUE(fs::exists(source / "keep/c.mp4")) << "a file the filter leaves out is not the run's to remove";
    EXPECT_EQ(read_file(nas / "sub/b.mp4"), "payload b");
    EXPECT_TRUE(row(queue, "a.mp4").removed_at);

    s = run(queue, opts);
    EXPECT_EQ(s.removed, 0u) << "a removed file is not looked for again";
}

// A small file that changed between the scan and its upload is found changed
// when it is opened, and queued again as its new version.
TEST_F(SyncEngine, ASmallFileThatGrewAfterTheScanIsQueuedAgainNotSentAsItWas) {
    write_file(source / "a.mp4", "payload");
    on_start = [this] { write_file(source / "a.mp4", "payload and more"); };
    auto queue = make_queue();
    auto opts = options();
    opts.jobs = 1;
    const auto s = run(queue, opts);
    EXPECT_EQ(s.uploaded, 0u);
    EXPECT_FALSE(fs::exists(nas / "a.mp4"));
    EXPECT_FALSE(has_temp_files(nas));
    const auto r = row(queue, "a.mp4");
    EXPECT_EQ(r.state, FileState::pending);
    EXPECT_EQ(r.version.size, std::string("payload and more").size()) << "queued again as its new version";
    EXPECT_EQ(r.attempts, 0);
}

TEST_F(SyncEngine, RemoveSourceNeverRemovesAFileChangedSinceItsUpload) {
    write_file(source / "grown.mp4", "payload");
    write_file(source / "touched.mp4", "payload");
    write_file(source / "replaced.mp4", "payload");
    auto queue = make_queue();
    ASSERT_EQ(run(queue, options()).uploaded, 3u);

    // Changed after the upload: bigger, same size with another mtime, and
    // replaced by another file (another inode) with the same size and mtime.
    write_file(source / "grown.mp4", "payload and more");
    struct stat st {};
    ASSERT_EQ(::stat((source / "touched.mp4").c_str(), &st), 0);
    const timespec later[2] = {st.st_atim, {st.st_mtim.tv_sec + 5, st.st_mtim.tv_nsec}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (source / "touched.mp4").c_str(), later, 0), 0);
    ASSERT_EQ(::stat((source / "replaced.mp4").c_str(), &st), 0);
    write_file(source / "replacement", "PAYLOAD");
    const timespec same[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, (source / "replacement").c_str(), same, 0), 0);
    fs::rename(source / "replacement", source / "replaced.mp4");

    // Just changed, as the camera still writing it would leave it: min-age holds them.
    clock.set(std::chrono::system_clock::now());
    auto opts = options();
    opts.remove_source = RemoveSource::yes;
    auto s = run(queue, opts);
    EXPECT_EQ(s.removed, 0u);
    EXPECT_EQ(s.changed, 3u);
    for (const auto* name : {"grown.mp4", "touched.mp4", "replaced.mp4"}) {
        EXPECT_TRUE(fs::exists(source / name)) << name;
        EXPECT_EQ(row(queue, name).state, FileState::pending) << name;
    }

    // Once stable, the new versions are uploaded, verified, and only then removed.
    clock.set(std::chrono::system_clock::now() + 1h);
    s = run(queue, opts);
    EXPECT_EQ(s.uploaded, 3u);
    EXPECT_EQ(s.removed, 3u);
    EXPECT_EQ(read_file(nas / "grown.mp4"), "payload and more");
    EXPECT_EQ(read_file(nas / "replaced.mp4"), "PAYLOAD");
}

TEST_F(SyncEngine, RemovalChecksTheFileAgainJustBeforeTheUnlink) {
    write_file(source / "a.mp4", "payload");
    write_file(source / "b.mp4", "payload");
    auto queue = make_queue();
    ASSERT_EQ(run(queue, options()).uploaded, 2u);
    auto rows = queue.removable(source.string(), 0, 10).value();
    ASSERT_EQ(rows.size(), 2u);
    write_file(source / "a.mp4", "payload, changed after the scan");
    auto unverified = rows[0].rel_path == "b.mp4" ? rows[0] : rows[1];
    ASSERT_EQ(unverified.rel_path, "b.mp4");
    unverified.verified_by = "none";
    SourceFiles files;
    LogBatch log(logger());
    EXPECT_EQ(remove_local_copies(std::span(&unverified, 1), files, queue, log).value(), 0u);
    EXPECT_TRUE(fs::exists(source / "b.mp4")) << "never a copy verified by none";
    EXPECT_EQ(remove_local_copies(rows, files, queue, log).value(), 1u);
    EXPECT_TRUE(fs::exists(source / "a.mp4")) << "changed since its upload";
    EXPECT_FALSE(fs::exists(source / "b.mp4"));
    EXPECT_FALSE(row(queue, "a.mp4").removed_at);
}

TEST_F(SyncEngine, AFileNotFoundIsNotMarkedRemovedSoItsCardMayComeBack) {
    write_file(source / "card/a.mp4", "payload");
    auto queue = make_queue();
    ASSERT_EQ(run(queue, options()).uploaded, 1u);
    fs::rename(source / "card", dir / "card-away");  // the card is out of its slot
    auto opts = options();
    opts.remove_source = RemoveSource::yes;
    auto s = run(queue, opts);
    EXPECT_EQ(s.removed, 0u);
    EXPECT_FALSE(row(queue, "card/a.mp4").removed_at);

    fs::rename(dir / "card-away", source / "card");  // back, the same file (inode, mtime)
    s = run(queue, opts);
    EXPECT_EQ(s.changed, 0u) << "known again, not a new file to upload";
    EXPECT_EQ(s.uploaded, 0u);
    EXPECT_EQ(s.removed, 1u);
    EXPECT_FALSE(fs::exists(source / "card/a.mp4"));
}

TEST_F(SyncEngine, DeleteEmptySrcDirsRemovesEmptiedFoldersButNeverTheSource) {
    write_file(source / "day1/cam/a.mp4", "payload a");
    write_file(source / "day2/b.mp4", "payload b");
    write_file(source / "day2/.hidden", "not ours");
    write_file(source / "day3/c.mp4", "payload c");
    write_file(source / "day3" / temp_name_for("d.mp4"), "a partial file");
    fs::create_directories(source / "old-empty/deeper");
    fs::create_directories(source / "excluded/empty");
    auto queue = make_queue();
    auto opts = options();
    opts.remove_source = RemoveSource::yes;
    opts.delete_empty_src_dirs = DeleteEmptySrcDirs::yes;
    opts.filter = Filter({}, {"excluded", ".hidden"});
    const auto s = run(queue, opts);
    EXPECT_EQ(s.removed, 3u);
    EXPECT_FALSE(fs::exists(source / "day1")) << "emptied by this run: removed, deepest first";
    EXPECT_TRUE(fs::exists(source / "day2/.hidden")) << "a folder that holds anything is kept";
    EXPECT_TRUE(fs::exists(source / "day3" / temp_name_for("d.mp4")));
    EXPECT_FALSE(fs::exists(source / "old-empty")) << "empty, and unchanged for min-age on the run's clock";
    EXPECT_TRUE(fs::is_directory(source / "excluded/empty")) << "a folder the filter leaves out is not the run's";
    EXPECT_TRUE(fs::is_directory(source)) << "never the source itself";
    EXPECT_EQ(s.folders_removed, 4u);
}

TEST(SyncEmptyFolders, AnEmptyFolderIsRemovedOnceUnchangedForMinAgeOrEmptiedByTheRun) {
    nasops::testing::TempDir dir;
    const fs::path source = dir / "media";
    fs::create_directories(source / "old/older");
    fs::create_directories(source / "new");
    fs::create_directories(source / "emptied");
    const auto now = std::chrono::system_clock::now();
    for (const auto* d : {"old/older", "old"}) {
        const timespec hour_ago[2] = {{::time(nullptr) - 3600, 0}, {::time(nullptr) - 3600, 0}};
        ASSERT_EQ(::utimensat(AT_FDCWD, (source / d).c_str(), hour_ago, 0), 0);
    }
    const Filter filter;
    const std::set<std::string> emptied{"emptied"};
    const EmptyFolderRules rules{.filter = filter, .changed_after = now - 30s, .emptied = emptied};
    EXPECT_TRUE(may_remove_folder(rules, "old", now - 1h));
    EXPECT_FALSE(may_remove_folder(rules, "new", now - 1s));
    EXPECT_TRUE(may_remove_folder(rules, "emptied", now));

    const auto counts = remove_empty_folders(source, rules);
    EXPECT_EQ(counts.removed, 3u);
    EXPECT_EQ(counts.errors, 0u);
    EXPECT_FALSE(fs::exists(source / "old"));
    EXPECT_FALSE(fs::exists(source / "emptied"));
    EXPECT_TRUE(fs::is_directory(source / "new"));
    EXPECT_TRUE(fs::is_directory(source));

    // A source that is empty itself stays.
    fs::remove(source / "new");
    EXPECT_EQ(
        remove_empty_folders(source, EmptyFolderRules{.filter = filter, .changed_after = now + 1h, .emptied = emptied})
            .removed,
        0u);
    EXPECT_TRUE(fs::is_directory(source));
}

namespace {

ino_t inode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_ino;
}

}  // namespace

TEST_F(SyncEngine, AfterALostDatabaseWhatTheTargetHasIsAdoptedNotSent) {
    const auto big = random_bytes(3 * 1024 * 1024 + 1, 7);
    for (const auto& [name, content] :
         std::vector<std::pair<std::string, std::string>>{{"same.mp4", "same bytes"},
                                                          {"cam/big.mp4", big},
                                                          {"other-size.mp4", "local"},
                                                          {"other-content.mp4", "local bytes"},
                                                          {"missing.mp4", "not on the target"}}) {
        write_file(source / name, content);
    }
    write_file(nas / "same.mp4", "same bytes");
    write_file(nas / "cam/big.mp4", big);
    write_file(nas / "other-size.mp4", "a longer remote copy");
    write_file(nas / "other-content.mp4", "LOCAL BYTES");
    const auto same_inode = inode_of(nas / "same.mp4");
    const auto big_inode = inode_of(nas / "cam/big.mp4");

    auto queue = make_queue();
    auto opts = options();
    opts.adopt = Adopt::yes;
    std::ostringstream out;
    RecordWriter records(out, "sync", "host", clock);
    const auto s = run(queue, opts, &records);
    EXPECT_EQ(s.adopted, 2u);
    EXPECT_EQ(s.uploaded, 3u);
    EXPECT_EQ(s.bytes_sent, 5u + 11u + 17u) << "only the files the target lacks, or has otherwise, are sent";
    EXPECT_EQ(s.exit_code(), ExitCode::ok);
    EXPECT_EQ(inode_of(nas / "same.mp4"), same_inode) << "an adopted copy is left as it is";
    EXPECT_EQ(inode_of(nas / "cam/big.mp4"), big_inode);
    EXPECT_EQ(read_file(nas / "other-size.mp4"), "local");
    EXPECT_EQ(read_file(nas / "other-content.mp4"), "local bytes") << "the same size is not enough when hashing";
    EXPECT_EQ(read_file(nas / "missing.mp4"), "not on the target");
    EXPECT_FALSE(has_temp_files(nas));

    const auto adopted = row(queue, "same.mp4");
    EXPECT_EQ(adopted.state, FileState::completed);
    EXPECT_EQ(adopted.verified_by, "sha256");
    EXPECT_EQ(adopted.sha256, sha256_hex("same bytes"));
    EXPECT_EQ(adopted.bytes_sent, 0u);
    EXPECT_EQ(adopted.attempts, 0) << "an adoption is not an attempt";
    EXPECT_FALSE(adopted.adopt);
    EXPECT_FALSE(row(queue, "missing.mp4").adopt);

    int adopted_records = 0;
    for (const auto& r : nasops::testing::parse_records(out.str())) {
        if (!r.contains("adopted")) continue;
        ++adopted_records;
        EXPECT_EQ(r["state"], "completed");
        EXPECT_EQ(r["bytes_sent"], 0);
        EXPECT_EQ(r["verified_by"], "sha256");
        EXPECT_FALSE(r.contains("attempt"));
    }
    EXPECT_EQ(adopted_records, 2);
}

TEST_F(SyncEngine, AdoptionComparesWhatTheVerifyModeCompares) {
    write_file(source / "a.mp4", "local bytes");
    write_file(nas / "a.mp4", "LOCAL BYTES");  // the same size, other bytes
    auto opts = options();
    opts.adopt = Adopt::yes;

    opts.verify = Verify::size;
    auto queue = make_queue();
    auto s = run(queue, opts);
    EXPECT_EQ(s.adopted, 1u) << "--verify size adopts by size";
    EXPECT_EQ(row(queue, "a.mp4").verified_by, "size");
    EXPECT_EQ(row(queue, "a.mp4").verify_reason, "--verify size");
    EXPECT_EQ(read_file(nas / "a.mp4"), "LOCAL BYTES");

    store.db().exec("DELETE FROM media_files");
    cannot_hash = true;
    opts.verify = Verify::automatic;
    s = run(queue, opts);
    EXPECT_EQ(s.adopted, 1u) << "auto on a target that cannot hash falls back to the size";

    store.db().exec("DELETE FROM media_files");
    opts.verify = Verify::sha256;
    s = run(queue, opts);
    EXPECT_EQ(s.adopted, 0u) << "--verify sha256 adopts nothing without a hash";
    EXPECT_EQ(s.failed_attempts, 1u) << "and the upload then fails its verify as any would";
}

TEST_F(SyncEngine, FilesToAdoptKeepTheirMarkUntilARunReachesThem) {
    write_file(source / "a.mp4", "payload");
    write_file(nas / "a.mp4", "payload");
    auto queue = make_queue();
    auto opts = options();
    opts.adopt = Adopt::yes;
    opts.max_duration = 0s;  // stops before any file is started
    auto s = run(queue, opts);
    EXPECT_EQ(s.adopted + s.uploaded, 0u);
    EXPECT_TRUE(row(queue, "a.mp4").adopt);

    auto next = options();  // the database is not new any more
    next.remove_source = RemoveSource::yes;
    s = run(queue, next);
    EXPECT_EQ(s.adopted, 1u);
    EXPECT_EQ(s.bytes_sent, 0u);
    EXPECT_EQ(s.removed, 1u) << "an adopted, verified file is removed as an uploaded one";
    EXPECT_FALSE(fs::exists(source / "a.mp4"));
}

TEST_F(SyncEngine, SizeVerifyWhenTheTargetCannotHash) {
    write_file(source / "a.mp4", "payload");
    cannot_hash = true;
    auto queue = make_queue();
    auto s = run(queue, options());
    EXPECT_EQ(s.uploaded, 1u);
    EXPECT_EQ(row(queue, "a.mp4").sha256, sha256_hex("payload")) << "the local hash is still recorded";

    write_file(source / "b.mp4", "payload");
    auto strict = options();
    strict.verify = Verify::sha256;
    s = run(queue, strict);
    EXPECT_EQ(s.uploaded, 0u);
    EXPECT_EQ(s.failed_attempts, 1u);
    EXPECT_NE(row(queue, "b.mp4").last_error.value_or("").find("cannot compute SHA-256"), std::string::npos);
}

TEST_F(SyncEngine, VerifyIsBatched) {
    for (int i = 0; i < 40; ++i) write_file(source / ("f" + std::to_string(i)), std::to_string(i));
    auto queue = make_queue();
    auto opts = options();
    opts.jobs = 1;
    opts.verify_batch = 16;
    std::atomic<int> calls{0};
    TargetFactory counting = [&]() -> Result<std::unique_ptr<Target>> {
        struct Counting final : Target {
            LocalTarget local;
            std::atomic<int>& calls;
            Counting(fs::path root, std::atomic<int>& c) : local(std::move(root)), calls(c) {}
            std::string describe() const override { return local.describe(); }
            std::string location(std::string_view r) const override { return local.location(r); }
            std::vector<Result<TargetEntry>> stat(std::span<const std::string> r) override { return local.stat(r); }
            Result<void> make_dirs(std::string_view r) override { return local.make_dirs(r); }
            Result<std::unique_ptr<TargetFile>> open_write(std::string_view r, std::uint64_t o) override {
                return local.open_write(r, o);
            }
            std::vector<Result<bool>> write_files(std::span<const WholeFile> f) override {
                return local.write_files(f);
            }
            std::vector<Result<void>> rename(std::span<const RenamePair> r) override { return local.rename(r); }
            Result<void> remove(std::string_view r) override { return local.remove(r); }
            Result<void> commit() override { return local.commit(); }
            Result<std::uint64_t> available_space(std::string_view rel) override { return local.available_space(rel); }
            Result<PendingDigests> sha256(std::span<const std::string> r) override {
                ++calls;
                return local.sha256(r);
            }
        };
        return std::unique_ptr<Target>(new Counting(nas, calls));
    };
    auto s = run_sync(opts, queue, clock, counting, {});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->uploaded, 40u);
    EXPECT_EQ(calls.load(), 3) << "40 files in batches of 16: three hash requests, not forty";
}

TEST_F(SyncEngine, AFileThatWouldNotFitStaysPending) {
    write_file(source / "big.mp4", random_bytes(500000, 4));
    write_file(source / "small.txt", "x");
    space = 200000;
    auto queue = make_queue();
    auto opts = options();
    opts.jobs = 1;
    const auto s = run(queue, opts);
    EXPECT_EQ(s.held_no_space, 1u);
    EXPECT_EQ(s.uploaded, 1u);
    EXPECT_EQ(s.exit_code(), ExitCode::cant_create);
    EXPECT_EQ(row(queue, "big.mp4").state, FileState::pending);
    EXPECT_EQ(row(queue, "big.mp4").attempts, 0);
    EXPECT_FALSE(fs::exists(nas / "big.mp4"));
    EXPECT_FALSE(fs::exists(nas / temp_name_for("big.mp4"))) << "nothing was written for it";
    EXPECT_TRUE(fs::exists(nas / "small.txt"));
}

// The target fills during an upload (the pre-check saw room): the file is
// held, no attempt counted, its partial copy kept, no other file started;
// with room again, the next run resumes it.
TEST_F(SyncEngine, AWriteThatFindsTheTargetFullHoldsTheFileAndTheNextRunResumesIt) {
    const auto one = random_bytes(3 * 1024 * 1024, 31);
    const auto two = random_bytes(3 * 1024 * 1024, 32);
    write_file(source / "one.mp4", one);
    write_file(source / "two.mp4", two);
    space = std::uint64_t{100} << 20;
    on_write = [this](std::uint64_t written) -> std::optional<Error> {
        if (written < (std::uint64_t{1} << 20)) return std::nullopt;
        space = std::uint64_t{4096};
        return Error{"cannot write the copy: No space left on device", ExitCode::io_error};
    };
    auto queue = make_queue();
    auto opts = options();
    opts.jobs = 1;
    const auto s = run(queue, opts);
    EXPECT_EQ(s.held_no_space, 2u);
    EXPECT_EQ(s.failed_attempts, 0u);
    EXPECT_EQ(s.exit_code(), ExitCode::cant_create);
    for (const auto* name : {"one.mp4", "two.mp4"}) {
        const auto r = row(queue, name);
        EXPECT_EQ(r.state, FileState::pending) << name;
        EXPECT_EQ(r.attempts, 0) << name;
        EXPECT_TRUE(r.last_error.value_or("").starts_with("held: ")) << name << ": " << r.last_error.value_or("");
    }
    int parts = 0;
    for (const auto& e : fs::directory_iterator(nas)) {
        if (!is_temp_name(e.path().filename().string())) continue;
        ++parts;
        EXPECT_EQ(e.file_size(), std::uint64_t{1} << 20) << e.path();
    }
    EXPECT_EQ(parts, 1) << "the other file was not started";

    on_write = nullptr;
    space = std::uint64_t{100} << 20;
    const auto again = run(queue, opts);
    EXPECT_EQ(again.uploaded, 2u);
    EXPECT_EQ(again.exit_code(), ExitCode::ok);
    EXPECT_EQ(again.bytes_sent, one.size() + two.size() - (std::uint64_t{1} << 20)) << "one resumed its copy";
    EXPECT_EQ(read_file(nas / "one.mp4"), one);
    EXPECT_EQ(read_file(nas / "two.mp4"), two);
    EXPECT_FALSE(has_temp_files(nas));
}

TEST_F(SyncEngine, RetriesBackOffThenFail) {
    write_file(source / "a.mp4", "payload");
    on_write = [](std::uint64_t) -> std::optional<Error> { return Error{"write refused", ExitCode::io_error}; };
    auto queue = make_queue({.min_age = 30s, .max_retries = 1});
    auto s = run(queue, options());
    EXPECT_EQ(s.failed_attempts, 1u);
    EXPECT_EQ(row(queue, "a.mp4").state, FileState::pending);
    s = run(queue, options());
    EXPECT_EQ(s.failed_attempts, 0u) << "still in backoff: not tried again at once";
    clock.advance(31s);
    s = run(queue, options());
    EXPECT_EQ(s.failed_attempts, 1u);
    EXPECT_EQ(s.gave_up, 1u);
    const auto r = row(queue, "a.mp4");
    EXPECT_EQ(r.state, FileState::failed);
    EXPECT_EQ(r.attempts, 2);
    EXPECT_NE(r.last_error.value_or("").find("write refused"), std::string::npos);
}

TEST_F(SyncEngine, VanishedSourceFileFails) {
    write_file(source / "a.mp4", "payload");
    auto queue = make_queue();
    ASSERT_TRUE(queue.begin_scan());
    struct stat st {};
    ASSERT_EQ(::stat((source / "a.mp4").c_str(), &st), 0);
    ASSERT_TRUE(queue.register_file(source.string(), ScannedFile{"a.mp4", file_version(st)}));
    ASSERT_TRUE(queue.end_scan());
    fs::remove(source / "a.mp4");
    auto opts = options();
    opts.sources = {};  // no scan: upload what is queued
    opts.sources.push_back(dir / "empty-source");
    fs::create_directories(dir / "empty-source");
    const auto s = run(queue, opts);
    EXPECT_EQ(s.gave_up, 1u);
    EXPECT_EQ(row(queue, "a.mp4").state, FileState::failed);
    EXPECT_NE(row(queue, "a.mp4").last_error.value_or("").find("gone"), std::string::npos);
}

TEST_F(SyncEngine, ManyFilesWithParallelJobs) {
    for (int i = 0; i < 300; ++i)
        write_file(source / ("d" + std::to_string(i % 7)) / ("f" + std::to_string(i)), std::to_string(i));
    auto queue = make_queue();
    auto opts = options();
    opts.jobs = 4;
    const auto s = run(queue, opts);
    EXPECT_EQ(s.uploaded, 300u);
    for (int i = 0; i < 300; i += 37)
        EXPECT_EQ(read_file(nas / ("d" + std::to_string(i % 7)) / ("f" + std::to_string(i))), std::to_string(i));
    EXPECT_EQ(read_transfer_queue(store.db(), clock.now()).value().completed, 300u);
}

TEST_F(SyncEngine, OneFailureInABatchOfSmallFilesFailsThatFileOnly) {
    for (int i = 0; i < 10; ++i) write_file(source / ("f" + std::to_string(i)), random_bytes(100, i));
    auto writes = std::make_shared<std::atomic<int>>(0);
    on_write = [writes](std::uint64_t) -> std::optional<Error> {
        if (++*writes == 3) return Error{"write refused", ExitCode::io_error};
        return std::nullopt;
    };
    auto queue = make_queue();
    auto opts = options();
    opts.jobs = 1;
    const auto s = run(queue, opts);
    EXPECT_EQ(s.uploaded, 9u);
    EXPECT_EQ(s.failed_attempts, 1u);
    int pending = 0;
    for (int i = 0; i < 10; ++i) {
        const auto name = "f" + std::to_string(i);
        const auto r = row(queue, name);
        if (r.state == FileState::pending) {
            ++pending;
            EXPECT_EQ(r.attempts, 1);
            EXPECT_NE(r.last_error.value_or("").find("write refused"), std::string::npos);
            EXPECT_FALSE(fs::exists(nas / name)) << "a failed copy never takes its final name";
        } else {
            EXPECT_EQ(r.state, FileState::completed) << name;
            EXPECT_EQ(read_file(nas / name), random_bytes(100, i)) << name;
        }
    }
    EXPECT_EQ(pending, 1);
}

TEST_F(SyncEngine, LimitsAndInterruptStopANewFileFromStarting) {
    for (int i = 0; i < 5; ++i) write_file(source / ("f" + std::to_string(i)), random_bytes(1000, i));
    auto queue = make_queue();
    auto opts = options();
    opts.jobs = 1;
    opts.max_bytes = 2500;
    auto s = run(queue, opts);
    EXPECT_EQ(s.uploaded, 3u) << "a file is started while less than max-bytes were sent";
    EXPECT_EQ(s.stopped_by, "max-bytes");
    EXPECT_EQ(s.left_pending, 2u);
    EXPECT_EQ(s.exit_code(), ExitCode::ok);

    opts.max_bytes.reset();
    opts.max_duration = 0s;
    s = run(queue, opts);
    EXPECT_EQ(s.uploaded, 0u);
    EXPECT_EQ(s.stopped_by, "max-duration");

    opts.max_duration.reset();
    std::atomic<int> interrupted{SIGINT};
    s = run(queue, opts, nullptr, &interrupted);
    EXPECT_EQ(s.uploaded, 0u);
    EXPECT_TRUE(s.interrupted);
    EXPECT_EQ(s.exit_code(), ExitCode::interrupted);
    EXPECT_EQ(read_transfer_queue(store.db(), clock.now()).value().transferring, 0u);
}

TEST_F(SyncEngine, MtimeRefusalIsNotAFailure) {
    write_file(source / "a.mp4", "payload");
    refuse_mtime = true;
    auto queue = make_queue();
    const auto s = run(queue, options());
    EXPECT_EQ(s.uploaded, 1u);
    EXPECT_EQ(row(queue, "a.mp4").state, FileState::completed);
}

TEST_F(SyncEngine, DryRunChangesNothing) {
    write_file(source / "old.mp4", "x");
    write_file(source / "done.mp4", "y");
    auto queue = make_queue();
    run(queue, options());
    fs::remove(nas / "done.mp4");
    write_file(source / "new.mp4", "z");
    std::vector<std::string> seen;
    auto plan =
        plan_sync(options(), &queue, queue.policy(), clock, [&](const PlannedFile& f) { seen.push_back(f.rel_path); });
    ASSERT_TRUE(plan);
    EXPECT_EQ(seen, (std::vector<std::string>{"new.mp4"}));
    EXPECT_EQ(plan->would_queue, 1u);
    EXPECT_EQ(plan->would_upload, 1u);
    EXPECT_FALSE(queue.find(source.string(), "new.mp4").value());
    EXPECT_FALSE(fs::exists(nas / "new.mp4"));

    auto no_db = plan_sync(options(), nullptr, queue.policy(), clock, [](const PlannedFile&) {});
    ASSERT_TRUE(no_db);
    EXPECT_EQ(no_db->would_upload, 3u);
}

TEST_F(SyncEngine, VerifyFindsAndRequeuesBadCopies) {
    write_file(source / "good.mp4", "good");
    write_file(source / "corrupt.mp4", "corrupt me");
    write_file(source / "lost.mp4", "lost");
    write_file(source / "gone-locally.mp4", "gone");
    auto queue = make_queue();
    run(queue, options());
    write_file(nas / "corrupt.mp4", "CORRUPT ME");  // same size, other bytes
    fs::remove(nas / "lost.mp4");
    fs::remove(nas / "gone-locally.mp4");
    fs::remove(source / "gone-locally.mp4");

    LocalTarget target(nas);
    auto dry = verify_completed(queue, target, Verify::automatic, DryRun::yes);
    ASSERT_TRUE(dry) << dry.error().message;
    EXPECT_EQ(dry->checked, 4u);
    EXPECT_EQ(dry->ok, 1u);
    ASSERT_EQ(dry->problems.size(), 3u);
    EXPECT_EQ(row(queue, "corrupt.mp4").state, FileState::completed) << "dry run";

    auto checked = verify_completed(queue, target, Verify::automatic, DryRun::no, 2);
    ASSERT_TRUE(checked);
    std::map<std::string, std::pair<std::string, bool>> by_file;
    for (const auto& p : checked->problems) by_file[p.row.rel_path] = {p.what, p.requeued};
    EXPECT_EQ(by_file["corrupt.mp4"], std::make_pair(std::string("sha256"), true));
    EXPECT_EQ(by_file["lost.mp4"], std::make_pair(std::string("missing"), true));
    EXPECT_EQ(by_file["gone-locally.mp4"], std::make_pair(std::string("missing"), false));
    EXPECT_EQ(row(queue, "corrupt.mp4").state, FileState::pending);
    EXPECT_EQ(row(queue, "gone-locally.mp4").state, FileState::completed);

    const auto s = run(queue, options());
    EXPECT_EQ(s.uploaded, 2u);
    EXPECT_EQ(read_file(nas / "corrupt.mp4"), "corrupt me");

    auto size_only = verify_completed(queue, target, Verify::size, DryRun::yes);
    ASSERT_TRUE(size_only);
    EXPECT_EQ(size_only->hashed, 0u);
}

TEST_F(SyncEngine, VerifyRecordsTheVerifyOfCopiesThatHadNoneSoRemoveSourceMayRemoveThem) {
    write_file(source / "legacy.mp4", "uploaded before schema v3");
    write_file(source / "unverified.mp4", "uploaded with --verify none");
    write_file(source / "sized.mp4", "checked by size");
    auto queue = make_queue();
    auto opts = options();
    opts.verify = Verify::none;
    ASSERT_EQ(run(queue, opts).uploaded, 3u);
    store.db().exec("UPDATE media_files SET verified_by = NULL WHERE rel_path = 'legacy.mp4'");
    store.db().exec("UPDATE media_files SET verified_by = 'size' WHERE rel_path = 'sized.mp4'");
    ASSERT_EQ(queue.removable(source.string(), 0, 10).value().size(), 1u) << "only the one verified by size";

    LocalTarget target(nas);
    ASSERT_TRUE(verify_completed(queue, target, Verify::automatic, DryRun::yes));
    EXPECT_FALSE(row(queue, "legacy.mp4").verified_by) << "a dry run records nothing";
    ASSERT_TRUE(verify_completed(queue, target, Verify::automatic, DryRun::no));
    EXPECT_EQ(row(queue, "legacy.mp4").verified_by, "sha256");
    EXPECT_EQ(row(queue, "unverified.mp4").verified_by, "sha256");
    EXPECT_EQ(row(queue, "sized.mp4").verified_by, "size") << "a verify already recorded is kept";

    auto remove = options();
    remove.remove_source = RemoveSource::yes;
    EXPECT_EQ(run(queue, remove).removed, 3u);
    EXPECT_TRUE(fs::is_empty(source));
}

TEST_F(SyncEngine, ARefusedConnectionStopsTheRunAndAnUnreachableOneLeavesFilesPending) {
    write_file(source / "a.mp4", "payload");
    auto queue = make_queue();
    int connects = 0;
    TargetFactory refused = [&]() -> Result<std::unique_ptr<Target>> {
        ++connects;
        return fail(ExitCode::untrusted, "host key of nas:22 has changed");
    };
    auto opts = options();
    opts.jobs = 4;
    auto r = run_sync(opts, queue, clock, refused, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::untrusted);
    EXPECT_EQ(connects, 1) << "one refusal, not one per worker";

    TargetFactory unreachable = [&]() -> Result<std::unique_ptr<Target>> {
        return fail(ExitCode::unavailable, "cannot connect to nas:22: connection refused");
    };
    auto s = run_sync(opts, queue, clock, unreachable, {});
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->target_unavailable);
    EXPECT_EQ(s->exit_code(), ExitCode::unavailable);
    EXPECT_EQ(s->left_pending, 1u);
    const auto r2 = row(queue, "a.mp4");
    EXPECT_EQ(r2.state, FileState::pending);
    EXPECT_EQ(r2.attempts, 0);
}

// Under a trace, the run's steps are spans, children of the run's span: the
// scan, the connection, each batch of small files, each large file (one
// streamed alone, above 256 KiB) and each batch's verify. A failed attempt
// marks the span of the batch or file it belongs to.
TEST_F(SyncEngine, UnderATraceEachStepIsASpanUnderTheRun) {
    for (int i = 0; i < 3; ++i) write_file(source / ("small" + std::to_string(i)), random_bytes(100, i));
    const auto big = random_bytes(300 * 1024, 7);
    write_file(source / "big.mp4", big);
    auto writes = std::make_shared<std::atomic<int>>(0);
    on_write = [writes](std::uint64_t) -> std::optional<Error> {
        if (++*writes == 2) return Error{"write refused", ExitCode::io_error};
        return std::nullopt;
    };
    const auto traces = dir / "log" / "traces.jsonl";
    const Tracer tracer(SpanSink(traces, "sync", "cam-01", clock),
                        parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    Span run_span(tracer, "sync run");
    auto queue = make_queue();
    auto opts = options();
    opts.jobs = 1;
    const auto s = run_sync(opts, queue, clock, factory(), RunOutputs{.trace = &run_span});
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->uploaded, 3u);
    EXPECT_EQ(s->failed_attempts, 1u);
    ASSERT_TRUE(run_span.end());

    std::map<std::string, std::vector<SpanData>> by_name;
    std::istringstream in(read_file(traces));
    RecordReader reader(in);
    while (auto item = reader.next()) {
        ASSERT_TRUE(std::holds_alternative<Record>(*item));
        auto span = parse_span(std::get<Record>(*item)).value();
        by_name[span.name].push_back(std::move(span));
    }
    ASSERT_EQ(by_name["sync run"].size(), 1u);
    const auto& run = by_name["sync run"][0];
    for (const auto& [name, spans] : by_name) {
        for (const auto& span : spans) {
            EXPECT_EQ(span.trace_id, run.trace_id) << name;
            if (name != "sync run") {
                EXPECT_EQ(span.parent_span_id, run.span_id) << name;
            }
        }
    }
    ASSERT_EQ(by_name["sync scan"].size(), 1u);
    EXPECT_EQ(by_name["sync scan"][0].attributes.at("sync.added"), 4);
    ASSERT_EQ(by_name["sync connect"].size(), 1u);
    EXPECT_EQ(by_name["sync connect"][0].kind, SpanKind::client);
    EXPECT_EQ(by_name["sync connect"][0].attributes.at("sync.target"), nas.string());
    ASSERT_EQ(by_name["sync file"].size(), 1u);
    const auto& file = by_name["sync file"][0];
    EXPECT_EQ(file.attributes.at("file.path"), (source / "big.mp4").string());
    EXPECT_EQ(file.attributes.at("file.size"), big.size());
    ASSERT_FALSE(by_name["sync batch"].empty());
    ASSERT_FALSE(by_name["sync verify batch"].empty());
    std::uint64_t batched = 0, verified = 0;
    for (const auto& b : by_name["sync batch"]) batched += b.attributes.at("sync.files").get<std::uint64_t>();
    for (const auto& v : by_name["sync verify batch"])
        verified += v.attributes.at("sync.completed").get<std::uint64_t>();
    EXPECT_EQ(batched, 3u);
    EXPECT_EQ(verified, 3u);
    // The one refused write failed one file: its batch or its file span says so, and no other span.
    std::vector<const SpanData*> failed;
    for (const auto& [name, spans] : by_name)
        for (const auto& span : spans)
            if (span.status == SpanStatus::error) failed.push_back(&span);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_TRUE(failed[0]->name == "sync batch" || failed[0]->name == "sync file") << failed[0]->name;
    EXPECT_EQ(failed[0]->status_message, "write refused");
    EXPECT_EQ(failed[0]->attributes.at("sync.failed"), 1);
}

// Each connection (a run's, nasops-sync verify's) is a `sync connect` span;
// a refused one is a failed span.
TEST_F(SyncEngine, UnderATraceARefusedConnectionIsAFailedConnectSpan) {
    const auto traces = dir / "traces.jsonl";
    const Tracer tracer(SpanSink(traces, "sync", "cam-01", clock), std::nullopt);
    Span parent(tracer, "sync verify");
    TargetFactory refused = [&]() -> Result<std::unique_ptr<Target>> {
        return fail(ExitCode::unavailable, "cannot connect to nas:22: connection refused");
    };
    EXPECT_FALSE(traced_connect(refused, &parent)());
    ASSERT_TRUE(parent.end());
    std::istringstream in(read_file(traces));
    RecordReader reader(in);
    auto first = reader.next();
    ASSERT_TRUE(first && std::holds_alternative<Record>(*first));
    const auto connect = parse_span(std::get<Record>(*first)).value();
    EXPECT_EQ(connect.name, "sync connect");
    EXPECT_EQ(connect.parent_span_id, parent.data().span_id);
    EXPECT_EQ(connect.status, SpanStatus::error);
    EXPECT_EQ(connect.status_message, "cannot connect to nas:22: connection refused");

    // Without an active parent the factory is the one given: no span, no file.
    const Tracer inactive;
    Span none(inactive, "sync verify");
    fs::remove(traces);
    EXPECT_FALSE(traced_connect(refused, &none)());
    EXPECT_FALSE(traced_connect(refused, nullptr)());
    EXPECT_FALSE(fs::exists(traces));
}
