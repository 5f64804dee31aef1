#include "nasops/record/json_fast.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <system_error>

#include "nasops/util/utf8.hpp"

namespace nasops {

namespace {

using nlohmann::json;

constexpr int k_max_depth = 256;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

// Recursive descent over a byte range. Every member function returns false as
// soon as the text is not one it accepts; a null `slot` checks a value without
// building it.
class Parser {
public:
    Parser(const char* begin, const char* end, const std::vector<std::string>* keep)
        : m_p(begin), m_end(end), m_keep(keep) {}

    bool document(json& out) {
        skip_whitespace();
        if (!value(&out, 0)) return false;
        skip_whitespace();
        return m_p == m_end;
    }

    // The whole text is one object: its top-level members, values checked but not built.
    bool members(std::vector<JsonMember>& out) {
        out.clear();
        skip_whitespace();
        if (m_p == m_end || *m_p != '{') return false;
        ++m_p;
        skip_whitespace();
        if (m_p < m_end && *m_p == '}') return end_of_object();
        while (true) {
            if (m_p == m_end || *m_p != '"') return false;
            JsonMember member;
            const char* key = ++m_p;
            m_escaped = false;
            if (!string(nullptr)) return false;
            member.key = std::string_view(key, static_cast<std::size_t>(m_p - 1 - key));
            member.key_escaped = m_escaped;
            skip_whitespace();
            if (m_p == m_end || *m_p != ':') return false;
            ++m_p;
            skip_whitespace();
            if (m_p == m_end) return false;
            const char* start = m_p;
            member.kind = kind_at(*m_p);
            m_escaped = false;
            if (!value(nullptr, 1)) return false;
            if (member.kind == JsonKind::string) {
                member.value = std::string_view(start + 1, static_cast<std::size_t>(m_p - 1 - (start + 1)));
                member.value_escaped = m_escaped;
            } else {
                member.value = std::string_view(start, static_cast<std::size_t>(m_p - start));
            }
            out.push_back(member);
            skip_whitespace();
            if (m_p == m_end) return false;
            if (*m_p == '}') return end_of_object();
            if (*m_p != ',') return false;
            ++m_p;
            skip_whitespace();
        }
    }

    // After an opening quote: the string's unescaped text.
    bool unquote(std::string& out) { return string(&out); }

private:
    static JsonKind kind_at(char c) {
        switch (c) {
            case '{': return JsonKind::object;
            case '[': return JsonKind::array;
            case '"': return JsonKind::string;
            case 't':
            case 'f': return JsonKind::boolean;
            case 'n': return JsonKind::null;
            default: return JsonKind::number;
        }
    }

    bool end_of_object() {
        ++m_p;  // '}'
        skip_whitespace();
        return m_p == m_end;
    }

    void skip_whitespace() {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r')) ++m_p;
    }

    bool value(json* slot, int depth) {
        if (m_p == m_end) return false;
        switch (*m_p) {
            case '{': return object(slot, depth + 1);
            case '[': return array(slot, depth + 1);
            case '"': {
                ++m_p;
                if (slot == nullptr) return string(nullptr);
                std::string text;
                if (!string(&text)) return false;
                *slot = std::move(text);
                return true;
            }
            case 't': return literal("true", slot, true);
            case 'f': return literal("false", slot, false);
            case 'n': return literal("null", slot, nullptr);
            default: return number(slot);
        }
    }

    bool literal(std::string_view word, json* slot, json value) {
        if (static_cast<std::size_t>(m_end - m_p) < word.size() || std::string_view(m_p, word.size()) != word) {
            return false;
        }
        m_p += word.size();
        if (slot != nullptr) *slot = std::move(value);
        return true;
    }

