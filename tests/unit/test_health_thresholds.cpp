#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "health/thresholds.hpp"
#include "nasops/obs/metrics.hpp"

using namespace nasops;
using namespace nasops::health;
using ::testing::HasSubstr;

namespace {

Config config(const std::string& text) {
    auto c = parse_config(text, "test.toml");
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c ? *c : Config::defaults();
}

}  // namespace

TEST(HealthMetricSpecs, DefaultsParseAndNamesPassPromtoolRules) {
    const auto defaults = Thresholds::defaults();  // throws on a malformed default
    std::set<std::string> prom_names;
    for (const auto& spec : metric_specs()) {
        const auto name = prometheus_name(spec);
        auto ok = check_metric_name(name, MetricType::gauge);
        EXPECT_TRUE(ok) << (ok ? "" : ok.error().message);
        EXPECT_TRUE(prom_names.insert(name).second) << "duplicate " << name;
        EXPECT_FALSE(spec.help.empty()) << spec.name;
        EXPECT_NE(std::ranges::find(check_names(), spec.check), check_names().end()) << spec.check;
        EXPECT_NO_THROW((void)defaults.get(spec.name));
    }
    EXPECT_EQ(check_names().size(), 15u);
    EXPECT_EQ(canonical_check_name("nas-disk"), "nas_disk");  // the former spelling
    EXPECT_EQ(canonical_check_name("nas_disk"), "nas_disk");
}

TEST(HealthMetricSpecs, HandbookDefaults) {
    const auto t = Thresholds::defaults();
    auto m = t.metric("disk_used", 0.85);
    EXPECT_EQ(m.quantity, Quantity::percent);
    ASSERT_TRUE(m.warn && m.crit);
    EXPECT_DOUBLE_EQ(m.warn->end, 0.8);
    EXPECT_DOUBLE_EQ(m.crit->end, 0.9);
    EXPECT_DOUBLE_EQ(t.get("memory_used").crit->end, 0.95);
    EXPECT_DOUBLE_EQ(t.get("cpu_used").warn->end, 0.7);
    EXPECT_DOUBLE_EQ(t.get("load1_per_core").warn->end, 1.5);
    EXPECT_DOUBLE_EQ(t.get("db_size").crit->end, 5.0 * 1024 * 1024 * 1024);
    EXPECT_DOUBLE_EQ(t.get("logs_largest_file").warn->end, 100.0 * 1024 * 1024);
    EXPECT_DOUBLE_EQ(t.get("tls_cert_expiry").crit->start, 7 * 86400.0);
    EXPECT_DOUBLE_EQ(t.get("transfer_rate").warn->start, 10e6);
    EXPECT_DOUBLE_EQ(t.get("security_findings").warn->end, 0) << "any finding warns";
    EXPECT_FALSE(t.get("security_findings").crit);
    EXPECT_DOUBLE_EQ(t.get("transfer_success").crit->start, 0.9);
    EXPECT_DOUBLE_EQ(t.get("ssh_success").crit->start, 0.8);
    EXPECT_DOUBLE_EQ(t.get("ssh_latency").crit->end, 10.0);
    EXPECT_DOUBLE_EQ(t.get("process_uptime").crit->start, 60.0);
    EXPECT_FALSE(t.get("process_uptime").warn);
    EXPECT_FALSE(t.get("disk_free").warn);
    EXPECT_THROW((void)t.get("no_such_metric"), std::logic_error);
}

TEST(HealthThresholds, ConfigOverridesAndSwitchesOff) {
    auto c = config(R"([health.warn]
disk_used = "85"
tls_cert_expiry = "21:"
[health.crit]
disk_used = "95%"
logs_largest_file = ""
)");
    auto t = Thresholds::resolve(c.section("health"), "", std::nullopt, std::nullopt);
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_DOUBLE_EQ(t->get("disk_used").warn->end, 0.85);
    EXPECT_DOUBLE_EQ(t->get("disk_used").crit->end, 0.95);
    EXPECT_DOUBLE_EQ(t->get("tls_cert_expiry").warn->start, 21 * 86400.0);
    EXPECT_FALSE(t->get("logs_largest_file").crit);
    EXPECT_TRUE(t->get("logs_largest_file").warn);
}

