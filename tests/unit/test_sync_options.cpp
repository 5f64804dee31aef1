#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "fixtures/temp_dir.hpp"
#include "nasops/core/config.hpp"
#include "sync/commands.hpp"
#include "sync/options.hpp"
#include "sync/sftp_target.hpp"

using namespace nasops;
using namespace nasops::sync;
using namespace std::chrono_literals;

namespace {

Config config_of(std::string_view text) {
    auto c = parse_config(text, "test.toml");
    if (!c) throw std::runtime_error(c.error().message);
    return *c;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST(SyncOptions, DefaultsComeFromTheSchema) {
    const auto s = resolve_settings(CliOptions{}, Config::defaults()).value();
    EXPECT_EQ(s.min_age, 30s);
    EXPECT_EQ(s.jobs, 4);
    EXPECT_EQ(s.verify, Verify::automatic);
    EXPECT_EQ(s.remove_source, RemoveSource::no);
    EXPECT_EQ(s.max_retries, 5);
    EXPECT_FALSE(s.bwlimit);
    EXPECT_FALSE(s.max_duration);
    EXPECT_FALSE(s.max_bytes);
    EXPECT_EQ(s.lock_timeout, 0s);
    EXPECT_TRUE(s.sources.empty());
}

TEST(SyncOptions, CommandLineOverridesTheConfig) {
    const auto config = config_of(R"(
[sync]
sources = ["/srv/a/", "/srv/b"]
min_age = "2m"
jobs = 2
verify = "size"
bwlimit = "1M"
max_bytes = "1G"
)");
    auto s = resolve_settings(CliOptions{}, config).value();
    EXPECT_EQ(s.sources, (std::vector<std::filesystem::path>{"/srv/a", "/srv/b"}));
    EXPECT_EQ(s.min_age, 2min);
    EXPECT_EQ(s.jobs, 2);
    EXPECT_EQ(s.verify, Verify::size);
    EXPECT_EQ(s.bwlimit, RateTimetable::parse("1M").value());
    EXPECT_EQ(s.max_bytes, 1024ull * 1024 * 1024);

    CliOptions cli;
    cli.sources = {"/srv/c"};
    cli.min_age = "5s";
    cli.jobs = 8;
    cli.verify = "sha256";
    cli.bwlimit = "10M";
    cli.max_duration = "50s";
    cli.lock_timeout = "1m";
    cli.remove_source = true;
    cli.max_retries = 0;
    s = resolve_settings(cli, config).value();
    EXPECT_EQ(s.sources, (std::vector<std::filesystem::path>{"/srv/c"}));
    EXPECT_EQ(s.min_age, 5s);
    EXPECT_EQ(s.jobs, 8);
    EXPECT_EQ(s.verify, Verify::sha256);
    EXPECT_EQ(s.bwlimit, RateTimetable::parse("10M").value());
    EXPECT_EQ(s.max_duration, 50s);
    EXPECT_EQ(s.lock_timeout, 1min);
    EXPECT_EQ(s.remove_source, RemoveSource::yes);
    EXPECT_EQ(s.max_retries, 0);
}

TEST(SyncOptions, BadValuesNameTheOption) {
    for (auto [field, value] : std::vector<std::pair<std::string, std::string>>{
             {"--min-age", "soon"}, {"--bwlimit", "fast"}, {"--max-duration", "-1"}, {"--max-bytes", "lots"}}) {
        CliOptions cli;
        if (field == "--min-age") cli.min_age = value;
        if (field == "--bwlimit") cli.bwlimit = value;
        if (field == "--max-duration") cli.max_duration = value;
        if (field == "--max-bytes") cli.max_bytes = value;
        auto r = resolve_settings(cli, Config::defaults());
        ASSERT_FALSE(r) << field;
        EXPECT_EQ(r.error().code, ExitCode::usage);
        EXPECT_TRUE(r.error().message.starts_with(field + ": ")) << r.error().message;
    }
    CliOptions jobs;
    jobs.jobs = 0;
    EXPECT_EQ(resolve_settings(jobs, Config::defaults()).error().code, ExitCode::usage);
    CliOptions state;
    state.state = "downloading";
    EXPECT_EQ(resolve_settings(state, Config::defaults()).error().code, ExitCode::usage);
}

TEST(SyncOptions, BwlimitTakesATimetableAndOffOrZeroIsNoLimit) {
    CliOptions cli;
    cli.bwlimit = "Mon-08:00,512k Sat-10:00,off";
    EXPECT_EQ(resolve_settings(cli, Config::defaults()).value().bwlimit,
              RateTimetable::parse("Mon-08:00,512k Sat-10:00,off").value());
    for (const auto none : {"0", "off", "08:00,off 19:00,0"}) {
        cli.bwlimit = none;
        EXPECT_FALSE(resolve_settings(cli, Config::defaults()).value().bwlimit) << none;
    }
    const auto config = config_of("[sync]\nbwlimit = \"08:00,2M 19:00,off\"\n");
    EXPECT_EQ(resolve_settings(CliOptions{}, config).value().bwlimit,
              RateTimetable::parse("08:00,2M 19:00,off").value());
    cli.bwlimit = "08:00,2M Fri-19:00";
    const auto bad = resolve_settings(cli, config);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ExitCode::usage);
    EXPECT_EQ(bad.error().message.find("--bwlimit: invalid bandwidth timetable entry 2 'Fri-19:00'"), 0u)
        << bad.error().message;
}

TEST(SyncOptions, RemoveSourceNeedsVerification) {
    const auto config = config_of("[sync]\nremove_source = true\nverify = \"none\"\n");
    auto r = resolve_settings(CliOptions{}, config);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::config);
    EXPECT_TRUE(contains(r.error().message, "test.toml:2:17: sync.remove_source")) << r.error().message;

