#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <string>

#include "fixtures/fault_row.hpp"

namespace {

// --fault-table: run only the rows of the fault matrix and print their table.
bool take_fault_table_flag(int& argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--fault-table") != 0) continue;
        for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
        --argc;
        return true;
    }
    return false;
}

std::string joined_fault_filters() {
    std::string filter;
    for (const auto& f : nasops::testing::fault_row_filters()) filter += (filter.empty() ? "" : ":") + f;
    return filter;
}

}  // namespace

// Integration tests start and stop real servers; a peer that closes early must
// fail the test that talks to it, not kill the whole run with SIGPIPE.
int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    const bool fault_table = take_fault_table_flag(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    if (fault_table) {
        // A --gtest_filter of the caller's own picks among the rows.
        if (GTEST_FLAG_GET(filter) == "*") GTEST_FLAG_SET(filter, joined_fault_filters());
        ::testing::UnitTest::GetInstance()->listeners().Append(new nasops::testing::FaultTablePrinter);
    }
    return RUN_ALL_TESTS();
}
