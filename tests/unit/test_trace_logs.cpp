#include <gtest/gtest.h>
#include <zlib.h>

#include <sstream>

#include "fixtures/temp_dir.hpp"
#include "nasops/record/record.hpp"
#include "trace/logs.hpp"

using namespace nasops;
using namespace nasops::trace;
using namespace std::chrono_literals;

namespace {

const SystemTimePoint k_now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + 12h;

std::string log_line(SystemTimePoint t, std::string_view tool, std::string_view level, std::string_view message) {
    return fmt::format("{} nasops-{}[42] {}: {}\n", rfc3339_millis(t), tool, level, message);
}

void write_gz(const std::filesystem::path& path, const std::string& text) {
    gzFile f = gzopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
}

}  // namespace

TEST(TraceLogsTest, ParsesALogLine) {
    const auto line = parse_log_line("2026-11-22T04:16:40.123Z nasops-sync[123] warning: upload of /a failed: x");
    ASSERT_TRUE(line);
    EXPECT_EQ(line->tool, "sync");
    EXPECT_EQ(line->level, LogLevel::warning);
    EXPECT_EQ(line->message, "upload of /a failed: x");
    EXPECT_EQ(rfc3339_millis(line->time), "2026-11-22T04:16:40.123Z");
    EXPECT_FALSE(parse_log_line("garbage"));
    EXPECT_FALSE(parse_log_line("2026-11-22T04:16:40.123Z nasops-sync[123] loud: x"));
    EXPECT_FALSE(parse_log_line("2026-11-22T04:16:40.123Z other[1] info: x"));
}

TEST(TraceLogsTest, NormalisesWhatVaries) {
    EXPECT_EQ(normalise_message("upload of /srv/media/a1.mp4 failed: connection reset"),
              normalise_message("upload of /srv/media/other/b.mp4 failed: connection reset"));
    EXPECT_EQ(normalise_message("upload of /srv/a.mp4 failed: connection reset"),
              "upload of PATH failed: connection reset");
    EXPECT_EQ(normalise_message("cannot reach 10.0.0.5:22 after 3 attempts"), "cannot reach HOST after N attempts");
    EXPECT_EQ(normalise_message("nas.local:2222 refused"), "HOST refused");
    EXPECT_EQ(normalise_message("POST https://hooks.example.com/x?token=1 answered 503"), "POST URL answered N");
    EXPECT_EQ(normalise_message("notification 4bf92f3577b34da6 to 'ops' failed (attempt 2 of 5)"),
              "notification ID to '...' failed (attempt N of N)");
    EXPECT_EQ(normalise_message("waited 1.5s for the lock"), "waited Ns for the lock");
}

TEST(TraceLogsTest, SparklineScalesToTheMaximum) {
    EXPECT_EQ(sparkline({0, 1, 8}, unicode_glyphs()), " ▂█");
    EXPECT_EQ(sparkline({0, 1, 8}, ascii_glyphs()), " .#");
    EXPECT_EQ(sparkline({}, unicode_glyphs()), "");
    EXPECT_EQ(sparkline({0, 0}, unicode_glyphs()), "  ");
}

TEST(TraceLogsTest, AnalysesRotatedGzippedAndAuditLogs) {
    nasops::testing::TempDir dir;
    std::string current, rotated;
    current += log_line(k_now - 30min, "sync", "warning", "upload of /srv/a.mp4 failed: connection reset");
    current += log_line(k_now - 20min, "sync", "warning", "upload of /srv/b.mp4 failed: connection reset");
    current += log_line(k_now - 10min, "sync", "info", "uploaded 3 files");
    current += log_line(k_now - 5min, "sync", "debug", "noise");
    current += "not a log line\n";
    rotated += log_line(k_now - 3h, "sync", "error", "cannot reach 10.0.0.5:22");
    rotated += log_line(k_now - 30h, "sync", "error", "too old for the window");
    nasops::testing::write_file(dir / "sync.log", current);
    write_gz(dir / "sync.log.2.gz", rotated);
    nasops::testing::write_file(dir / "health.log", log_line(k_now - 2h, "health", "warning", "check disk took 12s"));
    // Lines as nasops-sync writes them (schema/audit/audit.schema.json).
    const nlohmann::json failed{{"event", "TRANSFER_FAILED"},  {"pid", 4242},  {"path", "/srv/a.mp4"},
                                {"error", "connection reset"}, {"attempt", 1}, {"final", false}};
    std::string audit;
    for (int i = 0; i < 3; ++i) audit += format_record(RecordKind::event, failed, "sync", "cam", k_now - 10min).value();
    audit += format_record(RecordKind::event, failed, "sync", "cam", k_now - 5h).value();
    nasops::testing::write_file(dir / "audit.log", audit);

    const auto a = analyse_logs(dir.path(), LogFilter{.since = k_now - 24h, .now = k_now}).value();
    EXPECT_EQ(a.by_level.at("warning"), 3u);
    EXPECT_EQ(a.by_level.at("error"), 1u);
    EXPECT_EQ(a.by_level.at("info"), 1u);
    EXPECT_FALSE(a.by_level.contains("debug"));
    EXPECT_EQ(a.by_tool.at("sync"), 4u);
    EXPECT_EQ(a.by_tool.at("health"), 1u);
    EXPECT_EQ(a.unreadable, 1u);
    ASSERT_GE(a.kinds.size(), 3u);
    EXPECT_EQ(a.kinds[0].level, LogLevel::error);  // worst level first, then most frequent
    EXPECT_EQ(a.kinds[1].pattern, "upload of PATH failed: connection reset");
    EXPECT_EQ(a.kinds[1].count, 2u);
    EXPECT_EQ(a.kinds[1].first_seen, std::chrono::floor<std::chrono::milliseconds>(k_now - 30min));
    EXPECT_EQ(a.kinds[1].example, "upload of /srv/b.mp4 failed: connection reset");
    ASSERT_EQ(a.hourly.size(), 24u);
    EXPECT_EQ(a.hourly[23], 3u);  // the last hour: two warnings and one info
    EXPECT_EQ(a.audit.at("TRANSFER_FAILED"), 4u);
    EXPECT_EQ(a.audit_last_hour.at("TRANSFER_FAILED"), 3u);

    const auto warnings =
        analyse_logs(dir.path(),
                     LogFilter{.since = k_now - 24h, .now = k_now, .tool = "sync", .max_level = LogLevel::warning})
            .value();
    EXPECT_FALSE(warnings.by_level.contains("info"));
    EXPECT_FALSE(warnings.by_tool.contains("health"));

    std::istringstream in(logs_records(a, 10, "cam", k_now).value());
    bool saw_kind = false, saw_audit = false;
    for (std::string line; std::getline(in, line);) {
        const auto j = nlohmann::json::parse(line);
        EXPECT_EQ(j.at("kind"), "metric");
        if (j.at("name") == "log_message_kind" &&
            j.at("labels").at("pattern") == "upload of PATH failed: connection reset") {
            saw_kind = true;
            EXPECT_EQ(j.at("value"), 2);
        }
        if (j.at("name") == "audit_events_last_hour") {
            saw_audit = true;
            EXPECT_EQ(j.at("value"), 3);
        }
    }
    EXPECT_TRUE(saw_kind);
    EXPECT_TRUE(saw_audit);
    EXPECT_NE(logs_text(a, 10, unicode_glyphs()).find("upload of PATH failed"), std::string::npos);
}
