// The security check's scan on real files with real modes and owners (the
// tests run as root, so they can give a file to nobody).

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "fixtures/temp_dir.hpp"
#include "health/checks.hpp"
#include "health/security_scan.hpp"

using namespace nasops;
using namespace nasops::health;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using nasops::testing::TempDir;
using nasops::testing::write_file;

namespace {

void mode(const fs::path& path, mode_t m) {
    ASSERT_EQ(::chmod(path.c_str(), m), 0) << path;
}

std::string writable(const fs::path& path, mode_t m) {
    return fmt::format("{} is writable by everyone (mode {:04o}): run chmod o-w {}", path.string(), m, path.string());
}

}  // namespace

TEST(SecurityScan, FindsWhatEveryoneMayWriteAndSetuidFilesAmongTheMedia) {
    TempDir dir;
    const auto media = dir / "media";
    write_file(media / "cam" / "a.mp4", "a");
    write_file(media / "cam" / "b.mp4", "b");
    write_file(media / "tool", "#!/bin/sh\n");
    mode(media, 0755);
    mode(media / "cam", 0777);
    mode(media / "cam" / "a.mp4", 0646);
    mode(media / "cam" / "b.mp4", 0644);
    mode(media / "tool", 04755);
    fs::create_symlink("/etc/passwd", media / "link");  // a link's mode (0777) means nothing

    SecurityFindings findings(100);
    scan_tree(media, Setuid::finding, Depth::whole_tree, findings);
    EXPECT_EQ(findings.examined, 6u);
    std::vector<std::string> sorted = findings.listed();
    std::ranges::sort(sorted);
    EXPECT_THAT(sorted, ElementsAre(writable(media / "cam", 0777), writable(media / "cam" / "a.mp4", 0646),
                                    fmt::format("{} is setuid (mode 4755): run chmod u-s,g-s {}",
                                                (media / "tool").string(), (media / "tool").string())));
    EXPECT_EQ(findings.total(), 3u);

    SecurityFindings elsewhere(100);
    scan_tree(media, Setuid::allowed, Depth::whole_tree, elsewhere);
    EXPECT_EQ(elsewhere.total(), 2u) << "setuid is a finding among the media only";
}

TEST(SecurityScan, TheLinksAreNotFollowed) {
    TempDir dir;
    write_file(dir / "outside" / "open", "x");
    mode(dir / "outside" / "open", 0666);
    fs::create_directories(dir / "media");
    fs::create_directory_symlink(dir / "outside", dir / "media" / "elsewhere");
    SecurityFindings findings(100);
    scan_tree(dir / "media", Setuid::finding, Depth::whole_tree, findings);
    EXPECT_EQ(findings.total(), 0u);
    EXPECT_EQ(findings.examined, 2u) << "the folder and the link, nothing behind it";
}

TEST(SecurityScan, OneLevelOnlyForTheConfigFolder) {
    TempDir dir;
    write_file(dir / "etc" / "deep" / "open", "x");
    mode(dir / "etc" / "deep" / "open", 0666);
    write_file(dir / "etc" / "nasops.toml", "");
    mode(dir / "etc" / "nasops.toml", 0666);
    SecurityFindings findings(100);
    scan_tree(dir / "etc", Setuid::allowed, Depth::its_entries, findings);
    EXPECT_THAT(findings.listed(), ElementsAre(writable(dir / "etc" / "nasops.toml", 0666)));
}

TEST(SecurityScan, EveryFindingIsCountedButOnlyTheFirstAreListed) {
    TempDir dir;
    for (int i = 0; i < 30; ++i) {
        write_file(dir / "media" / fmt::format("f{:02}", i), "x");
        mode(dir / "media" / fmt::format("f{:02}", i), 0666);
    }
    SecurityFindings findings(10);
    scan_tree(dir / "media", Setuid::finding, Depth::whole_tree, findings);
    EXPECT_EQ(findings.total(), 30u);
    EXPECT_EQ(findings.listed().size(), 10u);
}

TEST(SecurityScan, SecretFilesMustBePrivateAndKnownHostsOwnedByUsOrRoot) {
    TempDir dir;
    const auto key = dir / "id_ed25519";
    const auto known_hosts = dir / "known_hosts";
    write_file(key, "key");
    write_file(known_hosts, "nas ssh-ed25519 AAAA\n");
    mode(key, 0644);
    mode(known_hosts, 0644);
    ASSERT_EQ(::geteuid(), 0u) << "the tests run as root, to give a file to another user";
    ASSERT_EQ(::chown(known_hosts.c_str(), 65534, 65534), 0);

    SecurityFindings findings(100);
    check_private_file(key, findings);
    check_file_owner(known_hosts, findings);
    check_private_file(dir / "missing", findings);
    EXPECT_THAT(
        findings.listed(),
        ElementsAre(key.string() +
                        " is readable by others (mode 0644), which ssh refuses for a key: run "
                        "chmod 600 " +
                        key.string(),
                    known_hosts.string() + " is owned by nobody, not by root: run chown root " + known_hosts.string()));

    mode(key, 0600);
    ASSERT_EQ(::chown(known_hosts.c_str(), 0, 0), 0);
    SecurityFindings fixed(100);
    check_private_file(key, fixed);
    check_file_owner(known_hosts, fixed);
    EXPECT_EQ(fixed.total(), 0u);
    EXPECT_EQ(fixed.examined, 2u);
}

TEST(SecurityCheck, CountsFindingsAndQuotesTheFirstInItsMessage) {
    TempDir dir;
    for (int i = 0; i < 5; ++i) {
        write_file(dir / "media" / fmt::format("f{}", i), "x");
        mode(dir / "media" / fmt::format("f{}", i), 0666);
    }
    fs::create_directories(dir / "state");
    mode(dir / "state", 0755);
    mode(dir / "media", 0755);
    const auto thresholds = std::make_shared<const Thresholds>(Thresholds::defaults());
    auto check = make_security_check(SecurityTargets{.media = {dir / "media"}, .folders = {dir / "state"}}, thresholds);
    const CheckContext context{.clock = std::make_shared<ManualClock>(SystemTimePoint{})};
    auto result = check->run(context);
    evaluate(result);
    EXPECT_EQ(result.status, Status::warning);
    ASSERT_FALSE(result.metrics.empty());
    EXPECT_EQ(result.metrics[0].name, "security_findings");
    EXPECT_EQ(result.metrics[0].value, 5);
    EXPECT_THAT(result.message, HasSubstr("5 findings in 7 files and folders: "));
    EXPECT_THAT(result.message, HasSubstr("; and 2 more"));
    EXPECT_THAT(result.message, HasSubstr("is writable by everyone (mode 0666): run chmod o-w " + dir.path().string()));

    for (int i = 0; i < 5; ++i) mode(dir / "media" / fmt::format("f{}", i), 0644);
    auto clean = check->run(context);
    evaluate(clean);
    EXPECT_EQ(clean.status, Status::ok);
    EXPECT_EQ(clean.message, "no findings in 7 files and folders");
}