TEST(HealthThresholds, BadConfigReportsEveryProblemWithItsPlace) {
    auto c = config(R"([health.warn]
disk_usd = "85"
memory_used = "lots"
[health.crit]
load1_per_core = "3:2"
)");
    auto t = Thresholds::resolve(c.section("health"), "", std::nullopt, std::nullopt);
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code, ExitCode::config);
    EXPECT_THAT(t.error().message, HasSubstr("test.toml:"));
    EXPECT_THAT(t.error().message, HasSubstr("unknown metric 'disk_usd' (did you mean 'disk_used'?)"));
    EXPECT_THAT(t.error().message, HasSubstr("memory_used: invalid threshold 'lots'"));
    EXPECT_THAT(t.error().message, HasSubstr("load1_per_core: invalid threshold '3:2': start is above end"));
}

TEST(HealthThresholds, CommandLineSetsThePrimaryMetricsOfOneCheck) {
    const auto c = Config::defaults();
    auto t = Thresholds::resolve(c.section("health"), "load", std::string("3"), std::string("4"));
    ASSERT_TRUE(t) << t.error().message;
    for (const auto* name : {"load1_per_core", "load5_per_core", "load15_per_core"}) {
        EXPECT_DOUBLE_EQ(t->get(name).warn->end, 3.0) << name;
        EXPECT_DOUBLE_EQ(t->get(name).crit->end, 4.0) << name;
    }
    auto tls = Thresholds::resolve(c.section("health"), "tls", std::string("21:"), std::nullopt);
    ASSERT_TRUE(tls);
    EXPECT_DOUBLE_EQ(tls->get("tls_cert_expiry").warn->start, 21 * 86400.0);
    EXPECT_DOUBLE_EQ(tls->get("tls_cert_expiry").crit->start, 7 * 86400.0);  // -c not given: default kept
    auto disk = Thresholds::resolve(c.section("health"), "disk", std::nullopt, std::string("95"));
    ASSERT_TRUE(disk);
    EXPECT_DOUBLE_EQ(disk->get("disk_used").crit->end, 0.95);
    EXPECT_DOUBLE_EQ(disk->get("disk_inodes_used").crit->end, 0.9);  // not primary

    auto none = Thresholds::resolve(c.section("health"), "service", std::string("1"), std::nullopt);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, ExitCode::usage);
    EXPECT_THAT(none.error().message, HasSubstr("the service check has no thresholds"));
    auto bad = Thresholds::resolve(c.section("health"), "disk", std::string("9O"), std::nullopt);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ExitCode::usage);
    EXPECT_THAT(bad.error().message, HasSubstr("-w: invalid threshold '9O'"));
}

// check_load's triplets: one range each for the 1, 5 and 15 minute averages.
TEST(HealthThresholds, LoadTakesCheckLoadTriplets) {
    const auto c = Config::defaults();
    auto t = Thresholds::resolve(c.section("health"), "load", std::string("1,0.8,0.6"), std::string("2,1.5,1"));
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_DOUBLE_EQ(t->get("load1_per_core").warn->end, 1.0);
    EXPECT_DOUBLE_EQ(t->get("load5_per_core").warn->end, 0.8);
    EXPECT_DOUBLE_EQ(t->get("load15_per_core").warn->end, 0.6);
    EXPECT_DOUBLE_EQ(t->get("load1_per_core").crit->end, 2.0);
    EXPECT_DOUBLE_EQ(t->get("load5_per_core").crit->end, 1.5);
    EXPECT_DOUBLE_EQ(t->get("load15_per_core").crit->end, 1.0);

    auto two = Thresholds::resolve(c.section("health"), "load", std::string("1,1"), std::nullopt);
    ASSERT_FALSE(two);
    EXPECT_EQ(two.error().code, ExitCode::usage);
    EXPECT_EQ(two.error().message,
              "-w: '1,1' has 2 ranges; the load check takes one, or one each for load1_per_core, load5_per_core, "
              "load15_per_core");
    auto disk = Thresholds::resolve(c.section("health"), "disk", std::nullopt, std::string("90,95"));
    ASSERT_FALSE(disk);
    EXPECT_THAT(disk.error().message, HasSubstr("-c: '90,95' has 2 ranges; the disk check takes one"));
}

