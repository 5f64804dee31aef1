#pragma once

// A JSON parser for the record reader's hot path: one line of NDJSON into an
// nlohmann::json, about five times faster than nlohmann::json::parse, which
// lexes a byte at a time through an input adapter. Internal to libnasops.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace nasops::detail {

// Parses the JSON text [begin, end) (RFC 8259, UTF-8, surrounding whitespace
// allowed) into `out`, with nlohmann's value types: a non-negative integer is
// number_unsigned, a negative one number_integer, an integer too large for
// either or a number with a fraction or exponent number_float; of duplicate
// keys the last wins.
//
// Returns false, leaving `out` unspecified, for any text it does not accept:
// invalid JSON, and also valid JSON it leaves to nlohmann (numbers beyond the
// range of double, nesting deeper than 256). The caller then parses with
// nlohmann::json::parse, whose verdict and error message are the reference;
// so this parser must never accept a text nlohmann rejects.
//
// `keep`, when not null, lists the top-level keys to store; the values of other top-level keys are checked but not
// built, which saves most of the cost for a reader that needs a few fields.
bool parse_json_fast(const char* begin, const char* end, nlohmann::json& out,
                     const std::vector<std::string>* keep = nullptr);

}  // namespace nasops::detail