    CliOptions cli;
    cli.remove_source = true;
    cli.verify = "none";
    EXPECT_EQ(resolve_settings(cli, Config::defaults()).error().code, ExitCode::usage);
    cli.verify = "size";
    EXPECT_TRUE(resolve_settings(cli, config));
}

TEST(SyncOptions, DeleteEmptySrcDirsOnlyWithRemoveSource) {
    CliOptions cli;
    cli.delete_empty_src_dirs = true;
    auto r = resolve_settings(cli, Config::defaults());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::usage);
    EXPECT_TRUE(r.error().message.starts_with("--delete-empty-src-dirs: ")) << r.error().message;

    const auto config = config_of("[sync]\ndelete_empty_src_dirs = true\n");
    r = resolve_settings(CliOptions{}, config);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::config);
    EXPECT_TRUE(contains(r.error().message, "test.toml:2:25: sync.delete_empty_src_dirs")) << r.error().message;

    cli.remove_source = true;
    EXPECT_EQ(resolve_settings(cli, Config::defaults()).value().delete_empty_src_dirs, DeleteEmptySrcDirs::yes);
    const auto both = config_of("[sync]\nremove_source = true\ndelete_empty_src_dirs = true\n");
    EXPECT_EQ(resolve_settings(CliOptions{}, both).value().delete_empty_src_dirs, DeleteEmptySrcDirs::yes);
    EXPECT_EQ(resolve_settings(CliOptions{}, Config::defaults()).value().delete_empty_src_dirs, DeleteEmptySrcDirs::no);
}

