#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "fixtures/temp_dir.hpp"
#include "nasops/core/log.hpp"

using namespace nasops;
namespace fs = std::filesystem;

namespace {

LogOptions quiet_options(const fs::path& log_dir) {
    return LogOptions{
        .tool = "sync", .stderr_level = LogLevel::error, .file_level = LogLevel::info, .log_dir = log_dir};
}

}  // namespace

TEST(Log, WritesTextLinesWithTimestampPidAndLevel) {
    nasops::testing::TempDir dir;
    Logger log;
    ASSERT_TRUE(log.configure(quiet_options(dir / "log")));
    log.info("uploaded {} files", 3);
    log.debug("not written at info level");
    const auto text = nasops::testing::read_file(dir / "log" / "sync.log");
    EXPECT_NE(text.find(fmt::format("nasops-sync[{}] info: uploaded 3 files\n", ::getpid())), std::string::npos)
        << text;
    EXPECT_EQ(text.find("not written"), std::string::npos);
    EXPECT_EQ(text.substr(4, 1), "-");  // starts with an RFC 3339 date
    EXPECT_EQ(text.find('Z'), 23u);     // ...with milliseconds, in UTC
}

TEST(Log, StderrShowsWarningsByDefaultAndInfoOnlyWhenVerbose) {
    Logger log;
    ASSERT_TRUE(log.configure(LogOptions{.tool = "sync", .stderr_level = LogLevel::warning}));
    ::testing::internal::CaptureStderr();
    log.warning("NAS at {}% capacity", 91);
    log.info("hidden");
    const auto err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "nasops-sync: warning: NAS at 91% capacity\n");

    EXPECT_EQ(LogOptions::stderr_level_for(true, 2), LogLevel::error);
    EXPECT_EQ(LogOptions::stderr_level_for(false, 0), LogLevel::warning);
    EXPECT_EQ(LogOptions::stderr_level_for(false, 1), LogLevel::info);
    EXPECT_EQ(LogOptions::stderr_level_for(false, 2), LogLevel::debug);
}

TEST(Log, AuditEventsAreJsonLinesWithTheRecordEnvelope) {
    nasops::testing::TempDir dir;
    Logger log;
    ASSERT_TRUE(log.configure(quiet_options(dir / "log")));
    log.audit(AuditEvent::transfer_completed, {{"path", "cam1/a b.mp4"}, {"bytes", 1024}});
    log.audit(AuditEvent::storage_warning);
    const auto text = nasops::testing::read_file(dir / "log" / "audit.log");
    const auto newline = text.find('\n');
    ASSERT_NE(newline, std::string::npos);
    const auto first = nlohmann::json::parse(text.substr(0, newline));
    EXPECT_EQ(first["v"], 1);
    EXPECT_EQ(first["tool"], "sync");
    EXPECT_EQ(first["kind"], "event");
    EXPECT_EQ(first["event"], "TRANSFER_COMPLETED");
    EXPECT_EQ(first["path"], "cam1/a b.mp4");
    EXPECT_EQ(first["bytes"], 1024);
    EXPECT_EQ(first["pid"], ::getpid());
    EXPECT_EQ(nlohmann::json::parse(text.substr(newline + 1))["event"], "STORAGE_WARNING");
}

TEST(Log, ABatchWritesNothingUntilFlushedThenEveryLineInOrder) {
    nasops::testing::TempDir dir;
    Logger log;
    ASSERT_TRUE(log.configure(quiet_options(dir / "log")));
    {
        LogBatch batch(log);
        batch.audit(AuditEvent::transfer_started, {{"path", "a.mp4"}});
        batch.info("uploaded {}", "a.mp4");
        batch.audit(AuditEvent::transfer_completed, {{"path", "a.mp4"}});
        batch.debug("not written at info level");
        EXPECT_EQ(nasops::testing::read_file(dir / "log" / "audit.log"), "");
        EXPECT_EQ(nasops::testing::read_file(dir / "log" / "sync.log"), "");
        batch.flush();
        const auto audit = nasops::testing::read_file(dir / "log" / "audit.log");
        const auto newline = audit.find('\n');
        ASSERT_NE(newline, std::string::npos);
        EXPECT_EQ(nlohmann::json::parse(audit.substr(0, newline))["event"], "TRANSFER_STARTED");
        EXPECT_EQ(nlohmann::json::parse(audit.substr(newline + 1))["event"], "TRANSFER_COMPLETED");
        EXPECT_EQ(nlohmann::json::parse(audit.substr(newline + 1))["pid"], ::getpid());
        const auto text = nasops::testing::read_file(dir / "log" / "sync.log");
        EXPECT_NE(text.find("info: uploaded a.mp4\n"), std::string::npos) << text;
        EXPECT_EQ(text.find("not written"), std::string::npos);
        // Flushed lines are not written twice; what is left is written at the end of the batch.
        batch.warning("last words");
    }
    const auto text = nasops::testing::read_file(dir / "log" / "sync.log");
    EXPECT_EQ(text.find("uploaded a.mp4"), text.rfind("uploaded a.mp4"));
    EXPECT_NE(text.find("warning: last words\n"), std::string::npos) << text;
}

