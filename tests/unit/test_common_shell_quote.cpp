#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fixtures/child_process.hpp"
#include "nasops/ssh/shell_quote.hpp"

using namespace nasops;

TEST(ShellQuote, WrapsEveryArgumentInSingleQuotes) {
    EXPECT_EQ(shell_quote("plain"), "'plain'");
    EXPECT_EQ(shell_quote(""), "''");
    EXPECT_EQ(shell_quote("with space"), "'with space'");
    EXPECT_EQ(shell_quote("-rf"), "'-rf'");
    EXPECT_EQ(shell_quote("$(reboot)"), "'$(reboot)'");
    EXPECT_EQ(shell_quote("a\nb"), "'a\nb'");
}

TEST(ShellQuote, EscapesSingleQuotesByClosingAndReopening) {
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_quote("'"), "''\\'''");
    EXPECT_EQ(shell_quote("''"), "''\\'''\\'''");
}

TEST(ShellJoin, QuotesAndSeparatesWithOneSpace) {
    const std::vector<std::string> argv{"ls", "-l", "my dir", ""};
    EXPECT_EQ(shell_join(argv), "'ls' '-l' 'my dir' ''");
    EXPECT_EQ(shell_join(std::vector<std::string>{}), "");
}

// The contract that matters: a POSIX shell turns the joined line back into
// exactly the original arguments, whatever they hold.
TEST(ShellJoin, RoundTripsThroughAPosixShell) {
    const std::vector<std::string> args{"plain",
                                        "with  two spaces",
                                        "it's",
                                        "\"double\"",
                                        "$(echo pwned)",
                                        "`echo pwned`",
                                        "$HOME",
                                        "${PATH}",
                                        "a\nb\n",
                                        "\ttab",
                                        "-n",
                                        "--",
                                        "*",
                                        "?",
                                        "[a]",
                                        "~",
                                        ";",
                                        "&& echo x",
                                        "| cat",
                                        "> out",
                                        "\\back\\slash",
                                        "",
                                        "!",
                                        "#not a comment",
                                        "'",
                                        "''",
                                        "\"'\"",
                                        "\x01\x7f",
                                        "caf\xc3\xa9"};
    std::vector<std::string> argv{"printf", "%s\\n"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = nasops::testing::run_command({"/bin/sh", "-c", shell_join(argv)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string expected;
    for (const std::string& a : args) expected += a + "\n";
    EXPECT_EQ(r.out, expected);
    EXPECT_EQ(r.err, "");
}
