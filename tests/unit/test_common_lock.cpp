#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "fixtures/temp_dir.hpp"
#include "nasops/core/lock.hpp"

using namespace nasops;
using namespace std::chrono_literals;

namespace {

// A child process that takes the lock and holds it until killed; returns its pid
// once it reports that it holds the lock.
pid_t hold_lock_in_child(const std::filesystem::path& path) {
    int ready[2];
    if (::pipe(ready) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(ready[0]);
        auto lock = LockFile::acquire(path, 0ms);
        const char byte = lock ? '1' : '0';
        [[maybe_unused]] auto n = ::write(ready[1], &byte, 1);
        ::pause();
        ::_exit(0);
    }
    ::close(ready[1]);
    char byte = 0;
    const auto n = ::read(ready[0], &byte, 1);
    ::close(ready[0]);
    return n == 1 && byte == '1' ? pid : -1;
}

void kill_and_reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

}  // namespace

TEST(Lock, AcquiresFreeLockWithoutWaiting) {
    nasops::testing::TempDir dir;
    auto lock = LockFile::acquire(dir / "sync.lock", 0ms);
    ASSERT_TRUE(lock) << lock.error().message;
    EXPECT_LT(lock->waited(), 1s);
    EXPECT_EQ(nasops::testing::read_file(dir / "sync.lock"), std::to_string(::getpid()) + "\n");
}

TEST(Lock, HeldByAnotherProcessFailsWithTempFailureNamingThePid) {
    nasops::testing::TempDir dir;
    const auto path = dir / "sync.lock";
    const pid_t holder = hold_lock_in_child(path);
    ASSERT_GT(holder, 0);

    auto refused = LockFile::acquire(path, 0ms);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ExitCode::temp_failure);
    EXPECT_NE(refused.error().message.find(path.string()), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find("pid " + std::to_string(holder)), std::string::npos)
        << refused.error().message;

    kill_and_reap(holder);
}

TEST(Lock, AnOverlapIsNoErrorWhenQuietAndTheSameErrorOtherwise) {
    nasops::testing::TempDir dir;
    const auto path = dir / "sync.lock";
    const pid_t holder = hold_lock_in_child(path);
    ASSERT_GT(holder, 0);

    auto quiet = LockFile::acquire_or_overlap(path, 0ms, Quiet::yes);
    ASSERT_TRUE(quiet) << quiet.error().message;
    EXPECT_FALSE(quiet->has_value()) << "the lock is held: nothing to hold";
    auto loud = LockFile::acquire_or_overlap(path, 0ms, Quiet::no);
    ASSERT_FALSE(loud);
    EXPECT_EQ(loud.error().code, ExitCode::temp_failure);
    EXPECT_NE(loud.error().message.find("pid " + std::to_string(holder)), std::string::npos);

    kill_and_reap(holder);
    auto free = LockFile::acquire_or_overlap(path, 0ms, Quiet::yes);
    ASSERT_TRUE(free) << free.error().message;
    EXPECT_TRUE(free->has_value());
}

TEST(Lock, AnErrorOtherThanAnOverlapIsSaidEvenWhenQuiet) {
    nasops::testing::TempDir dir;
    auto refused = LockFile::acquire_or_overlap(dir / "missing-folder/sync.lock", 0ms, Quiet::yes);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ExitCode::cant_create);
}

TEST(Lock, WaitsUpToTheTimeoutThenGivesUp) {
    nasops::testing::TempDir dir;
    const auto path = dir / "sync.lock";
    const pid_t holder = hold_lock_in_child(path);
    ASSERT_GT(holder, 0);

    auto refused = LockFile::acquire(path, 200ms);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ExitCode::temp_failure);
    EXPECT_NE(refused.error().message.find("waited"), std::string::npos);
    kill_and_reap(holder);
}

TEST(Lock, KilledHolderReleasesTheLockAndWaiterGetsIt) {
    nasops::testing::TempDir dir;
    const auto path = dir / "sync.lock";
    const pid_t holder = hold_lock_in_child(path);
    ASSERT_GT(holder, 0);
    kill_and_reap(holder);  // kill -9 must not leave a stale lock behind

    auto lock = LockFile::acquire(path, 0ms);
    ASSERT_TRUE(lock) << lock.error().message;
}

TEST(Lock, ReleasedOnDestructionAndMovable) {
    nasops::testing::TempDir dir;
    const auto path = dir / "sync.lock";
    {
        auto first = LockFile::acquire(path, 0ms);
        ASSERT_TRUE(first);
        LockFile moved = std::move(*first);
        EXPECT_EQ(moved.path(), path);
    }
    EXPECT_TRUE(LockFile::acquire(path, 0ms));
}

TEST(Lock, UncreatableLockFileIsCantCreate) {
    nasops::testing::TempDir dir;
    nasops::testing::write_file(dir / "file", "x");
    auto lock = LockFile::acquire(dir / "file" / "sync.lock", 0ms);
    ASSERT_FALSE(lock);
    EXPECT_EQ(lock.error().code, ExitCode::cant_create);
    EXPECT_NE(lock.error().message.find("file/sync.lock"), std::string::npos);
}