// logrotate renames sync.log to sync.log.1 and sends SIGHUP: the next line must
// land in a new sync.log, not in the renamed file.
TEST(Log, AuditFieldOverridingTheEnvelopeIsReportedNotWritten) {
    nasops::testing::TempDir dir;
    Logger log;
    ASSERT_TRUE(log.configure(quiet_options(dir / "log")));
    ::testing::internal::CaptureStderr();
    log.audit(AuditEvent::system_error, {{"kind", "check"}});
    const auto err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("nasops-sync: error: audit SYSTEM_ERROR"), std::string::npos) << err;
    EXPECT_EQ(nasops::testing::read_file(dir / "log" / "audit.log"), "");
}

TEST(Log, SighupReopensFilesAfterRename) {
    nasops::testing::TempDir dir;
    const auto log_dir = dir / "log";
    Logger log;
    ASSERT_TRUE(log.configure(quiet_options(log_dir)));
    reopen_logs_on_sighup();
    log.info("before rotation");
    log.audit(AuditEvent::file_discovered, {{"path", "one"}});
    fs::rename(log_dir / "sync.log", log_dir / "sync.log.1");
    fs::rename(log_dir / "audit.log", log_dir / "audit.log.1");

    ASSERT_EQ(::raise(SIGHUP), 0);
    log.info("after rotation");
    log.audit(AuditEvent::file_discovered, {{"path", "two"}});

    const auto old_text = nasops::testing::read_file(log_dir / "sync.log.1");
    const auto new_text = nasops::testing::read_file(log_dir / "sync.log");
    EXPECT_NE(old_text.find("before rotation"), std::string::npos);
    EXPECT_EQ(old_text.find("after rotation"), std::string::npos);
    EXPECT_NE(new_text.find("after rotation"), std::string::npos);
    EXPECT_EQ(new_text.find("before rotation"), std::string::npos);
    EXPECT_NE(nasops::testing::read_file(log_dir / "audit.log").find("\"two\""), std::string::npos);
    EXPECT_EQ(nasops::testing::read_file(log_dir / "audit.log.1").find("\"two\""), std::string::npos);
}

TEST(Log, UncreatableLogFolderIsCantCreateAndStderrStillWorks) {
    nasops::testing::TempDir dir;
    nasops::testing::write_file(dir / "file", "x");
    Logger log;
    auto configured =
        log.configure(LogOptions{.tool = "sync", .stderr_level = LogLevel::error, .log_dir = dir / "file" / "log"});
    ASSERT_FALSE(configured);
    EXPECT_EQ(configured.error().code, ExitCode::cant_create);
    EXPECT_NE(configured.error().message.find((dir / "file" / "log").string()), std::string::npos);
    ::testing::internal::CaptureStderr();
    log.error("still reported");
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "nasops-sync: error: still reported\n");
}

TEST(PidFile, WrittenAndRemovedAtScopeExit) {
    nasops::testing::TempDir dir;
    const auto path = dir / "sync.pid";
    {
        auto pid = PidFile::create(path);
        ASSERT_TRUE(pid) << pid.error().message;
        EXPECT_EQ(nasops::testing::read_file(path), std::to_string(::getpid()) + "\n");
        EXPECT_FALSE(fs::exists(dir / "sync.pid.tmp"));
    }
    EXPECT_FALSE(fs::exists(path));
}

TEST(PidFile, ReplacedByAnotherRunIsLeftAlone) {
    nasops::testing::TempDir dir;
    const auto path = dir / "sync.pid";
    {
        auto pid = PidFile::create(path);
        ASSERT_TRUE(pid);
        nasops::testing::write_file(path, "999999\n");
    }
    EXPECT_EQ(nasops::testing::read_file(path), "999999\n");
}

TEST(PidFile, UncreatableIsCantCreate) {
    nasops::testing::TempDir dir;
    auto pid = PidFile::create(dir / "missing" / "sync.pid");
    ASSERT_FALSE(pid);
    EXPECT_EQ(pid.error().code, ExitCode::cant_create);
    EXPECT_NE(pid.error().message.find("missing/sync.pid"), std::string::npos);
}
