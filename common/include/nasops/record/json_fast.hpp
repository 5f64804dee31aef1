#pragma once

// JSON for hot loops over records: one line of NDJSON parsed into an
// nlohmann::json about five times faster than nlohmann::json::parse (which
// lexes a byte at a time through an input adapter), the top-level members of
// an object listed without building any of them, and strings written as JSON
// text without a DOM. The record reader and nasops-trace's span reader use them.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace nasops {

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

enum class JsonKind { object, array, string, number, boolean, null };

// One top-level member of an object, as text inside the scanned line.
struct JsonMember {
    std::string_view key;  // between the quotes, still escaped when key_escaped
    JsonKind kind = JsonKind::null;
    // The value's JSON text; for a string, what is between the quotes, still
    // escaped when value_escaped.
    std::string_view value;
    bool key_escaped = false;
    bool value_escaped = false;
};

// Checks [begin, end) exactly as parse_json_fast does and, when it is one
// object, lists its top-level members in order (duplicates included) into
// `members` without building any value. False for anything parse_json_fast
// would refuse, and for valid JSON that is not an object.
bool scan_json_object(const char* begin, const char* end, std::vector<JsonMember>& members);

// The text of a string a scan found escaped (JsonMember::key or ::value when
// *_escaped), unescaped into `out`.
void unescape_json_string(std::string_view escaped, std::string& out);

// Appends `text` as a JSON string, quotes included, escaped as nlohmann's
// dump escapes it; bytes that are not UTF-8 become U+FFFD.
void append_json_string(std::string& out, std::string_view text);

}  // namespace nasops
