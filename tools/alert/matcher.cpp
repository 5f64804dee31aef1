#include "alert/matcher.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "nasops/util/text.hpp"

namespace nasops::alert {

nlohmann::json labels_json(const Labels& labels) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : labels) j[k] = v;
    return j;
}

Labels labels_from_json(const nlohmann::json& object) {
    Labels labels;
    if (!object.is_object()) return labels;
    for (const auto& [k, v] : object.items()) {
        if (v.is_string()) labels.emplace(k, v.get<std::string>());
    }
    return labels;
}

std::string labels_inline(const Labels& labels, std::initializer_list<std::string_view> skip) {
    std::string out;
    for (const auto& [k, v] : labels) {
        if (std::ranges::find(skip, std::string_view(k)) != skip.end()) continue;
        out += fmt::format("{}{}={}", out.empty() ? "" : " ", k, v);
    }
    return out;
}

namespace {

bool valid_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
    }
    return true;
}

std::string json_text(const nlohmann::json& j) {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_null()) return {};
    return j.dump();
}

// A value as Alertmanager's ParseMatcher reads it: in optional double quotes,
// \" \\ and \n unescaped, any other backslash kept as it is; nullopt for a
// double quote that is neither escaped nor the closing one.
std::optional<std::string> unquote(std::string_view raw) {
    bool open_quote = raw.starts_with('"');
    if (open_quote) raw.remove_prefix(1);
    std::string value;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c == '\\' && i + 1 < raw.size()) {
            const char next = raw[++i];
            if (next == 'n') {
                value += '\n';
            } else {
                if (next != '"' && next != '\\') value += '\\';
                value += next;
            }
        } else if (c == '"') {
            if (!open_quote || i + 1 != raw.size()) return std::nullopt;
            open_quote = false;
        } else {
            value += c;
        }
    }
    if (open_quote) return std::nullopt;
    return value;
}

// Whether `value` written bare after its operator reads back as itself: no
// quote, backslash or control character, no blank at either end, and no
// leading '=' or '~' that would read as part of the operator (a="~x").
bool reads_back_bare(std::string_view value) {
    if (value.empty()) return true;
    if (value != trim(value) || value.front() == '=' || value.front() == '~') return false;
    return std::ranges::none_of(
        value, [](char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::string quoted_and_escaped(std::string_view value) {
    std::string out = "\"";
    for (char c : value) {
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

}  // namespace

std::string_view match_op_text(MatchOp op) noexcept {
    switch (op) {
        case MatchOp::equal: return "=";
        case MatchOp::not_equal: return "!=";
        case MatchOp::regex: return "=~";
        case MatchOp::not_regex: return "!~";
    }
    return "=";
}

namespace {

// The operator at the front of `text`, taken off it: "=~" before "=", so that
// "=~x" is a regex and never equality with "~x".
std::optional<MatchOp> take_operator(std::string_view& text) {
    for (const auto op : {MatchOp::regex, MatchOp::not_equal, MatchOp::not_regex, MatchOp::equal}) {
        if (text.starts_with(match_op_text(op))) {
            text.remove_prefix(match_op_text(op).size());
            return op;
        }
    }
    return std::nullopt;
}

}  // namespace

Result<Matcher> Matcher::make(std::string_view name, MatchOp op, std::string value) {
    if (!valid_name(name)) {
        return fail(ExitCode::usage, fmt::format("invalid matcher name '{}' (letters, digits, '_', '.', '-')", name));
    }
    Matcher m;
    m.m_name = std::string(name);
    m.m_path = FieldPath(name);
    m.m_op = op;
    m.m_value = std::move(value);
    if (op == MatchOp::regex || op == MatchOp::not_regex) {
        re2::RE2::Options options;
        options.set_log_errors(false);
        auto regex = std::make_shared<const re2::RE2>(m.m_value, options);
        if (!regex->ok()) {
            return fail(ExitCode::usage, fmt::format("invalid regular expression '{}': {}", m.m_value, regex->error()));
        }
        m.m_regex = std::move(regex);
    }
    return m;
}

Result<Matcher> Matcher::from_pair(std::string_view name, std::string_view value) {
    const auto op = take_operator(value).value_or(MatchOp::equal);
    return make(name, op, std::string(value));
}

Result<Matcher> Matcher::parse(std::string_view text) {
    const auto bad = [&](std::string_view why) {
        return fail(ExitCode::usage, fmt::format("invalid matcher '{}': {}", text, why));
    };
    constexpr std::string_view expected = "expected name=value, name!=value, name=~regex or name!~regex";
    const auto op_at = text.find_first_of("=!");
    if (op_at == std::string_view::npos) return bad(expected);
    const auto name = trim(text.substr(0, op_at));
    if (name.empty()) return bad(expected);
    auto rest = text.substr(op_at);
    const auto op = take_operator(rest);
    if (!op) return bad(expected);
    auto value = unquote(trim(rest));
    if (!value) return bad("the value has a double quote that is neither escaped (\\\") nor the closing one");
    auto m = make(name, *op, std::move(*value));
    if (!m) return bad(m.error().message);
    return m;
}

bool Matcher::matches(std::string_view value) const {
    switch (m_op) {
        case MatchOp::equal: return value == m_value;
        case MatchOp::not_equal: return value != m_value;
        case MatchOp::regex: return re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *m_regex);
        case MatchOp::not_regex: return !re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *m_regex);
    }
    return false;
}

bool Matcher::matches_record(const nlohmann::json& record) const {
    const auto* j = m_path.find(record);
    if (j == nullptr) return matches("");
    if (j->is_string()) return matches(j->get_ref<const std::string&>());
    return matches(json_text(*j));
}

bool Matcher::matches_labels(const Labels& labels) const {
    const auto it = labels.find(m_name);
    return matches(it == labels.end() ? std::string_view() : std::string_view(it->second));
}

std::string Matcher::to_string() const {
    return m_name + std::string(match_op_text(m_op)) +
           (reads_back_bare(m_value) ? m_value : quoted_and_escaped(m_value));
}

bool matches_all(const std::vector<Matcher>& matchers, const Labels& labels) {
    for (const auto& m : matchers) {
        if (!m.matches_labels(labels)) return false;
    }
    return true;
}

}  // namespace nasops::alert
