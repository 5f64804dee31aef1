#pragma once

// Wall-clock time as an injectable interface, so that timestamps, durations and
// alert timers can be tested without waiting on real time; and the one
// timestamp format every record carries (RFC 3339, UTC, milliseconds).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"

namespace nasops {

using SystemTimePoint = std::chrono::system_clock::time_point;

class Clock {
public:
    virtual ~Clock() = default;
    // The current wall-clock time.
    virtual SystemTimePoint now() const = 0;
};

// The real clock (std::chrono::system_clock).
class SystemClock final : public Clock {
public:
    SystemTimePoint now() const override;
};

// A clock that only moves when told to, for tests. Safe to read from one thread
// while another sets or advances it.
class ManualClock final : public Clock {
public:
    explicit ManualClock(SystemTimePoint start = SystemTimePoint{});

    SystemTimePoint now() const override;
    void set(SystemTimePoint t);
    void advance(std::chrono::system_clock::duration d);

private:
    std::atomic<std::chrono::system_clock::rep> m_ticks;
};

// "2026-11-22T04:16:40.123Z": UTC, always three fraction digits, the time
// truncated (floored) to the millisecond.
std::string rfc3339_millis(SystemTimePoint t);
// "2026-11-22T04:16:40.123456789Z": the same with nine fraction digits, as
// span records carry (OTLP counts in nanoseconds).
std::string rfc3339_nanos(SystemTimePoint t);

// Parses an RFC 3339 date-time: "2026-11-22T04:16:40Z", "…40.123Z",
// "…40.123456789+02:00" ('t' and 'z' may be lower case; "-00:00" means UTC).
// Fraction digits beyond nanoseconds are dropped. Leap seconds (:60) and times
// outside what system_clock holds (years 1678..2261) are refused.
// Errors quote the text and say what is wrong (ExitCode::data_error).
Result<SystemTimePoint> parse_rfc3339(std::string_view text);

}  // namespace nasops