// check_disk's thresholds are on free space: "-w 20% -c 10%" and "-w 500M" moved
// over unchanged must give check_disk's answer, not the opposite one.
TEST(HealthThresholds, DiskTakesCheckDiskFreeSpaceForms) {
    const auto c = Config::defaults();
    auto percent = Thresholds::resolve(c.section("health"), "disk", std::string("20%"), std::string("10%"));
    ASSERT_TRUE(percent) << percent.error().message;
    const auto& used = percent->get("disk_used");
    EXPECT_FALSE(used.warn->alerts(0.79));  // 21% free
    EXPECT_FALSE(used.warn->alerts(0.80));  // exactly 20% free: check_disk warns below it
    EXPECT_TRUE(used.warn->alerts(0.81));
    EXPECT_FALSE(used.crit->alerts(0.90));
    EXPECT_TRUE(used.crit->alerts(0.91));

    auto bytes = Thresholds::resolve(c.section("health"), "nas_disk", std::string("500M"), std::string("100M"));
    ASSERT_TRUE(bytes) << bytes.error().message;
    const auto& free = bytes->get("nas_disk_free");
    EXPECT_TRUE(free.warn->alerts(499.0 * 1024 * 1024));
    EXPECT_FALSE(free.warn->alerts(500.0 * 1024 * 1024));
    EXPECT_TRUE(free.crit->alerts(99.0 * 1024 * 1024));
    EXPECT_FALSE(bytes->get("nas_disk_used").warn);  // the size replaced the used-space threshold
    EXPECT_FALSE(bytes->get("nas_disk_used").crit);
    EXPECT_TRUE(bytes->get("nas_disk_inodes_used").warn);  // not primary: untouched

    auto mixed = Thresholds::resolve(c.section("health"), "disk", std::string("85"), std::string("1G"));
    ASSERT_TRUE(mixed) << mixed.error().message;
    EXPECT_DOUBLE_EQ(mixed->get("disk_used").warn->end, 0.85);  // a bare number stays used space
    EXPECT_FALSE(mixed->get("disk_used").crit);
    EXPECT_DOUBLE_EQ(mixed->get("disk_free").crit->start, 1024.0 * 1024 * 1024);

    auto as_used =
        Thresholds::resolve(c.section("health"), "disk", std::string("80%"), std::string("90%"), PercentOf::used);
    ASSERT_TRUE(as_used) << as_used.error().message;
    EXPECT_DOUBLE_EQ(as_used->get("disk_used").warn->end, 0.80);
    EXPECT_DOUBLE_EQ(as_used->get("disk_used").crit->end, 0.90);

    auto over = Thresholds::resolve(c.section("health"), "disk", std::string("120%"), std::nullopt);
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, ExitCode::usage);
    EXPECT_EQ(over.error().message, "-w: '120%' is not a share of free space between 0% and 100%");

    // Other checks keep their own meaning of "%".
    auto memory = Thresholds::resolve(c.section("health"), "memory", std::string("70%"), std::nullopt);
    ASSERT_TRUE(memory) << memory.error().message;
    EXPECT_DOUBLE_EQ(memory->get("memory_used").warn->end, 0.70);
}
