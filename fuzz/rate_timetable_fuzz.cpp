// --bwlimit and [sync] bwlimit: a rate or a timetable of rates by time of
// day. Whatever is accepted answers for every minute of the week; a constant
// timetable answers the same everywhere, an unlimited one never limits; a
// separator more at either end changes nothing.

#include <string>

#include "fuzz_check.hpp"
#include "nasops/util/rate_timetable.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nasops;
    const auto text = fuzz::as_text(data, size);

    const auto table = RateTimetable::parse(text);
    if (!table) {
        FUZZ_CHECK(!table.error().message.empty());
        FUZZ_CHECK(table.error().code == ExitCode::usage);
        return 0;
    }
    const auto first = table->at(0);
    for (int minute = 0; minute < k_minutes_per_week; minute += 7) {
        const auto limit = table->at(minute);
        if (table->constant()) FUZZ_CHECK(limit == first);
        if (table->unlimited()) FUZZ_CHECK(!limit);
        if (limit) FUZZ_CHECK(*limit > 0);
    }
    static_cast<void>(format_rate_limit(first));
    if (text.find(',') != std::string_view::npos) {
        const auto padded = RateTimetable::parse("; " + std::string(text) + " ;");
        FUZZ_CHECK(padded.has_value() && *padded == *table);
    }
    return 0;
}
