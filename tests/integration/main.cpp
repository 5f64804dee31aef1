#include <gtest/gtest.h>
#include <signal.h>

// Integration tests start and stop real servers; a peer that closes early must
// fail the test that talks to it, not kill the whole run with SIGPIPE.
int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
