// The logger against the real logrotate: rotate with `create`, postrotate
// sends SIGHUP through the pidfile, and the next lines land in the new file.

#include <gtest/gtest.h>

#include <filesystem>

#include "fixtures/child_process.hpp"
#include "fixtures/temp_dir.hpp"
#include "nasops/core/log.hpp"

namespace fs = std::filesystem;
using nasops::testing::read_file;
using nasops::testing::write_file;

TEST(LogLogrotate, PostrotateHupMovesLoggingToTheNewFile) {
    nasops::testing::TempDir dir;
    const auto log_dir = dir / "log";
    const auto pid_path = dir / "run" / "sync.pid";
    fs::create_directories(pid_path.parent_path());

    nasops::Logger log;
    ASSERT_TRUE(log.configure({.tool = "sync", .stderr_level = nasops::LogLevel::error, .log_dir = log_dir}));
    nasops::reopen_logs_on_sighup();
    auto pidfile = nasops::PidFile::create(pid_path);
    ASSERT_TRUE(pidfile) << pidfile.error().message;

    log.info("line before rotation");
    log.audit(nasops::AuditEvent::transfer_started, {{"path", "before"}});

    // The rule deploy/logrotate.d/nasops uses, pointed at the test's folders.
    const auto conf = dir / "logrotate.conf";
    write_file(conf, log_dir.string() +
                         "/*.log {\n"
                         "    rotate 3\n"
                         "    missingok\n"
                         "    create 0640\n"
                         "    sharedscripts\n"
                         "    postrotate\n"
                         "        kill -HUP \"$(cat " +
                         pid_path.string() +
                         ")\"\n"
                         "    endscript\n"
                         "}\n");
    const auto rotated = nasops::testing::run_command(
        {"/usr/sbin/logrotate", "--force", "--state", (dir / "logrotate.state").string(), conf.string()});
    ASSERT_EQ(rotated.exit_code, 0) << "logrotate failed: " << rotated.err;

    ASSERT_TRUE(fs::exists(log_dir / "sync.log.1"));
    ASSERT_TRUE(fs::exists(log_dir / "audit.log.1"));

    log.info("line after rotation");
    log.audit(nasops::AuditEvent::transfer_completed, {{"path", "after"}});

    EXPECT_NE(read_file(log_dir / "sync.log.1").find("line before rotation"), std::string::npos);
    EXPECT_EQ(read_file(log_dir / "sync.log.1").find("line after rotation"), std::string::npos);
    EXPECT_NE(read_file(log_dir / "sync.log").find("line after rotation"), std::string::npos);
    EXPECT_EQ(read_file(log_dir / "sync.log").find("line before rotation"), std::string::npos);
    EXPECT_NE(read_file(log_dir / "audit.log").find("TRANSFER_COMPLETED"), std::string::npos);
    EXPECT_EQ(read_file(log_dir / "audit.log.1").find("TRANSFER_COMPLETED"), std::string::npos);
}

// The shipped rule must be one logrotate accepts.
TEST(LogLogrotate, ShippedRuleParses) {
    const auto rotated = nasops::testing::run_command(
        {"/usr/sbin/logrotate", "--debug", NASOPS_SOURCE_DIR "/deploy/logrotate.d/nasops"});
    EXPECT_EQ(rotated.exit_code, 0) << rotated.err;
    EXPECT_EQ(rotated.err.find("error"), std::string::npos) << rotated.err;
}
