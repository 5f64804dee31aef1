#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "fixtures/temp_dir.hpp"
#include "nasops/obs/metrics.hpp"

using namespace nasops;
using nasops::testing::read_file;
using nasops::testing::TempDir;
using nasops::testing::write_file;
namespace fs = std::filesystem;

TEST(MetricValue, IntegersWithoutExponentAndSpecialValuesAsPrometheusSpellsThem) {
    EXPECT_EQ(format_metric_value(0), "0");
    EXPECT_EQ(format_metric_value(-0.0), "0");
    EXPECT_EQ(format_metric_value(42), "42");
    EXPECT_EQ(format_metric_value(-3), "-3");
    EXPECT_EQ(format_metric_value(1048576.0), "1048576");
    EXPECT_EQ(format_metric_value(1e15), "1000000000000000");
    EXPECT_EQ(format_metric_value(std::ldexp(1.0, 62)), "4611686018427387904");
    EXPECT_EQ(format_metric_value(0.25), "0.25");
    EXPECT_EQ(format_metric_value(-1.5), "-1.5");
    EXPECT_EQ(format_metric_value(1e20), "1e+20");
    EXPECT_EQ(format_metric_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
    for (const double v : {1.0 / 3, 0.1, 123456.789, 5e-324, 1.7976931348623157e308}) {
        EXPECT_EQ(std::strtod(format_metric_value(v).c_str(), nullptr), v) << format_metric_value(v);
    }
}

TEST(MetricName, AcceptsConventionalNames) {
    EXPECT_TRUE(check_metric_name("nasops_sync_files_total", MetricType::counter));
    EXPECT_TRUE(check_metric_name("nasops_sync_transferred_bytes_total", MetricType::counter));
    EXPECT_TRUE(check_metric_name("nasops_disk_used_ratio", MetricType::gauge));
    EXPECT_TRUE(check_metric_name("nasops_lock_wait_seconds", MetricType::gauge));
    EXPECT_TRUE(check_metric_name("nasops_capacity_seconds_until_full", MetricType::gauge));
    EXPECT_TRUE(check_metric_name("nasops_up", MetricType::untyped));
    EXPECT_TRUE(check_metric_name("nasops_http_2xx_total", MetricType::untyped));
    EXPECT_TRUE(check_metric_name("nasops_errors_total", MetricType::untyped));
}

TEST(MetricName, RefusesWhatTheGrammarOrPromtoolWouldRefuse) {
    struct Case {
        const char* name;
        MetricType type;
        const char* why;
    };
    const Case cases[] = {
        {"", MetricType::gauge, "empty"},
        {"sync_files_total", MetricType::counter, "start with 'nasops_'"},
        {"nasops_", MetricType::gauge, "start with 'nasops_'"},
        {"nasops-files", MetricType::gauge, "only letters"},
        {"9nasops_x", MetricType::gauge, "only letters"},
        {"nasops_disk used", MetricType::gauge, "only letters"},
        {"nasops_job:errors", MetricType::gauge, "recording rules"},
        {"nasops_filesTotal", MetricType::gauge, "camelCase"},
        {"nasops_files", MetricType::counter, "ends in _total"},
        {"nasops_files_total", MetricType::gauge, "only counters"},
        {"nasops_files_count", MetricType::gauge, "_count"},
        {"nasops_wait_sum", MetricType::gauge, "_sum"},
        {"nasops_wait_bucket", MetricType::untyped, "_bucket"},
        {"nasops_queue_gauge", MetricType::gauge, "type 'gauge'"},
        {"nasops_errors_counter_total", MetricType::counter, "type 'counter'"},
        {"nasops_wait_ms", MetricType::gauge, "abbreviated"},
        {"nasops_wait_s", MetricType::gauge, "abbreviated"},
        {"nasops_size_mb", MetricType::gauge, "abbreviated"},
        {"nasops_days_until_full", MetricType::gauge, "base unit 'seconds' instead of 'days'"},
        {"nasops_wait_milliseconds", MetricType::gauge, "base unit 'seconds'"},
        {"nasops_sent_kilobytes_total", MetricType::counter, "base unit 'bytes'"},
        {"nasops_link_bits_total", MetricType::counter, "base unit 'bytes'"},
    };
    for (const auto& c : cases) {
        auto r = check_metric_name(c.name, c.type);
        ASSERT_FALSE(r) << c.name;
        EXPECT_EQ(r.error().code, ExitCode::software);
        EXPECT_NE(r.error().message.find(std::string("'") + c.name + "'"), std::string::npos) << r.error().message;
        EXPECT_NE(r.error().message.find(c.why), std::string::npos) << r.error().message;
    }
}

TEST(LabelName, AcceptsAndRefuses) {
    for (const char* good : {"mount", "_private", "job2", "target_host"}) EXPECT_TRUE(check_label_name(good)) << good;
    for (const char* bad : {"", "2job", "__name__", "__x", "fileSystem", "le", "quantile", "a-b", "a:b"}) {
        auto r = check_label_name(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ExitCode::software);
    }
}

TEST(Exposition, GroupsEachFamilyOnceEvenWhenSamplesInterleave) {
    Exposition e;
    ASSERT_TRUE(e.declare("nasops_disk_used_ratio", MetricType::gauge, "Used fraction of a file system."));
    ASSERT_TRUE(e.declare("nasops_sync_files_total", MetricType::counter, "Files uploaded."));
    ASSERT_TRUE(e.add("nasops_sync_files_total", {{"job", "drone"}}, 12));
    ASSERT_TRUE(e.add("nasops_disk_used_ratio", {{"mount", "/"}}, 0.5));
    ASSERT_TRUE(e.add("nasops_sync_files_total", {{"job", "cam"}}, 3));
    ASSERT_TRUE(e.add("nasops_disk_used_ratio", {{"mount", "/srv"}}, 0.25));
    EXPECT_EQ(e.text(),
              "# HELP nasops_disk_used_ratio Used fraction of a file system.\n"
              "# TYPE nasops_disk_used_ratio gauge\n"
              "nasops_disk_used_ratio{mount=\"/\"} 0.5\n"
              "nasops_disk_used_ratio{mount=\"/srv\"} 0.25\n"
              "# HELP nasops_sync_files_total Files uploaded.\n"
              "# TYPE nasops_sync_files_total counter\n"
              "nasops_sync_files_total{job=\"drone\"} 12\n"
              "nasops_sync_files_total{job=\"cam\"} 3\n");
}

TEST(Exposition, EscapesLabelValuesAndHelp) {
    Exposition e;
    ASSERT_TRUE(e.declare("nasops_up", MetricType::untyped, "A \"quoted\" back\\slash\nand a second line."));
    ASSERT_TRUE(e.add("nasops_up",
                      {{"path", "C:\\media\\\"new\"\nfolder"},
                       {"bad",
                        "x\xff"
                        "y"},
                       {"utf8", "\xe6\x97\xa5"}},
                      1));
    EXPECT_EQ(
        e.text(),
        "# HELP nasops_up A \"quoted\" back\\\\slash\\nand a second line.\n"
        "# TYPE nasops_up untyped\n"
        "nasops_up{path=\"C:\\\\media\\\\\\\"new\\\"\\nfolder\",bad=\"x\xef\xbf\xbdy\",utf8=\"\xe6\x97\xa5\"} 1\n");
}

TEST(Exposition, WritesSpecialValuesAndNoTimestamps) {
    Exposition e;
    ASSERT_TRUE(e.declare("nasops_capacity_seconds_until_full", MetricType::gauge, "Time left."));
    ASSERT_TRUE(e.add("nasops_capacity_seconds_until_full", {{"path", "/a"}}, std::numeric_limits<double>::infinity()));
    ASSERT_TRUE(e.add("nasops_capacity_seconds_until_full", {{"path", "/b"}}, std::nan("")));
    ASSERT_TRUE(
        e.add("nasops_capacity_seconds_until_full", {{"path", "/c"}}, -std::numeric_limits<double>::infinity()));
    ASSERT_TRUE(e.add("nasops_capacity_seconds_until_full", 86400));
    EXPECT_EQ(e.text(),
              "# HELP nasops_capacity_seconds_until_full Time left.\n"
              "# TYPE nasops_capacity_seconds_until_full gauge\n"
              "nasops_capacity_seconds_until_full{path=\"/a\"} +Inf\n"
              "nasops_capacity_seconds_until_full{path=\"/b\"} NaN\n"
              "nasops_capacity_seconds_until_full{path=\"/c\"} -Inf\n"
              "nasops_capacity_seconds_until_full 86400\n");
}

TEST(Exposition, LeavesOutFamiliesWithoutSamples) {
    Exposition e;
    EXPECT_TRUE(e.empty());
    EXPECT_EQ(e.text(), "");
    ASSERT_TRUE(e.declare("nasops_up", MetricType::gauge, "Up."));
    EXPECT_TRUE(e.empty());
    EXPECT_EQ(e.text(), "");
    ASSERT_TRUE(e.add("nasops_up", 1));
    EXPECT_FALSE(e.empty());
}

TEST(Exposition, RefusesProgrammingErrors) {
    Exposition e;
    ASSERT_TRUE(e.declare("nasops_up", MetricType::gauge, "Up."));
    ASSERT_TRUE(e.declare("nasops_up", MetricType::gauge, "Up.")) << "the same declaration twice is harmless";
    ASSERT_TRUE(e.declare("nasops_errors_total", MetricType::counter, "Errors."));

    auto expect_software = [](const Result<void>& r, std::string_view text) {
        ASSERT_FALSE(r) << text;
        EXPECT_EQ(r.error().code, ExitCode::software);
        EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
    };
    expect_software(e.declare("nasops_up", MetricType::untyped, "Up."), "declared twice");
    expect_software(e.declare("nasops_up", MetricType::gauge, "Other."), "declared twice");
    expect_software(e.declare("nasops_ready", MetricType::gauge, ""), "no help");
    expect_software(e.declare("nasops_filesTotal", MetricType::gauge, "x"), "camelCase");
    expect_software(e.add("nasops_down", 1), "never declared");
    expect_software(e.add("nasops_up", {{"__name__", "x"}}, 1), "reserved");
    expect_software(e.add("nasops_up", {{"mount", "/"}, {"mount", "/srv"}}, 1), "given twice");
    expect_software(e.add("nasops_errors_total", -1), "negative");
    expect_software(e.add("nasops_errors_total", -std::numeric_limits<double>::infinity()), "negative");

    ASSERT_TRUE(e.add("nasops_up", {{"mount", "/"}, {"fs", "ext4"}}, 1));
    expect_software(e.add("nasops_up", {{"fs", "ext4"}, {"mount", "/"}}, 0), "same labels");
    ASSERT_TRUE(e.add("nasops_up", 1));
    expect_software(e.add("nasops_up", {{"mount", ""}}, 1), "same labels");
    EXPECT_EQ(e.text(),
              "# HELP nasops_up Up.\n# TYPE nasops_up gauge\nnasops_up{mount=\"/\",fs=\"ext4\"} 1\nnasops_up 1\n")
        << "refused samples must leave no trace";
}

TEST(WriteTextfile, WritesAtomicallyWithMode0644WhateverTheUmask) {
    TempDir dir;
    write_file(dir / "nasops_health.prom", "# old\n");
    const mode_t old_umask = ::umask(077);
    auto r = write_textfile(dir.path(), "nasops_health.prom", "nasops_up 1\n");
    ::umask(old_umask);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(read_file(dir / "nasops_health.prom"), "nasops_up 1\n");
    EXPECT_FALSE(fs::exists(dir / "nasops_health.prom.tmp"));
    const auto perms = fs::status(dir / "nasops_health.prom").permissions();
    EXPECT_EQ(perms & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++entries;
    EXPECT_EQ(entries, 1u);
}

TEST(WriteTextfile, AMissingFolderIsCantCreateNamingThePath) {
    TempDir dir;
    const auto missing = dir / "no" / "such" / "dir";
    auto r = write_textfile(missing, "nasops_health.prom", "nasops_up 1\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::cant_create);
    EXPECT_NE(r.error().message.find((missing / "nasops_health.prom.tmp").string()), std::string::npos)
        << r.error().message;
    EXPECT_FALSE(fs::exists(dir / "no"));
}

TEST(WriteTextfile, AFolderUnderARegularFileIsCantCreate) {
    // chmod does not stop root, so an impossible path stands in for an unwritable folder.
    TempDir dir;
    write_file(dir / "file", "x");
    auto r = write_textfile(dir / "file", "nasops_health.prom", "nasops_up 1\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::cant_create);
    EXPECT_NE(r.error().message.find((dir / "file").string()), std::string::npos) << r.error().message;
    EXPECT_EQ(read_file(dir / "file"), "x");
}

TEST(WriteTextfile, AFailedWriteLeavesTheOldFileIntact) {
    TempDir dir;
    write_file(dir / "nasops_health.prom", "nasops_up 1\n");
    fs::create_directory(dir / "nasops_health.prom.tmp");  // the temporary file cannot be created
    auto r = write_textfile(dir.path(), "nasops_health.prom", "nasops_up 0\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::cant_create);
    EXPECT_EQ(read_file(dir / "nasops_health.prom"), "nasops_up 1\n");
}

TEST(WriteTextfile, AFailedRenameLeavesNoTemporaryFile) {
    TempDir dir;
    fs::create_directories(dir / "nasops_health.prom" / "occupied");  // a non-empty folder at the final name
    auto r = write_textfile(dir.path(), "nasops_health.prom", "nasops_up 0\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::cant_create);
    EXPECT_NE(r.error().message.find("rename"), std::string::npos) << r.error().message;
    EXPECT_FALSE(fs::exists(dir / "nasops_health.prom.tmp"));
    EXPECT_TRUE(fs::is_directory(dir / "nasops_health.prom" / "occupied"));
}

TEST(WriteTextfile, RefusesNamesTheCollectorWouldNotRead) {
    TempDir dir;
    for (const char* bad : {"", ".prom", "health.txt", "sub/health.prom", "health.prom.tmp"}) {
        auto r = write_textfile(dir.path(), bad, "nasops_up 1\n");
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ExitCode::software);
    }
    EXPECT_TRUE(fs::is_empty(dir.path()));
}
