// The ssh rule for files that hold secrets, and which URLs carry a credential.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures/temp_dir.hpp"
#include "nasops/core/private_file.hpp"

using namespace nasops;
using nasops::testing::TempDir;
using nasops::testing::write_file;

TEST(PrivateFile, ReadsTheFirstLineOfAPrivateFile) {
    TempDir dir;
    const auto path = dir / "secret";
    write_file(path, "hunter2\r\nsecond line\n");
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    EXPECT_EQ(read_private_line(path).value(), "hunter2");
    ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
    EXPECT_EQ(read_private_line(path).value(), "hunter2");
}

TEST(PrivateFile, AFileOpenToOthersIsRefusedWithTheChmodToRun) {
    TempDir dir;
    const auto path = dir / "secret";
    write_file(path, "hunter2\n");
    for (const auto& [mode, says] :
         {std::pair{0644, "is readable by others (mode 0644)"}, std::pair{0640, "is readable by others (mode 0640)"},
          std::pair{0602, "is writable by others (mode 0602)"}}) {
        ASSERT_EQ(::chmod(path.c_str(), static_cast<mode_t>(mode)), 0);
        const auto line = read_private_line(path);
        ASSERT_FALSE(line) << says;
        EXPECT_EQ(line.error().code, ExitCode::config);
        EXPECT_EQ(line.error().message,
                  path.string() + " " + says + ", which ssh refuses for a key: run chmod 600 " + path.string());
        EXPECT_EQ(line.error().message.find("hunter2"), std::string::npos);
    }
}

TEST(PrivateFile, AFileOfAnotherUserIsRefusedWithTheChownToRun) {
    TempDir dir;
    const auto path = dir / "secret";
    write_file(path, "hunter2\n");
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    ASSERT_EQ(::geteuid(), 0u) << "the tests run as root, to give a file to another user";
    ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
    const auto line = read_private_line(path);
    ASSERT_FALSE(line);
    EXPECT_EQ(line.error().code, ExitCode::config);
    EXPECT_EQ(line.error().message,
              path.string() + " is owned by nobody, not by root: run chown root " + path.string());
}

TEST(PrivateFile, AMissingFileIsNamed) {
    TempDir dir;
    const auto line = read_private_line(dir / "nothing");
    ASSERT_FALSE(line);
    EXPECT_EQ(line.error().code, ExitCode::config);
    EXPECT_EQ(line.error().message, "cannot open " + (dir / "nothing").string() + ": No such file or directory");
}

TEST(PrivateFile, UrlsThatCarryACredential) {
    EXPECT_TRUE(url_holds_secret("https://ops:hunter2@example.com/hook"));
    EXPECT_TRUE(url_holds_secret("smtp://nasops:pw@mail.example.com:587"));
    EXPECT_TRUE(url_holds_secret("https://oapi.dingtalk.com/robot/send?access_token=abc"));
    EXPECT_TRUE(url_holds_secret("https://example.com/x?a=1&KEY=abc"));
    EXPECT_TRUE(url_holds_secret("https://example.com/x?api_key=abc#top"));
    EXPECT_TRUE(url_holds_secret("https://example.com/x?sig=abc"));
    EXPECT_TRUE(url_holds_secret("https://hooks.slack.com/services/T0/B0/XXXX"));
    EXPECT_TRUE(url_holds_secret("https://HOOKS.SLACK.COM:443/services/T0/B0/XXXX"));

    EXPECT_FALSE(url_holds_secret("https://ops@example.com/hook")) << "a user without a password";
    EXPECT_FALSE(url_holds_secret("https://example.com/x?monkey=1&keyboard=2"));
    EXPECT_FALSE(url_holds_secret("https://example.com/key=abc")) << "in the path, not the query";
    EXPECT_FALSE(url_holds_secret("http://127.0.0.1:9093/"));
    EXPECT_FALSE(url_holds_secret("/etc/nasops/key=1"));
    EXPECT_FALSE(url_holds_secret("a:b@c")) << "not a URL";
}
