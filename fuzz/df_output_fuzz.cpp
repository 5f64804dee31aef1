// What `df -P -k` prints on the NAS (nasops-sync's free-space check,
// nasops-health's nas_disk, nasops-capacity's samples). A reading has no
// more free bytes than the file system holds.

#include "fuzz_check.hpp"
#include "nasops/ssh/df_output.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (const auto st = nasops::parse_df_output(nasops::fuzz::as_text(data, size))) {
        FUZZ_CHECK(st->free_bytes <= st->total_bytes);
        FUZZ_CHECK(st->total_bytes % 1024 == 0 && st->available_bytes % 1024 == 0);
    }
    return 0;
}
