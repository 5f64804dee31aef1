#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <sstream>

#include "fixtures/child_process.hpp"
#include "fixtures/temp_dir.hpp"
#include "nasops/obs/metrics.hpp"

using namespace nasops;
using nasops::testing::CommandResult;
using nasops::testing::run_command;

namespace {

constexpr const char* k_promtool = "/usr/bin/promtool";

CommandResult promtool_check(const std::string& exposition) {
    if (!std::filesystem::exists(k_promtool)) {
        ADD_FAILURE() << k_promtool << " is missing: install the Debian package prometheus (make -f Makefile.ops deps)";
        return {};
    }
    return run_command({k_promtool, "check", "metrics"}, exposition);
}

#define ASSERT_OK(expr)                                  \
    do {                                                 \
        auto result_ = (expr);                           \
        ASSERT_TRUE(result_) << result_.error().message; \
    } while (false)

}  // namespace

TEST(MetricsPromtool, ARichExpositionPassesWithoutWarnings) {
    Exposition e;
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();

    ASSERT_OK(e.declare("nasops_sync_files_total", MetricType::counter, "Files uploaded to the NAS."));
    ASSERT_OK(e.declare("nasops_sync_transferred_bytes_total", MetricType::counter, "Bytes uploaded."));
    ASSERT_OK(e.declare("nasops_disk_used_ratio", MetricType::gauge,
                        "Used fraction of a file system, 0-1.\nSecond line with a back\\slash and \"quotes\"."));
    ASSERT_OK(e.declare("nasops_capacity_seconds_until_full", MetricType::gauge, "Forecast time until full."));
    ASSERT_OK(e.declare("nasops_health_check_up", MetricType::untyped, "Whether a check could run."));
    ASSERT_OK(e.declare("nasops_lock_wait_seconds", MetricType::gauge, "Time spent waiting for the run lock."));

    // Samples added interleaved across families, with labels that need escaping.
    ASSERT_OK(e.add("nasops_sync_files_total", {{"job", "drone"}, {"state", "completed"}}, 1234));
    ASSERT_OK(e.add("nasops_disk_used_ratio", {{"mount", "/"}}, 0.4321));
    ASSERT_OK(e.add("nasops_sync_files_total", {{"job", "drone"}, {"state", "failed"}}, 0));
    ASSERT_OK(e.add("nasops_disk_used_ratio", {{"mount", "/srv/media \"cams\"\\new\nline"}}, 1));
    ASSERT_OK(e.add("nasops_sync_transferred_bytes_total", {{"job", "drone"}}, 9'007'199'254'740'993.0));
    ASSERT_OK(e.add("nasops_sync_transferred_bytes_total", {{"job", "cam"}}, 1e20));
    ASSERT_OK(e.add("nasops_capacity_seconds_until_full", {{"path", "/a"}}, inf));
    ASSERT_OK(e.add("nasops_capacity_seconds_until_full", {{"path", "/b"}}, nan));
    ASSERT_OK(e.add("nasops_capacity_seconds_until_full", {{"path", "/c"}}, -inf));
    ASSERT_OK(e.add("nasops_capacity_seconds_until_full", {{"path", "/d \xe6\x97\xa5\xe6\x9c\xac"}}, 3.5e6));
    ASSERT_OK(e.add("nasops_capacity_seconds_until_full", {{"path", "/bad\xff\xfe utf8"}}, 1e-7));
    ASSERT_OK(e.add("nasops_health_check_up", {{"check", "disk"}, {"target", ""}}, 1));
    ASSERT_OK(e.add("nasops_lock_wait_seconds", 0.005));
    ASSERT_OK(e.add("nasops_health_check_up", {{"check", "nas_ssh"}, {"target", "nas.example:22"}}, 0));
    // Many families, as a full health run writes.
    for (int i = 0; i < 40; ++i) {
        const auto name = fmt::format("nasops_generated_{}_bytes", i);
        ASSERT_OK(e.declare(name, MetricType::gauge, fmt::format("Generated family {}.", i)));
        for (int j = 0; j < 5; ++j) {
            ASSERT_OK(e.add(name, {{"instance_id", std::to_string(j)}, {"note", "tab\there"}}, i * 1000.0 + j / 4.0));
        }
    }

    nasops::testing::TempDir dir;
    ASSERT_OK(write_textfile(dir.path(), "nasops_health.prom", e.text()));
    const auto written = nasops::testing::read_file(dir / "nasops_health.prom");
    ASSERT_EQ(written, e.text());
    ASSERT_FALSE(std::filesystem::exists(dir / "nasops_health.prom.tmp"));

    const auto result = promtool_check(written);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err, "") << "promtool warned";

    // No sample carries a timestamp: after the labels comes exactly one value.
    std::istringstream lines(written);
    std::string line;
    std::size_t samples = 0;
    while (std::getline(lines, line)) {
        if (line.starts_with("#")) continue;
        const auto close = line.rfind('}');
        const auto rest = line.substr(close == std::string::npos ? line.find(' ') : close + 1);
        EXPECT_EQ(rest.find(' ', 1), std::string::npos) << line;
        ++samples;
    }
    EXPECT_EQ(samples, 14u + 40u * 5u);
}

TEST(MetricsPromtool, TheCheckFailsOnAHandWrittenBadExposition) {
    // Lint problems: a counter without _total, a non-base unit, no HELP.
    const auto lint = promtool_check(
        "# TYPE nasops_errors counter\n"
        "nasops_errors 3\n"
        "# HELP nasops_backup_age_days Age of the last backup.\n"
        "# TYPE nasops_backup_age_days gauge\n"
        "nasops_backup_age_days 2\n");
    EXPECT_NE(lint.exit_code, 0);
    EXPECT_NE(lint.err.find("counter metrics should have \"_total\" suffix"), std::string::npos) << lint.err;
    EXPECT_NE(lint.err.find("instead of \"days\""), std::string::npos) << lint.err;
    EXPECT_NE(lint.err.find("no help text"), std::string::npos) << lint.err;

    // A syntax error: an unterminated label value.
    const auto syntax = promtool_check("# HELP nasops_up Up.\n# TYPE nasops_up gauge\nnasops_up{job=\"x} 1\n");
    EXPECT_NE(syntax.exit_code, 0);
    EXPECT_NE(syntax.err.find("parsing error"), std::string::npos) << syntax.err;
}
