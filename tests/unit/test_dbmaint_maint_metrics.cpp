// nasops_dbmaint.prom: what maint_metrics writes, and the last check read
// back from it, so that a backup run keeps what the check said.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "dbmaint/maint_metrics.hpp"
#include "fixtures/temp_dir.hpp"

using namespace nasops;
using namespace nasops::dbmaint;
using nasops::testing::TempDir;

namespace {

Settings settings_in(const TempDir& dir) {
    Settings s;
    s.database = dir / "nasops.db";
    s.state_dir = dir.path();
    s.backup_dir = dir / "backups";
    return s;
}

}  // namespace

TEST(DbmaintMaintMetrics, TheCheckWrittenIsTheCheckReadBack) {
    TempDir dir("nasops-maint-metrics");
    // A time with a fraction of a second, which must come back exactly.
    const SystemTimePoint at{std::chrono::milliseconds(1'795'000'123'456)};
    for (const auto status : {ExitCode::ok, ExitCode::warning, ExitCode::critical, ExitCode::unknown}) {
        const auto text = maint_metrics(settings_in(dir), CheckOutcome{status, at});
        ASSERT_TRUE(text) << text.error().message;
        const auto read = published_check(*text);
        ASSERT_TRUE(read.has_value()) << *text;
        EXPECT_EQ(read->status, status);
        EXPECT_EQ(read->at, at);
        EXPECT_EQ(maint_metrics(settings_in(dir), read).value(), *text) << "written again, it is the same file";
    }
}

TEST(DbmaintMaintMetrics, WithoutACheckTheCheckFamiliesAreLeftOut) {
    TempDir dir("nasops-maint-metrics");
    const auto text = maint_metrics(settings_in(dir), std::nullopt);
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_NE(text->find("nasops_dbmaint_backups 0\n"), std::string::npos) << *text;
    EXPECT_NE(text->find("nasops_dbmaint_last_backup_timestamp_seconds 0\n"), std::string::npos) << *text;
    EXPECT_EQ(text->find("nasops_dbmaint_check_status"), std::string::npos) << *text;
    EXPECT_EQ(published_check(*text), std::nullopt);
}

TEST(DbmaintMaintMetrics, AFileWithoutAWholeCheckHasNone) {
    EXPECT_EQ(published_check(""), std::nullopt);
    EXPECT_EQ(published_check("nasops_dbmaint_check_status 0\n"), std::nullopt) << "no time";
    EXPECT_EQ(published_check("nasops_dbmaint_last_check_timestamp_seconds 1795000000\n"), std::nullopt) << "no status";
    EXPECT_EQ(published_check("nasops_dbmaint_check_status 7\nnasops_dbmaint_last_check_timestamp_seconds 1\n"),
              std::nullopt)
        << "not a state";
    EXPECT_EQ(published_check("nasops_dbmaint_check_status_x 0\nnasops_dbmaint_last_check_timestamp_seconds 1\n"),
              std::nullopt)
        << "another family";
    const auto read =
        published_check("nasops_dbmaint_check_status 2\nnasops_dbmaint_last_check_timestamp_seconds 10\n");
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->status, ExitCode::critical);
    EXPECT_EQ(read->at, SystemTimePoint{std::chrono::seconds(10)});
}
