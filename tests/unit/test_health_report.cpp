#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <clocale>
#include <regex>
#include <sstream>

#include "health/report.hpp"
#include "health/thresholds.hpp"
#include "nasops/core/environment.hpp"
#include "nasops/record/record.hpp"

using namespace nasops;
using namespace nasops::health;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

namespace {

std::vector<CheckResult> sample_results() {
    const auto t = Thresholds::defaults();
    std::vector<CheckResult> results;
    CheckResult disk{.name = "disk", .target = "/srv/media", .message = "91.0% used"};
    auto used = t.metric("disk_used", 0.91);
    used.min = 0;
    used.max = 1;
    disk.metrics.push_back(used);
    auto free = t.metric("disk_free", 9e9);
    free.min = 0;
    free.max = 1e11;
    disk.metrics.push_back(free);
    disk.duration = 3ms;
    results.push_back(disk);
    CheckResult memory{.name = "memory", .message = "40.0% used"};
    memory.metrics.push_back(t.metric("memory_used", 0.4));
    results.push_back(memory);
    CheckResult tls{.name = "tls", .target = "nas.example:5001", .message = "expires soon"};
    tls.metrics.push_back(t.metric("tls_cert_expiry", 20 * 86400.0));
    results.push_back(tls);
    results.push_back(CheckResult{.name = "service",
                                  .target = "nasops-sync.service",
                                  .status = Status::unknown,
                                  .message = "systemd is not running"});
    for (auto& r : results) evaluate(r);
    return results;
}

}  // namespace

TEST(HealthReport, TextIsAlignedWithSymbols) {
    const auto results = sample_results();
    const auto text = render_text(results, false, unicode_glyphs());
    EXPECT_EQ(text,
              "\u2717 CRITICAL disk     /srv/media           91.0% used (critical: disk_used 91.0% above 90.0%)\n"
              "\u2713 OK       memory                        40.0% used\n"
              "\u26a0 WARNING  tls      nas.example:5001     expires soon (warning: tls_cert_expiry 20.0 days below "
              "30.0 days)\n"
              "? UNKNOWN  service  nasops-sync.service  systemd is not running\n");
    EXPECT_EQ(text.find('\033'), std::string::npos);
    const auto coloured = render_text(results, true, unicode_glyphs());
    EXPECT_THAT(coloured, HasSubstr("\033[31m\u2717 CRITICAL\033[0m disk"));
    EXPECT_THAT(coloured, HasSubstr("\033[32m\u2713 OK      \033[0m memory"));
    EXPECT_EQ(overall_status(results), Status::critical);
    EXPECT_EQ(overall_status({}), Status::ok);
}

TEST(HealthReport, TextOutsideAUtf8LocaleIsAscii) {
    const auto text = render_text(sample_results(), false, ascii_glyphs());
    EXPECT_EQ(text.substr(0, text.find('\n')),
              "x CRITICAL disk     /srv/media           91.0% used (critical: disk_used 91.0% above 90.0%)");
    EXPECT_THAT(text, HasSubstr("\n+ OK       memory"));
    EXPECT_THAT(text, HasSubstr("\n! WARNING  tls"));
    EXPECT_TRUE(std::ranges::all_of(text, [](char c) { return static_cast<unsigned char>(c) < 0x80; })) << text;
}

TEST(HealthReport, Utf8LocaleIsReadAsSetlocaleWould) {
    EXPECT_TRUE(locale_is_utf8(fixed_environment({{"LANG", "en_US.UTF-8"}})));
    EXPECT_TRUE(locale_is_utf8(fixed_environment({{"LC_CTYPE", "C.utf8"}, {"LANG", "C"}})));
    EXPECT_TRUE(locale_is_utf8(fixed_environment({{"LANG", "de_DE.utf8@euro"}})));
    EXPECT_FALSE(locale_is_utf8(fixed_environment({})));  // cron's environment
    EXPECT_FALSE(locale_is_utf8(fixed_environment({{"LC_ALL", "C"}, {"LANG", "en_US.UTF-8"}})));
    EXPECT_FALSE(locale_is_utf8(fixed_environment({{"LC_ALL", "POSIX"}})));
    EXPECT_FALSE(locale_is_utf8(fixed_environment({{"LANG", "de_DE.ISO-8859-1"}})));
    EXPECT_TRUE(locale_is_utf8(fixed_environment({{"LC_ALL", ""}, {"LANG", "en_GB.UTF-8"}})));  // empty = unset
}

