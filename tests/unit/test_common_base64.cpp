#include <gtest/gtest.h>

#include <string>

#include "nasops/util/base64.hpp"

using namespace nasops;

namespace {

struct Vector {
    std::string bytes;
    std::string padded;
    std::string unpadded;
};

// RFC 4648 section 10, and bytes that are not text.
const Vector k_vectors[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    {std::string("\xff\xfe\x00", 3), "//4A", "//4A"},
    {std::string("\x00\x00\x00\x00", 4), "AAAAAA==", "AAAAAA"},
};

}  // namespace

TEST(Base64, EncodesRfc4648VectorsWithAndWithoutPadding) {
    for (const auto& v : k_vectors) {
        EXPECT_EQ(base64_encode(v.bytes), v.padded) << v.padded;
        EXPECT_EQ(base64_encode(v.bytes, Base64Padding::no), v.unpadded) << v.padded;
    }
}

TEST(Base64, DecodesWhatItEncodesWithOrWithoutPadding) {
    for (const auto& v : k_vectors) {
        EXPECT_EQ(base64_decode(v.padded), v.bytes) << v.padded;
        EXPECT_EQ(base64_decode(v.unpadded), v.bytes) << v.unpadded;
    }
}

TEST(Base64, EncodesALongInputInOneLineAsMimeCallersExpect) {
    // EVP_EncodeBlock, unlike EVP_EncodeUpdate, never breaks lines.
    const std::string bytes(3000, 'x');
    const auto text = base64_encode(bytes);
    EXPECT_EQ(text.size(), 4000u);
    EXPECT_EQ(text.find('\n'), std::string::npos);
    EXPECT_EQ(base64_decode(text), bytes);
}

TEST(Base64, RejectsOtherCharactersAndImpossibleLengths) {
    for (const char* bad : {"Zm9v!", "Zm9vY", "Zm 9v", "Zm9v\n", "Zm-_"}) {
        EXPECT_FALSE(base64_decode(bad)) << bad;
    }
}