    bool object(json* slot, int depth) {
        if (depth > k_max_depth) return false;
        ++m_p;  // '{'
        json::object_t* members = nullptr;
        if (slot != nullptr) {
            *slot = json::object();
            members = slot->get_ptr<json::object_t*>();
        }
        skip_whitespace();
        if (m_p < m_end && *m_p == '}') {
            ++m_p;
            return true;
        }
        std::string key;
        while (true) {
            if (m_p == m_end || *m_p != '"') return false;
            ++m_p;
            key.clear();
            if (!string(members != nullptr ? &key : nullptr)) return false;
            skip_whitespace();
            if (m_p == m_end || *m_p != ':') return false;
            ++m_p;
            skip_whitespace();
            json* member = nullptr;
            if (members != nullptr && (depth != 1 || kept(key))) member = &(*members)[key];
            if (!value(member, depth)) return false;
            skip_whitespace();
            if (m_p == m_end) return false;
            if (*m_p == '}') {
                ++m_p;
                return true;
            }
            if (*m_p != ',') return false;
            ++m_p;
            skip_whitespace();
        }
    }

    bool array(json* slot, int depth) {
        if (depth > k_max_depth) return false;
        ++m_p;  // '['
        json::array_t* elements = nullptr;
        if (slot != nullptr) {
            *slot = json::array();
            elements = slot->get_ptr<json::array_t*>();
        }
        skip_whitespace();
        if (m_p < m_end && *m_p == ']') {
            ++m_p;
            return true;
        }
        while (true) {
            json* element = elements != nullptr ? &elements->emplace_back() : nullptr;
            if (!value(element, depth)) return false;
            skip_whitespace();
            if (m_p == m_end) return false;
            if (*m_p == ']') {
                ++m_p;
                return true;
            }
            if (*m_p != ',') return false;
            ++m_p;
            skip_whitespace();
        }
    }

    // A linear scan that compares lengths first: the lists are short, and
    // most keys differ in length from most entries.
    bool kept(const std::string& key) const {
        if (m_keep == nullptr) return true;
        return std::ranges::any_of(*m_keep, [&](const std::string& k) {
            return k.size() == key.size() && std::memcmp(k.data(), key.data(), k.size()) == 0;
        });
    }

    // After the opening quote: reads up to and past the closing quote,
    // appending the unescaped text to *text when it is not null.
    bool string(std::string* text) {
        const char* run = m_p;  // start of the bytes not yet appended
        while (true) {
            while (m_p < m_end) {
                const auto c = static_cast<unsigned char>(*m_p);
                if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
                ++m_p;
            }
            if (m_p == m_end) return false;
            const auto c = static_cast<unsigned char>(*m_p);
            if (c == '"') {
                if (text != nullptr) text->append(run, m_p);
                ++m_p;
                return true;
            }
            if (c < 0x20) return false;
            if (c >= 0x80) {
                if (!utf8_sequence()) return false;
                continue;
            }
            if (text != nullptr) text->append(run, m_p);
            m_escaped = true;
            ++m_p;  // '\\'
            if (!escape(text)) return false;
            run = m_p;
        }
    }

    bool utf8_sequence() {
        const auto length = utf8_length(m_p, m_end);
        if (length == 0) return false;
        m_p += length;
        return true;
    }

    bool escape(std::string* text) {
        if (m_p == m_end) return false;
        char out = 0;
        switch (*m_p++) {
            case '"': out = '"'; break;
            case '\\': out = '\\'; break;
            case '/': out = '/'; break;
            case 'b': out = '\b'; break;
            case 'f': out = '\f'; break;
            case 'n': out = '\n'; break;
            case 'r': out = '\r'; break;
            case 't': out = '\t'; break;
            case 'u': return unicode_escape(text);
            default: return false;
        }
        if (text != nullptr) text->push_back(out);
        return true;
    }

    bool hex4(std::uint32_t& out) {
        if (m_end - m_p < 4) return false;
        out = 0;
        for (int i = 0; i < 4; ++i) {
            const int digit = hex_digit(*m_p++);
            if (digit < 0) return false;
            out = out << 4 | static_cast<std::uint32_t>(digit);
        }
        return true;
    }

