// Libraries loaded at run time: nasops-trace export's libcurl and libcrypto,
// the real ones, and the errors for a library or function that is not there.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nasops/net/curl_api.hpp"
#include "nasops/net/curl_easy.hpp"
#include "nasops/util/sha256.hpp"
#include "nasops/util/shared_library.hpp"

using namespace nasops;
using ::testing::HasSubstr;

TEST(SharedLibrary, ResolvesAFunctionAndCallsIt) {
    auto libc = SharedLibrary::open("libc.so.6");
    ASSERT_TRUE(libc) << libc.error().message;
    auto length = libc->function<std::size_t(const char*)>("strlen");
    ASSERT_TRUE(length) << length.error().message;
    EXPECT_EQ((*length)("nasops"), 6u);
}

TEST(SharedLibrary, AMissingLibraryIsUnavailableAndNamed) {
    const auto missing = SharedLibrary::open("libnasops-not-installed.so.1");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ExitCode::unavailable);
    EXPECT_THAT(missing.error().message, HasSubstr("cannot load libnasops-not-installed.so.1"));
}

TEST(SharedLibrary, AMissingFunctionIsUnavailableAndNamed) {
    auto libc = SharedLibrary::open("libc.so.6");
    ASSERT_TRUE(libc) << libc.error().message;
    const auto missing = libc->function<void()>("nasops_no_such_function");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ExitCode::unavailable);
    EXPECT_THAT(missing.error().message, HasSubstr("libc.so.6 has no function nasops_no_such_function"));
}

TEST(SharedLibrary, LoadedLibcurlMakesAHandle) {
    const auto curl = load_curl();
    ASSERT_TRUE(curl) << curl.error().message;
    const auto easy = make_curl_easy(curl->api, Duration{1'000}, Duration{1'000});
    ASSERT_NE(easy, nullptr);
    EXPECT_STREQ(curl->api.easy_strerror(CURLE_OK), linked_curl().easy_strerror(CURLE_OK));
    auto list = make_curl_slist(curl->api);
    curl_slist_push(list, "Expect:");
    EXPECT_STREQ(list->data, "Expect:");
}

TEST(SharedLibrary, LibcurlThatCannotBeLoadedIsUnavailable) {
    const auto curl = load_curl("libcurl-nasops-missing.so.4");
    ASSERT_FALSE(curl);
    EXPECT_EQ(curl.error().code, ExitCode::unavailable);
    EXPECT_THAT(curl.error().message, HasSubstr("libcurl-nasops-missing.so.4"));
}

TEST(SharedLibrary, LoadedLibcryptoHashesAsTheLinkedOne) {
    const auto crypto = load_sha256();
    ASSERT_TRUE(crypto) << crypto.error().message;
    // FIPS 180-2, appendix B.1.
    const std::string abc_digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    EXPECT_EQ(sha256_hex("abc", crypto->api), abc_digest);
    EXPECT_EQ(sha256_hex("abc"), abc_digest);
    Sha256 incremental(crypto->api);
    incremental.update("a");
    incremental.update("bc");
    EXPECT_EQ(incremental.hex_digest(), abc_digest);
}
