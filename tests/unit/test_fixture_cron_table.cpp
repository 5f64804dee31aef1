// The cron table reader the day-in-one test plays the shipped crontab with.

#include <gtest/gtest.h>

#include <stdexcept>

#include "fixtures/cron_table.hpp"

using namespace nasops::testing;

namespace {

const char* const k_table =
    "# a comment\n"
    "SHELL=/bin/sh\n"
    "PATH=/usr/local/bin:/usr/bin:/bin\n"
    "\n"
    "* * * * *    nasops  nasops-sync run --quiet\n"
    "*/5 * * * *  nasops  nasops-health --format json | nasops-alert --quiet > /dev/null\n"
    "15 3 * * *   nasops  nasops-dbmaint daily\n"
    "45 4 * * 0   nasops  nasops-dbmaint verify --quiet\n"
    "# With a collector:\n"
    "#* * * * *   nasops  nasops-trace export --quiet\n";

CronLine line(const std::string& fields) {
    return cron_lines(fields + " root true").at(0);
}

}  // namespace

TEST(FixtureCronTable, ReadsTheJobsTheVariablesAndOnRequestTheCommentedJobs) {
    const auto lines = cron_lines(k_table);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[1].user, "nasops");
    EXPECT_EQ(lines[1].command, "nasops-health --format json | nasops-alert --quiet > /dev/null");
    EXPECT_EQ(lines[3].fields, (std::vector<std::string>{"45", "4", "*", "*", "0"}));
    const auto with_optional = cron_lines(k_table, CommentedJobs::include);
    ASSERT_EQ(with_optional.size(), 5u);
    EXPECT_EQ(with_optional[4].command, "nasops-trace export --quiet");
    EXPECT_EQ(cron_variables(k_table).at("PATH"), "/usr/local/bin:/usr/bin:/bin");
}

TEST(FixtureCronTable, DecidesWhenALineIsDueAsCronDoes) {
    EXPECT_TRUE(cron_due(line("*/5 * * * *"), {.minute = 35, .hour = 7}));
    EXPECT_FALSE(cron_due(line("*/5 * * * *"), {.minute = 36, .hour = 7}));
    EXPECT_TRUE(cron_due(line("15 3 * * *"), {.minute = 15, .hour = 3}));
    EXPECT_FALSE(cron_due(line("15 3 * * *"), {.minute = 15, .hour = 4}));
    EXPECT_TRUE(cron_due(line("45 4 * * 0"), {.minute = 45, .hour = 4, .day_of_week = 0}));
    EXPECT_FALSE(cron_due(line("45 4 * * 0"), {.minute = 45, .hour = 4, .day_of_week = 1}));
    EXPECT_TRUE(cron_due(line("45 4 * * 7"), {.minute = 45, .hour = 4, .day_of_week = 0}));
    EXPECT_TRUE(cron_due(line("0 9-17/4,23 * * *"), {.minute = 0, .hour = 13}));
    EXPECT_FALSE(cron_due(line("0 9-17/4,23 * * *"), {.minute = 0, .hour = 11}));
    EXPECT_TRUE(cron_due(line("0 9-17/4,23 * * *"), {.minute = 0, .hour = 23}));
    // Both days restricted: either one.
    EXPECT_TRUE(cron_due(line("0 0 1 * 1"), {.day_of_month = 1, .day_of_week = 3}));
    EXPECT_TRUE(cron_due(line("0 0 1 * 1"), {.day_of_month = 9, .day_of_week = 1}));
    EXPECT_FALSE(cron_due(line("0 0 1 * 1"), {.day_of_month = 9, .day_of_week = 3}));
    EXPECT_THROW(cron_due(line("61 * * * *"), {}), std::invalid_argument);
    EXPECT_THROW(cron_due(line("x * * * *"), {}), std::invalid_argument);
}