    // After "\u": a code point, a surrogate pair spelt as two escapes.
    bool unicode_escape(std::string* text) {
        std::uint32_t cp = 0;
        if (!hex4(cp)) return false;
        if (cp >= 0xdc00 && cp <= 0xdfff) return false;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u') return false;
            m_p += 2;
            std::uint32_t low = 0;
            if (!hex4(low) || low < 0xdc00 || low > 0xdfff) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        }
        if (text != nullptr) append_utf8(*text, cp);
        return true;
    }

    bool digits() {
        if (m_p == m_end || !is_digit(*m_p)) return false;
        while (m_p < m_end && is_digit(*m_p)) ++m_p;
        return true;
    }

    // RFC 8259's number; converted even when not stored, so that a number
    // nlohmann would refuse (out of range) is refused wherever it stands.
    bool number(json* slot) {
        const char* start = m_p;
        if (*m_p == '-') ++m_p;
        if (m_p == m_end) return false;
        if (*m_p == '0') {
            ++m_p;
        } else if (!digits()) {
            return false;
        }
        bool integer = true;
        if (m_p < m_end && *m_p == '.') {
            integer = false;
            ++m_p;
            if (!digits()) return false;
        }
        if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
            integer = false;
            ++m_p;
            if (m_p < m_end && (*m_p == '+' || *m_p == '-')) ++m_p;
            if (!digits()) return false;
        }
        if (integer) {
            // As nlohmann: an integer that fits is stored as one, else as a double.
            if (*start == '-') {
                std::int64_t v = 0;
                const auto r = std::from_chars(start, m_p, v);
                if (r.ec == std::errc{} && r.ptr == m_p) {
                    if (slot != nullptr) *slot = v;
                    return true;
                }
            } else {
                std::uint64_t v = 0;
                const auto r = std::from_chars(start, m_p, v);
                if (r.ec == std::errc{} && r.ptr == m_p) {
                    if (slot != nullptr) *slot = v;
                    return true;
                }
            }
        }
        double v = 0;
        const auto r = std::from_chars(start, m_p, v);
        if (r.ec != std::errc{} || r.ptr != m_p || !std::isfinite(v)) return false;
        if (slot != nullptr) *slot = v;
        return true;
    }

    const char* m_p;
    const char* m_end;
    const std::vector<std::string>* m_keep;
    bool m_escaped = false;  // the last string read had a backslash escape
};

}  // namespace

bool parse_json_fast(const char* begin, const char* end, nlohmann::json& out, const std::vector<std::string>* keep) {
    Parser parser(begin, end, keep);
    return parser.document(out);
}

bool scan_json_object(const char* begin, const char* end, std::vector<JsonMember>& members) {
    Parser parser(begin, end, nullptr);
    return parser.members(members);
}

void unescape_json_string(std::string_view escaped, std::string& out) {
    // Only called on text a scan accepted, so the parse cannot fail.
    std::string quoted;
    quoted.reserve(escaped.size() + 1);
    quoted.append(escaped).push_back('"');
    out.clear();
    Parser parser(quoted.data(), quoted.data() + quoted.size(), nullptr);
    static_cast<void>(parser.unquote(out));
}

void append_json_string(std::string& out, std::string_view text) {
    static constexpr std::string_view k_hex = "0123456789abcdef";
    out.push_back('"');
    const char* p = text.data();
    const char* const end = p + text.size();
    const char* run = p;  // start of the bytes not yet appended
    while (p < end) {
        const auto c = static_cast<unsigned char>(*p);
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            ++p;
            continue;
        }
        if (c >= 0x80) {
            if (const auto length = utf8_length(p, end); length > 0) {
                p += length;
                continue;
            }
        }
        out.append(run, p);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out.push_back(k_hex[c >> 4]);
                    out.push_back(k_hex[c & 0xf]);
                } else {
                    out += "\xef\xbf\xbd";  // U+FFFD for a byte that is not UTF-8
                }
        }
        run = ++p;
    }
    out.append(run, p);
    out.push_back('"');
}

}  // namespace nasops