TEST(SyncOptions, TargetIsALocalFolderAnSftpUrlOrTheNasSection) {
    const auto config = config_of(R"(
[nas]
host = "192.168.200.103"
port = 2222
user = "nasops"
identity_file = "/etc/nasops/id_ed25519"
known_hosts = "/etc/nasops/known_hosts"
remote_root = "/volume1/media"
)");
    auto nas = resolve_target(CliOptions{}, config).value();
    EXPECT_EQ(nas.kind, TargetSpec::Kind::sftp);
    EXPECT_EQ(nas.display(), "sftp://nasops@192.168.200.103:2222/volume1/media");
    EXPECT_EQ(nas.ssh.identity_file, "/etc/nasops/id_ed25519");

    CliOptions local;
    local.target = "/mnt/nas/";
    auto l = resolve_target(local, config).value();
    EXPECT_EQ(l.kind, TargetSpec::Kind::local);
    EXPECT_EQ(l.local_root, "/mnt/nas");

    CliOptions url;
    url.target = "sftp://other@[::1]:2200/data/";
    auto u = resolve_target(url, config).value();
    EXPECT_EQ(u.ssh.host, "::1");
    EXPECT_EQ(u.ssh.port, 2200);
    EXPECT_EQ(u.ssh.user, "other");
    EXPECT_EQ(u.remote_root, "/data");
    EXPECT_EQ(u.ssh.known_hosts, "/etc/nasops/known_hosts") << "key settings still come from [nas]";
    EXPECT_EQ(u.display(), "sftp://other@[::1]:2200/data");

    url.target = "sftp://nas.local/x";
    EXPECT_EQ(resolve_target(url, config).value().ssh.user, "nasops");
    EXPECT_EQ(resolve_target(url, config).value().ssh.port, 2222);

    for (const char* bad : {"sftp://host", "sftp:///path", "sftp://h:99999/p", "sftp://@h/p", "sftp://[::1/p"}) {
        url.target = bad;
        auto r = resolve_target(url, config);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ExitCode::usage) << bad;
        EXPECT_TRUE(contains(r.error().message, bad)) << r.error().message;
    }
}

TEST(SyncOptions, MissingNasSettingsAreConfigErrorsWithPositions) {
    auto r = resolve_target(CliOptions{}, config_of("[nas]\nuser = \"x\"\n"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::config);
    EXPECT_TRUE(contains(r.error().message, "nas.host")) << r.error().message;

    r = resolve_target(CliOptions{}, config_of("[sync]\ntarget = \"relative/dir\"\n"));
    ASSERT_FALSE(r);
    EXPECT_TRUE(contains(r.error().message, "test.toml:2:10: sync.target")) << r.error().message;
}

TEST(SyncOptions, PassphraseFileMustBePrivate) {
    nasops::testing::TempDir dir;
    nasops::testing::write_file(dir / "pass", "secret words\nignored\n");
    const auto text = fmt::format(
        "[nas]\nhost = \"h\"\nuser = \"u\"\nremote_root = \"/r\"\nknown_hosts = \"/k\"\n"
        "passphrase_file = \"{}\"\n",
        (dir / "pass").string());
    ::chmod((dir / "pass").c_str(), 0644);
    auto r = resolve_target(CliOptions{}, config_of(text));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::config);
    EXPECT_TRUE(contains(r.error().message, "readable by others")) << r.error().message;
    ::chmod((dir / "pass").c_str(), 0600);
    EXPECT_EQ(resolve_target(CliOptions{}, config_of(text)).value().ssh.passphrase, "secret words");
}

TEST(SyncOptions, Sha256sumOutputWithEscapedNames) {
    const std::string a(64, 'a');
    const std::string b(64, 'b');
    const std::string c(64, 'C');
    const std::vector<std::string> names{"/r/plain name.mp4", "/r/new\nline.mp4", "/r/back\\slash", "/r/missing"};
    const std::string output =
        a + "  /r/plain name.mp4\n" + "\\" + b + "  /r/new\\nline.mp4\n" + "\\" + c + "  /r/back\\\\slash\n";
    const auto d = parse_sha256sum_output(output, names);
    ASSERT_EQ(d.size(), 4u);
    EXPECT_EQ(d[0], a);
    EXPECT_EQ(d[1], b);
    EXPECT_EQ(d[2], c);
    EXPECT_FALSE(d[3]);
    EXPECT_FALSE(parse_sha256sum_output("garbage\n", names)[0]);
}

TEST(SyncOptions, PrintableNamesStayOnOneLine) {
    EXPECT_EQ(printable("plain ünï.mp4"), "plain ünï.mp4");
    EXPECT_EQ(printable("a\nb\tc\\d"), "a\\nb\\tc\\\\d");
    EXPECT_EQ(printable(std::string("x\x01\xff", 3)), "x\\x01\\xff");
}