TEST(HealthReport, JsonIsOneCheckRecordPerCheck) {
    const auto results = sample_results();
    std::ostringstream out;
    ManualClock clock(SystemTimePoint{std::chrono::seconds(1'800'000'000)});
    RecordWriter writer(out, "health", "cam-01", clock);
    ASSERT_TRUE(write_records(writer, results));
    std::istringstream in(out.str());
    RecordReader reader(in);
    std::vector<Record> records;
    while (auto item = reader.next()) {
        ASSERT_TRUE(std::holds_alternative<Record>(*item));
        records.push_back(std::get<Record>(*item));
    }
    ASSERT_EQ(records.size(), 4u);
    const auto& disk = records[0];
    EXPECT_EQ(disk.kind, RecordKind::check);
    EXPECT_EQ(disk.tool, "health");
    EXPECT_EQ(disk.host, "cam-01");
    EXPECT_EQ(disk.ts, "2027-01-15T08:00:00.000Z");
    const auto& o = disk.object;
    EXPECT_EQ(o["name"], "disk");
    EXPECT_EQ(o["target"], "/srv/media");
    EXPECT_EQ(o["status"], "critical");
    EXPECT_DOUBLE_EQ(o["value"].get<double>(), 0.91);
    EXPECT_EQ(o["unit"], "ratio");
    EXPECT_EQ(o["warn"], "0.8");
    EXPECT_EQ(o["crit"], "0.9");
    EXPECT_EQ(o["duration_ms"], 3);
    EXPECT_THAT(o["message"].get<std::string>(), HasSubstr("91.0% used"));
    ASSERT_EQ(o["metrics"].size(), 2u);
    EXPECT_EQ(o["metrics"][1]["name"], "disk_free");
    EXPECT_EQ(o["metrics"][1]["unit"], "bytes");
    EXPECT_FALSE(o["metrics"][1].contains("warn"));
    EXPECT_FALSE(o.contains("labels"));

    EXPECT_FALSE(records[1].object.contains("target"));  // a field that does not apply is left out
    EXPECT_EQ(records[2].object["unit"], "seconds");
    EXPECT_EQ(records[2].object["warn"], "2592000:");
    const auto& unknown = records[3].object;
    EXPECT_EQ(unknown["status"], "unknown");
    EXPECT_FALSE(unknown.contains("value"));
    EXPECT_FALSE(unknown.contains("metrics"));

    auto with_labels = results[1];
    with_labels.labels = {{"site", "north"}};
    EXPECT_EQ(check_record_fields(with_labels)["labels"]["site"], "north");
}

TEST(HealthReport, NagiosLineAndPerfdata) {
    // A locale with a decimal comma must not leak into perfdata.
    const char* previous = std::setlocale(LC_NUMERIC, "de_DE.UTF-8");
    const auto results = sample_results();
    const auto out = render_nagios(results);
    if (previous != nullptr) std::setlocale(LC_NUMERIC, "C");
    const auto first = out.substr(0, out.find('\n'));
    const auto bar = first.find(" | ");
    ASSERT_NE(bar, std::string::npos) << first;
    const auto status = first.substr(0, bar);
    EXPECT_LT(status.size(), 80u);
    EXPECT_EQ(status, nagios_status_line(results));
    // The tally gives way to why the worst check alerted.
    EXPECT_EQ(status, "HEALTH CRITICAL - disk /srv/media: critical: disk_used 91.0% above 90.0%");
    const auto perf = first.substr(bar + 3);
    EXPECT_EQ(perf,
              "'disk_used /srv/media'=91%;80;90;0;100 'disk_free /srv/media'=9000000000B;;;0;100000000000 "
              "'memory_used'=40%;80;95 'tls_cert_expiry nas.example:5001'=1728000s;2592000:;604800:");
    // Every perfdata item has the shape of the plugin guidelines.
    const std::regex item(R"('[^']+'=-?[0-9.]+(%|B|s|c)?(;[~@0-9.:-]*){0,4})");
    std::istringstream words(perf);
    std::string pending;
    int items = 0;
    for (std::string w; words >> w;) {
        pending += pending.empty() ? w : " " + w;
        if (std::count(pending.begin(), pending.end(), '\'') % 2 == 0 && pending.find('=') != std::string::npos) {
            EXPECT_TRUE(std::regex_match(pending, item)) << pending;
            ++items;
            pending.clear();
        }
    }
    EXPECT_EQ(items, 4);
    // The long output: one line per check.
    EXPECT_THAT(out, HasSubstr("\n[UNKNOWN] service nasops-sync.service: systemd is not running\n"));
}

TEST(HealthReport, NagiosSingleCheckIsNamedAndCut) {
    CheckResult r{.name = "tls",
                  .target = "nas.example:5001",
                  .status = Status::ok,
                  .message = std::string(200, 'x') + " | not perfdata"};
    const std::vector<CheckResult> one{r};
    const auto line = nagios_status_line(one);
    EXPECT_EQ(line.rfind("TLS OK - nas.example:5001: xxx", 0), 0u) << line;
    EXPECT_LE(line.size(), 79u);
    EXPECT_TRUE(line.ends_with("...")) << line;
    EXPECT_EQ(render_nagios(one), line + "\n");  // no metrics: no " | ", no long output

    CheckResult pipe{.name = "logs", .message = "a | b"};
    EXPECT_EQ(nagios_status_line(std::vector<CheckResult>{pipe}), "LOGS OK - a / b");
}

// Cutting the status line must never cut why it alerted: the description
// before the reason is what gets shortened.
TEST(HealthReport, NagiosLineShortensTheDescriptionNeverTheReason) {
    const auto t = Thresholds::defaults();
    CheckResult load{.name = "load", .message = "load 9.61 9.20 8.75 on 4 CPUs (2.40 2.30 2.19 per CPU)"};
    load.metrics.push_back(t.metric("load1_per_core", 2.40));
    evaluate(load);
    ASSERT_EQ(load.reason, " (critical: load1_per_core 2.40 above 2)");
    const std::vector<CheckResult> one{load};
    const auto line = nagios_status_line(one);
    EXPECT_LE(line.size(), 79u) << line;
    EXPECT_EQ(line.rfind("LOAD CRITICAL - load 9.61 9.20", 0), 0u) << line;
    EXPECT_TRUE(line.ends_with("... (critical: load1_per_core 2.40 above 2)")) << line;

    // The same in the many-checks line, whose reason is the worst check's.
    CheckResult memory{.name = "memory", .message = "40.0% used"};
    memory.metrics.push_back(t.metric("memory_used", 0.4));
    evaluate(memory);
    const std::vector<CheckResult> two{memory, load};
    const auto many = nagios_status_line(two);
    EXPECT_LE(many.size(), 79u) << many;
    EXPECT_EQ(many.rfind("HEALTH CRITICAL - load: load 9.61", 0), 0u) << many;
    EXPECT_TRUE(many.ends_with("... (critical: load1_per_core 2.40 above 2)")) << many;
}

TEST(HealthReport, PerfdataLabelsAreQuoted) {
    const auto t = Thresholds::defaults();
    CheckResult r{.name = "disk", .target = "/srv/o'brien=1"};
    r.metrics.push_back(t.metric("disk_free", 1));
    const auto out = render_nagios(std::vector<CheckResult>{r});
    EXPECT_THAT(out, HasSubstr("'disk_free /srv/o''brien_1'=1B"));
}

TEST(HealthReport, PrometheusFamiliesInBaseUnits) {
    auto results = sample_results();
    results[0].labels = {{"site", "north"}};
    auto text = render_prom(results);
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_THAT(*text, HasSubstr("# TYPE nasops_health_check_status gauge\n"));
    EXPECT_THAT(*text,
                HasSubstr("nasops_health_check_status{check=\"disk\",target=\"/srv/media\",site=\"north\"} 2\n"));
    EXPECT_THAT(*text, HasSubstr("nasops_health_check_status{check=\"memory\"} 0\n"));
    EXPECT_THAT(*text, HasSubstr("nasops_health_check_status{check=\"service\",target=\"nasops-sync.service\"} 3\n"));
    EXPECT_THAT(
        *text,
        HasSubstr("nasops_health_check_duration_seconds{check=\"disk\",target=\"/srv/media\",site=\"north\"} 0.003\n"));
    EXPECT_THAT(*text, HasSubstr("nasops_disk_used_ratio{target=\"/srv/media\",site=\"north\"} 0.91\n"));
    EXPECT_THAT(*text, HasSubstr("nasops_disk_free_bytes{target=\"/srv/media\",site=\"north\"} 9000000000\n"));
    EXPECT_THAT(*text, HasSubstr("nasops_tls_cert_expiry_seconds{target=\"nas.example:5001\"} 1728000\n"));
    EXPECT_THAT(*text, HasSubstr("# HELP nasops_memory_used_ratio "));
    EXPECT_EQ(text->find("NaN"), std::string::npos);
}
