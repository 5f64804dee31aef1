// The fast JSON parser of the record reader against nlohmann::json::parse,
// the reference it falls back to. They agree when:
//   - the fast parser never accepts a text nlohmann rejects;
//   - when both accept, the two values are the same tree: the same type at
//     every node (number_unsigned, number_integer and number_float told
//     apart, so 1 and 1.0 differ), equal numbers, strings byte for byte, the
//     same object keys (of duplicates, the last) and array elements in order;
//   - with a list of top-level keys to keep, the fast parser accepts the same
//     texts and builds the full object with the other top-level keys removed;
//   - scan_json_object accepts exactly the objects parse_json_fast accepts,
//     and its members, unescaped, are the object's keys and values.
// Texts the fast parser leaves to nlohmann (deep nesting, numbers beyond
// double) may be accepted by nlohmann alone; that is allowed.
// append_json_string, for any bytes, writes a JSON string nlohmann reads back
// as the same text when the bytes are UTF-8.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "nasops/record/json_fast.hpp"
#include "nasops/util/utf8.hpp"

namespace {

using nlohmann::json;

bool same_tree(const json& a, const json& b) {
    if (a.type() != b.type()) return false;
    switch (a.type()) {
        case json::value_t::object: {
            if (a.size() != b.size()) return false;
            for (auto it = a.begin(), jt = b.begin(); it != a.end(); ++it, ++jt) {
                if (it.key() != jt.key() || !same_tree(*it, *jt)) return false;
            }
            return true;
        }
        case json::value_t::array: {
            if (a.size() != b.size()) return false;
            for (std::size_t i = 0; i < a.size(); ++i) {
                if (!same_tree(a[i], b[i])) return false;
            }
            return true;
        }
        case json::value_t::number_float: {
            // Bit-equal, so that -0.0 and 0.0 differ.
            const double x = a.get<double>(), y = b.get<double>();
            return x == y && std::signbit(x) == std::signbit(y);
        }
        default: return a == b;
    }
}

bool is_utf8(std::string_view bytes) {
    const char* p = bytes.data();
    const char* const end = p + bytes.size();
    while (p < end) {
        if (static_cast<unsigned char>(*p) < 0x80) {
            ++p;
            continue;
        }
        const auto length = nasops::utf8_length(p, end);
        if (length == 0) return false;
        p += length;
    }
    return true;
}

std::string unescaped(std::string_view text, bool escaped) {
    if (!escaped) return std::string(text);
    std::string out;
    nasops::unescape_json_string(text, out);
    return out;
}

void check_scan(std::string_view text, bool fast_ok, const json& fast) {
    std::vector<nasops::JsonMember> members;
    const bool scanned = nasops::scan_json_object(text.data(), text.data() + text.size(), members);
    FUZZ_CHECK(scanned == (fast_ok && fast.is_object()));
    if (!scanned) return;
    json rebuilt = json::object();
    for (const auto& m : members) {
        const auto key = unescaped(m.key, m.key_escaped);
        FUZZ_CHECK(fast.contains(key));
        if (m.kind == nasops::JsonKind::string) {
            rebuilt[key] = unescaped(m.value, m.value_escaped);
        } else {
            rebuilt[key] = json::parse(m.value);
        }
    }
    FUZZ_CHECK(same_tree(rebuilt, fast));
}

void check_keep(std::string_view text, bool fast_ok, const json& fast) {
    static const std::vector<std::string> keep{"host", "kind", "ts", "v", "value"};
    json kept;
    const bool kept_ok = nasops::parse_json_fast(text.data(), text.data() + text.size(), kept, &keep);
    FUZZ_CHECK(kept_ok == fast_ok);
    if (!fast_ok || !fast.is_object()) return;
    json expected = fast;
    for (auto it = expected.begin(); it != expected.end();) {
        it = std::ranges::binary_search(keep, it.key()) ? std::next(it) : expected.erase(it);
    }
    FUZZ_CHECK(same_tree(kept, expected));
}

void check_append_string(std::string_view bytes) {
    std::string written;
    nasops::append_json_string(written, bytes);
    const auto back = json::parse(written);  // throws, and so crashes, when not JSON
    FUZZ_CHECK(back.is_string());
    if (is_utf8(bytes)) {
        FUZZ_CHECK(back.get_ref<const std::string&>() == bytes);
        FUZZ_CHECK(written == json(std::string(bytes)).dump());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = nasops::fuzz::as_text(data, size);

    json fast;
    const bool fast_ok = nasops::parse_json_fast(text.data(), text.data() + text.size(), fast);
    json reference;
    bool reference_ok = true;
    try {
        reference = json::parse(text);
    } catch (const json::exception&) {  // parse_error, and out_of_range for a number beyond double
        reference_ok = false;
    }
    FUZZ_CHECK(!fast_ok || reference_ok);
    if (fast_ok) FUZZ_CHECK(same_tree(fast, reference));

    check_scan(text, fast_ok, fast);
    check_keep(text, fast_ok, fast);
    check_append_string(text);
    return 0;
}
