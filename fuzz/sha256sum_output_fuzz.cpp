// What `sha256sum -- FILE...` prints on the NAS, read back by nasops-sync's
// batch verify. The input is the output, then after a NUL byte the names
// asked for, NUL-separated. Every name gets an answer in its place, and an
// answer is 64 hex digits.

#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "nasops/util/sha256.hpp"
#include "sync/sha256sum_output.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = nasops::fuzz::as_text(data, size);
    const auto nul = text.find('\0');
    const auto output = text.substr(0, nul);
    std::vector<std::string> names;
    if (nul != std::string_view::npos) {
        text.remove_prefix(nul + 1);
        while (true) {
            const auto next = text.find('\0');
            names.emplace_back(text.substr(0, next));
            if (next == std::string_view::npos) break;
            text.remove_prefix(next + 1);
        }
    }
    const auto digests = nasops::sync::parse_sha256sum_output(output, names);
    FUZZ_CHECK(digests.size() == names.size());
    for (const auto& digest : digests) {
        if (digest) FUZZ_CHECK(digest->size() == nasops::k_sha256_hex_length && nasops::is_sha256_hex(*digest));
    }
    return 0;
}
