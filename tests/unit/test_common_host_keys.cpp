// The NAS host keys sync records and health's security check reads (db/host_keys).

#include <gtest/gtest.h>

#include <chrono>

#include "fixtures/temp_dir.hpp"
#include "nasops/db/host_keys.hpp"
#include "nasops/db/store.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace std::chrono_literals;

namespace {

const SystemTimePoint k_t0 = SystemTimePoint(std::chrono::sys_days(std::chrono::year(2026) / 11 / 22)) + 4h;

class HostKeys : public ::testing::Test {
protected:
    bool seen(const HostKey& key, SystemTimePoint when) {
        auto r = record_host_key(store.db(), key, when);
        EXPECT_TRUE(r) << r.error().message;
        return r.value_or(false);
    }
    std::vector<SeenHostKey> changes() {
        auto r = unacknowledged_host_key_changes(store.db());
        EXPECT_TRUE(r) << r.error().message;
        return r.value_or(std::vector<SeenHostKey>{});
    }

    nasops::testing::TempDir dir{"nasops-host-keys"};
    Store store = Store::open(dir.path() / "nasops.db", sync::migrations()).value();
    const HostKey a{"nas:22", "ssh-ed25519", "SHA256:aaaa"};
    const HostKey b{"nas:22", "ssh-ed25519", "SHA256:bbbb"};
};

}  // namespace

TEST_F(HostKeys, TheFirstKeyOfAnEndpointIsTrustedAndSeeingItAgainIsNoChange) {
    EXPECT_FALSE(seen(a, k_t0));
    EXPECT_FALSE(seen(a, k_t0 + 1h));
    EXPECT_TRUE(changes().empty());
    const auto keys = read_host_keys(store.db()).value();
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys[0].first_seen, "2026-11-22T04:00:00.000Z");
    EXPECT_EQ(keys[0].last_seen, "2026-11-22T05:00:00.000Z");
    EXPECT_TRUE(keys[0].latest);
    EXPECT_FALSE(keys[0].replaced);
}

TEST_F(HostKeys, AChangedKeyIsAChangeUntilAcknowledgedAndTheOldOneIsKept) {
    seen(a, k_t0);
    EXPECT_TRUE(seen(b, k_t0 + 1h));
    EXPECT_FALSE(seen(b, k_t0 + 2h)) << "the same new key again is not a second change";
    auto listed = changes();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].key, b);
    ASSERT_TRUE(listed[0].replaced);
    EXPECT_EQ(*listed[0].replaced, a);
    EXPECT_EQ(listed[0].replaced_last_seen, "2026-11-22T04:00:00.000Z");
    EXPECT_EQ(read_host_keys(store.db()).value().size(), 2u);

    EXPECT_EQ(acknowledge_host_key_changes(store.db(), k_t0 + 3h).value().size(), 1u);
    EXPECT_TRUE(changes().empty());
    EXPECT_EQ(acknowledge_host_key_changes(store.db(), k_t0 + 3h).value().size(), 0u);
}

TEST_F(HostKeys, AKeyThatComesBackIsAChangeAgainAndOtherEndpointsAreApart) {
    seen(a, k_t0);
    seen(b, k_t0 + 1h);
    acknowledge_host_key_changes(store.db(), k_t0 + 2h).value();
    EXPECT_TRUE(seen(a, k_t0 + 3h));
    auto listed = changes();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].key, a);
    EXPECT_EQ(*listed[0].replaced, b);

    EXPECT_FALSE(seen(HostKey{"backup:2222", "ecdsa-sha2-nistp256", "SHA256:cccc"}, k_t0 + 4h));
    EXPECT_EQ(changes().size(), 1u);
}

TEST_F(HostKeys, ADatabaseWithoutTheTableHasNoKeysAndNoChanges) {
    nasops::testing::TempDir other{"nasops-host-keys-none"};
    SQLite::Database db((other.path() / "empty.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    EXPECT_TRUE(read_host_keys(db).value().empty());
    EXPECT_TRUE(unacknowledged_host_key_changes(db).value().empty());
}
