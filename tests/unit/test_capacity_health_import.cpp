#include <gtest/gtest.h>

#include <sstream>

#include "capacity/health_import.hpp"

using namespace nasops;
using namespace nasops::capacity;

namespace {

std::vector<ReadItem> read_all(const std::string& text) {
    std::istringstream in(text);
    RecordReader reader(in);
    std::vector<ReadItem> out;
    while (auto item = reader.next()) out.push_back(std::move(*item));
    return out;
}

Record only_record(const std::string& line) {
    auto items = read_all(line + "\n");
    if (items.size() != 1 || !std::holds_alternative<Record>(items[0])) throw std::runtime_error("not one record");
    return std::get<Record>(items[0]);
}

}  // namespace

// The line nasops-health writes for a disk check: 25% used, 750 GiB free.
TEST(CapacityHealthImport, DiskCheckGivesUsedAndTotal) {
    const auto r = only_record(
        R"({"v":1,"ts":"2026-11-22T04:16:40.123Z","tool":"health","host":"cam-01","kind":"check","name":"disk",)"
        R"("target":"/srv/media","status":"ok","value":0.25,"unit":"ratio","message":"25% used",)"
        R"("duration_ms":1,"metrics":[{"name":"disk_used","value":0.25,"unit":"ratio","status":"ok"},)"
        R"({"name":"disk_free","value":805306368000,"unit":"bytes","status":"ok"}]})");
    const auto s = sample_from_check(r).value().value();
    EXPECT_EQ(s.target, "/srv/media");
    EXPECT_EQ(s.sample.ts, 1795321000);  // the record's ts, to the second
    EXPECT_EQ(s.sample.total, 1073741824000u);
    EXPECT_EQ(s.sample.used, 268435456000u);
}

TEST(CapacityHealthImport, NasDiskCheckIsTheNasTarget) {
    const auto r = only_record(
        R"({"v":1,"ts":"2026-11-22T04:16:40Z","tool":"health","host":"cam-01","kind":"check","name":"nas_disk",)"
        R"("target":"nas:/volume1/media","status":"warning","metrics":[{"name":"nas_disk_used","value":0.5},)"
        R"({"name":"nas_disk_free","value":1000}]})");
    const auto s = sample_from_check(r).value().value();
    EXPECT_EQ(s.target, "nas:/volume1/media");
    EXPECT_EQ(s.sample.used, 1000u);
    EXPECT_EQ(s.sample.total, 2000u);
}

TEST(CapacityHealthImport, OtherRecordsAreNotSamples) {
    EXPECT_FALSE(
        sample_from_check(only_record(R"({"v":1,"ts":"2026-11-22T04:16:40Z","tool":"health","host":"h","kind":"check",)"
                                      R"("name":"memory","status":"ok","value":0.3})"))
            .value());
    EXPECT_FALSE(sample_from_check(only_record(R"({"v":1,"ts":"2026-11-22T04:16:40Z","tool":"sync","host":"h",)"
                                               R"("kind":"metric","name":"disk","value":1})"))
                     .value());
    // A disk check that could not measure (unknown) holds no figures: nothing to record.
    EXPECT_FALSE(sample_from_check(only_record(R"({"v":1,"ts":"2026-11-22T04:16:40Z","tool":"health","host":"h",)"
                                               R"("kind":"check","name":"disk","target":"/x","status":"unknown",)"
                                               R"("message":"statvfs: No such file"})"))
                     .value());
}

TEST(CapacityHealthImport, ADiskCheckWithoutFiguresIsBadData) {
    const auto missing = sample_from_check(
        only_record(R"({"v":1,"ts":"2026-11-22T04:16:40Z","tool":"health","host":"h","kind":"check","name":"disk",)"
                    R"("target":"/x","status":"ok","value":0.2})"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ExitCode::data_error);
    EXPECT_NE(missing.error().message.find("disk_used"), std::string::npos) << missing.error().message;
    const auto out_of_range = sample_from_check(only_record(
        R"({"v":1,"ts":"2026-11-22T04:16:40Z","tool":"health","host":"h","kind":"check","name":"disk",)"
        R"("target":"/x","status":"ok","metrics":[{"name":"disk_used","value":1.5},{"name":"disk_free","value":1}]})"));
    ASSERT_FALSE(out_of_range);
    EXPECT_EQ(out_of_range.error().code, ExitCode::data_error);
}
