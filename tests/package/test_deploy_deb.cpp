// The .deb of `make -f Makefile.ops deb` on this machine, for real: dpkg -i,
// the installed tools and the demo, the nasops user's quiet cron run, then
// dpkg --purge and nothing left but what policy keeps (the nasops user).
// It installs into /usr and /etc as root, so it runs alone (RUN_SERIAL),
// refuses to run over an existing install, and purges on every way out.

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures/child_process.hpp"
#include "nasops/version.hpp"

namespace fs = std::filesystem;
using nasops::testing::run_command;

namespace {

const std::vector<std::string> k_tools{"sync", "health", "alert", "capacity", "dbmaint", "trace"};

fs::path the_package() {
    const fs::path dir = NASOPS_BINARY_DIR "/package";
    for (const auto& entry : fs::directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        if (name.starts_with("nasops_") && name.ends_with(".deb")) return entry.path();
    }
    return {};
}

// Installed, or half-installed by a failed dpkg -i: anything but gone or purged.
bool installed() {
    const auto status = run_command({"dpkg-query", "-W", "-f=${Status}", "nasops"});
    return status.exit_code == 0 && status.out.find("not-installed") == std::string::npos &&
           status.out.find("config-files") == std::string::npos;
}

// Purges the package whatever way the test leaves.
class PurgeAtExit {
public:
    ~PurgeAtExit() {
        if (installed()) run_command({"dpkg", "--purge", "nasops"}, {}, std::chrono::minutes(2));
    }
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

}  // namespace

TEST(DeployDeb, InstallsRunsAndPurgesCleanly) {
    ASSERT_EQ(::geteuid(), 0u) << "dpkg -i needs root (CI runs the tests as root)";
    const auto deb = the_package();
    ASSERT_FALSE(deb.empty()) << "no nasops_*.deb in " NASOPS_BINARY_DIR "/package (the DebPackage step makes it)";
    ASSERT_FALSE(installed()) << "nasops is installed on this machine already: the test will not touch it";
    for (const auto* path : {"/etc/cron.d/nasops", "/etc/logrotate.d/nasops", "/etc/nasops/nasops.toml"})
        ASSERT_FALSE(fs::exists(path)) << path << " exists (a source install?): the test will not take it over";

    PurgeAtExit purge;
    const auto dpkg = run_command({"dpkg", "-i", deb.string()}, {}, std::chrono::minutes(2));
    ASSERT_EQ(dpkg.exit_code, 0) << dpkg.out << dpkg.err;

    // The tools, by their installed path: a /usr/local install may come first in PATH.
    const auto version = run_command({"/usr/bin/nasops-sync", "--version"});
    EXPECT_EQ(version.exit_code, 0) << version.err;
    EXPECT_NE(version.out.find(nasops::k_version), std::string::npos) << version.out;
    for (const auto& tool : k_tools) {
        const auto sections = run_command({"readelf", "-S", "-W", "/usr/bin/nasops-" + tool});
        EXPECT_EQ(sections.out.find(".debug_info"), std::string::npos) << "nasops-" << tool << " is not stripped";
    }

    // The system side of postinst: the user, its folders, its config.
    const auto* user = ::getpwnam("nasops");
    ASSERT_NE(user, nullptr) << "postinst made no nasops user";
    struct stat st {};
    for (const auto* dir : {"/var/lib/nasops", "/var/log/nasops"}) {
        ASSERT_EQ(::stat(dir, &st), 0) << dir;
        EXPECT_EQ(st.st_uid, user->pw_uid) << dir;
    }
    ASSERT_EQ(::stat("/etc/nasops/nasops.toml", &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_uid, user->pw_uid);
    const auto conffiles = run_command({"dpkg-query", "-W", "-f=${Conffiles}", "nasops"}).out;
    for (const auto* file : {"/etc/nasops/nasops.toml", "/etc/cron.d/nasops", "/etc/logrotate.d/nasops"})
        EXPECT_NE(conffiles.find(file), std::string::npos) << file << " is not a conffile:\n" << conffiles;
    EXPECT_TRUE(fs::exists("/lib/systemd/system/nasops-sync.service"));
    EXPECT_FALSE(fs::exists("/etc/systemd/system/timers.target.wants/nasops-sync.timer")) << "a timer is enabled";

    // The fleet's rules, where prometheus.yml can name them, with their unit tests; the dashboard to import.
    const auto rules =
        run_command({"/usr/bin/promtool", "check", "rules", "/usr/share/nasops/prometheus/nasops.rules.yml"});
    EXPECT_EQ(rules.exit_code, 0) << rules.out << rules.err;
    EXPECT_TRUE(fs::exists("/usr/share/nasops/prometheus/tests/storage.test.yml"));
    EXPECT_TRUE(fs::exists("/usr/share/nasops/grafana/nasops.json"));

    // The cron line as the nasops user, on the installed config: nothing said, exit 0.
    const auto cron = run_command({"runuser", "-u", "nasops", "--", "/usr/bin/nasops-sync", "run", "--quiet"});
    EXPECT_EQ(cron.exit_code, 0) << cron.err;
    EXPECT_EQ(cron.err, "");

    const auto demo = run_command({NASOPS_SOURCE_DIR "/deploy/demo.sh", "/usr/bin"}, {}, std::chrono::minutes(3));
    EXPECT_EQ(demo.exit_code, 0) << demo.out << demo.err;
    EXPECT_NE(demo.out.find("on the stand-in NAS:"), std::string::npos) << demo.out;
    const auto demo_dir = demo.out.substr(demo.out.rfind("rm -rf ") + 7);
    if (demo_dir.starts_with("/tmp/nasops-demo.")) fs::remove_all(demo_dir.substr(0, demo_dir.find('\n')));

    const auto files = lines_of(run_command({"dpkg", "-L", "nasops"}).out);
    ASSERT_GT(files.size(), 20u);
    const auto purged = run_command({"dpkg", "--purge", "nasops"}, {}, std::chrono::minutes(2));
    ASSERT_EQ(purged.exit_code, 0) << purged.out << purged.err;
    // Left: folders other packages own (/usr/bin...), and the nasops user, which Debian keeps.
    for (const auto& file : files) {
        if (!fs::exists(file)) continue;
        EXPECT_TRUE(fs::is_directory(file) && run_command({"dpkg", "-S", file}).exit_code == 0)
            << file << " is left after the purge";
    }
    for (const auto* path : {"/etc/nasops", "/var/lib/nasops", "/var/log/nasops", "/run/nasops"})
        EXPECT_FALSE(fs::exists(path)) << path << " is left after the purge";
    EXPECT_NE(::getpwnam("nasops"), nullptr) << "the nasops user is kept, as Debian keeps system users";
}
