// Durations, sizes, rates, ratios and threshold ranges: the values of the
// command line and nasops.toml. What is accepted prints back to a text that
// parses to the same value.

#include <cmath>

#include "fuzz_check.hpp"
#include "nasops/util/units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nasops;
    const auto text = fuzz::as_text(data, size);

    if (const auto d = parse_duration(text)) {
        const auto again = parse_duration(format_duration(*d));
        FUZZ_CHECK(again && *again == *d);
    } else {
        FUZZ_CHECK(!d.error().message.empty());
    }

    static_cast<void>(format_size(parse_size(text).value_or(0)));
    if (const auto rate = parse_rate(text); !rate) FUZZ_CHECK(!rate.error().message.empty());

    if (const auto ratio = parse_ratio(text)) FUZZ_CHECK(*ratio >= 0 && *ratio <= 1);

    if (const auto range = parse_range(text)) {
        const auto again = parse_range(range->to_string());
        FUZZ_CHECK(again.has_value());
        FUZZ_CHECK(again->inside == range->inside && again->start_infinite == range->start_infinite &&
                   again->end_infinite == range->end_infinite);
        FUZZ_CHECK(range->start_infinite || again->start == range->start);
        FUZZ_CHECK(range->end_infinite || again->end == range->end);
        static_cast<void>(range->alerts(range->start));
        static_cast<void>(range->alerts(NAN));
    }
    return 0;
}
